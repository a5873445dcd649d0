import { parseArgs } from 'node:util';
import { isParseArgsError, messageOf, UsageError } from './errors';

/** One option of a verb: how it parses, and how its help line reads. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** The placeholder of its value in the help (FILE, N, URL). */
  readonly value?: string;
  readonly description?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The parsed values of a set of options: strings, booleans, lists for repeatable options. */
export type ValuesOf<O extends OptionSpecs> = {
  readonly [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string;
};

export interface Parsed<O extends OptionSpecs> {
  readonly values: ValuesOf<O> & { readonly help?: boolean };
  readonly positionals: readonly string[];
}

/** Every verb takes --help (and -h). */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Parses a verb's arguments strictly (util.parseArgs): an unknown option, a missing value or a
 * positional where none is taken is a UsageError.
 */
export function parseOptions<O extends OptionSpecs>(args: readonly string[], options: O, allowPositionals = true): Parsed<O> {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.multiple === true ? { multiple: true } : {}), ...(o.short === undefined ? {} : { short: o.short }) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...args], options: { ...config, ...HELP_OPTION }, strict: true, allowPositionals });
    return { values: values as Parsed<O>['values'], positionals };
  } catch (err: unknown) {
    if (isParseArgsError(err)) throw new UsageError(messageOf(err));
    throw err;
  }
}

/** A whole number option (or argument), at least `min`. */
export function wholeNumber(name: string, text: string | undefined, { min = 0 }: { min?: number } = {}): number {
  if (text === undefined) throw new UsageError(`--${name} is required`);
  if (!/^[0-9]+$/.test(text) || Number(text) < min)
    throw new UsageError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not "${text}"`);
  return Number(text);
}

/** How many positionals an argument pattern like `<key> <alias> [more]` takes: required and optional. */
export function arity(args: string | undefined): { readonly required: number; readonly optional: number } {
  const words = args === undefined ? [] : args.split(' ');
  return { required: words.filter((a) => a.startsWith('<')).length, optional: words.filter((a) => a.startsWith('[')).length };
}
