import type { Command, OptionSpecs, ValuesOf } from '@keyward/cli-kit';
import { moreHint, show, table, type Column } from '../output';
import { apiVerb } from './api-verb';
import { pages } from './client';

/** Paging options of a list verb. */
export const pageOptions = (limit: string) =>
  ({
    limit: { type: 'string', value: 'N', description: `items per page (${limit})` },
    cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
    all: { type: 'boolean', description: 'follow every page' },
  }) as const satisfies OptionSpecs;

export interface ListVerbSpec<T, O extends OptionSpecs> {
  readonly summary: string;
  readonly path: string;
  /** The page size range, for the help of --limit. */
  readonly limit: string;
  readonly columns: readonly Column<T>[];
  readonly options?: O;
  /** The query parameters the verb's own options make. */
  readonly params?: (values: ValuesOf<O>) => Readonly<Record<string, string | undefined>>;
}

/** A verb that lists a paged collection of key-api as a table (or --json), following pages with --all. */
export function listVerb<T, const O extends OptionSpecs>(spec: ListVerbSpec<T, O>): Command {
  return apiVerb({
    summary: spec.summary,
    options: { ...(spec.options ?? ({} as O)), ...pageOptions(spec.limit) },
    async run({ values, target, inv }) {
      const own = spec.params?.(values) ?? {};
      const paging = values as ValuesOf<ReturnType<typeof pageOptions>>;
      const page = await pages<T>(target(), spec.path, { ...own, limit: paging.limit, cursor: paging.cursor }, paging.all);
      show(inv, values.json, page, (p) => `${table(p.items, spec.columns)}${moreHint(p)}`);
    },
  });
}
