import type { Invocation } from '@keyward/cli-kit';

/** A column: its title and how a row shows in it. */
export type Column<T> = readonly [title: string, get: (row: T) => string | number | null | undefined];

/** Rows as aligned columns under a header. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((row) => columns.map(([, get]) => String(get(row) ?? '')));
  const widths = columns.map(([title], i) => Math.max(title.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([title]) => title.toUpperCase())), ...cells.map(line)].join('\n');
}

/** Prints the JSON (for --json) or the text a verb makes of it. */
export function show<T>(inv: Invocation, json: boolean | undefined, data: T, text: (data: T) => string): void {
  inv.print(json === true ? JSON.stringify(data) : text(data));
}

/** The hint under a page that has more. */
export const moreHint = (page: { readonly nextCursor: string | null }): string =>
  page.nextCursor !== null && page.nextCursor !== '' ? `\n(more: --cursor ${page.nextCursor}, or --all)` : '';
