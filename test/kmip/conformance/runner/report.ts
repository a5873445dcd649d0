import type { CaseResult } from './runner';

const cell = (s: string, max = 180): string => {
  const flat = s.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The cause without what varies from run to run (identifiers, hex values), to group failures. */
export function causeGroup(cause: string): string {
  return cause
    .replace(/\b(key|prn|ten)_[A-Za-z0-9_-]+/g, '<id>')
    .replace(/[0-9a-f]{16,}/g, '<hex>')
    .replace(/\$UNIQUE_IDENTIFIER_[0-9]+/g, '$UNIQUE_IDENTIFIER_n')
    .replace(/expected .*$/, (m) => (m.length > 90 ? `${m.slice(0, 89)}…` : m));
}

/**
 * The compatibility table (one row per case, with why a failing case fails where `explained` says so) and the
 * failures grouped by cause, as markdown.
 */
export function markdownReport(results: readonly CaseResult[], identity: string, explained: Readonly<Record<string, string>> = {}): string {
  const passed = results.filter((r) => r.outcome === 'pass').length;
  const why = (r: CaseResult): string => (r.outcome !== 'pass' && explained[r.id] ? cell(explained[r.id]!, 400) : '');
  const lines = [
    `${passed} of ${results.length} cases pass (identity: ${identity}).`,
    '',
    '| Case | KMIP | Result | Requests | Cause of the first difference | Why |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.id} | ${r.version} | ${r.outcome} | ${r.outcome === 'pass' ? r.steps : `${r.step ?? '?'} of ${r.steps}`} | ${cell(r.cause)} | ${why(r)} |`,
    ),
  ];
  const failed = results.filter((x) => x.outcome !== 'pass');
  lines.push(
    ...grouped(
      'First difference, by cause',
      failed.map((r) => ({ cause: r.cause, id: r.id })),
    ),
  );
  const later = failed.flatMap((r) => r.later.map((l) => ({ cause: l.cause, id: r.id, step: l.step })));
  lines.push(...grouped('Later differences (the run goes on past the first; request numbers in brackets), by cause', later));
  return `${lines.join('\n')}\n`;
}

/** A table of causes (without what varies between runs) and the cases where each was found, most cases first. */
function grouped(title: string, found: readonly { cause: string; id: string; step?: number }[]): string[] {
  const groups = new Map<string, Map<string, number[]>>();
  for (const { cause, id, step } of found) {
    const cases = groups.get(causeGroup(cause)) ?? new Map<string, number[]>();
    cases.set(id, [...(cases.get(id) ?? []), ...(step === undefined ? [] : [step])]);
    groups.set(causeGroup(cause), cases);
  }
  if (groups.size === 0) return [];
  const where = (cases: Map<string, number[]>): string =>
    [...cases]
      .map(([id, steps]) =>
        steps.length > 0 ? `${id} (${steps.length > 6 ? `${steps.slice(0, 6).join(', ')}, …` : steps.join(', ')})` : id,
      )
      .join(', ');
  return [
    '',
    `| ${title} | Cases |`,
    '|---|---|',
    ...[...groups]
      .sort((a, b) => b[1].size - a[1].size)
      .map(([cause, cases]) => `| ${cell(cause, 200)} | ${cases.size}: ${where(cases)} |`),
  ];
}
