import { defineVerb, type Command, type Invocation, type OptionSpecs, type ValuesOf } from '@keyward/cli-kit';
import { CONNECTION_OPTIONS, connection, type Target } from './connection';

export interface ApiVerbInput<O extends OptionSpecs> {
  readonly values: ValuesOf<O> & ValuesOf<typeof CONNECTION_OPTIONS>;
  readonly positionals: readonly string[];
  /** The key-api, from the options and the environment (read when called: --help needs none). */
  target(): Target;
  readonly inv: Invocation;
}

export interface ApiVerbSpec<O extends OptionSpecs> {
  readonly summary: string;
  readonly args?: string;
  readonly details?: string;
  readonly options?: O;
  /** False for verbs that need no API key (public endpoints, enrollment). */
  readonly apiKey?: boolean;
  run(input: ApiVerbInput<O>): Promise<void>;
}

/** A verb that talks to key-api: its own options plus the connection options (help shows them apart). */
export function apiVerb<const O extends OptionSpecs>(spec: ApiVerbSpec<O>): Command {
  const own = spec.options ?? ({} as O);
  return defineVerb({
    summary: spec.summary,
    ...(spec.args === undefined ? {} : { args: spec.args }),
    ...(spec.details === undefined ? {} : { details: spec.details }),
    options: { ...CONNECTION_OPTIONS, ...own },
    sections: [
      { title: 'Options', options: own },
      { title: 'Connection', options: CONNECTION_OPTIONS },
    ],
    run: ({ values, positionals }, inv) => {
      const all = values as ApiVerbInput<O>['values'];
      return spec.run({ values: all, positionals, inv, target: () => connection(all, inv.io.env, { apiKey: spec.apiKey ?? true }) });
    },
  });
}
