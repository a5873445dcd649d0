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

/** The compatibility table (one row per case) and the failures grouped by cause, as markdown. */
export function markdownReport(results: readonly CaseResult[], identity: string): string {
  const passed = results.filter((r) => r.outcome === 'pass').length;
  const lines = [
    `${passed} of ${results.length} cases pass (identity: ${identity}).`,
    '',
    '| Case | KMIP | Result | Requests | Cause of the first difference |',
    '|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.id} | ${r.version} | ${r.outcome} | ${r.outcome === 'pass' ? r.steps : `${r.step ?? '?'} of ${r.steps}`} | ${cell(r.cause)} |`,
    ),
  ];
  const groups = new Map<string, string[]>();
  for (const r of results.filter((x) => x.outcome !== 'pass')) {
    const key = causeGroup(r.cause);
    groups.set(key, [...(groups.get(key) ?? []), r.id]);
  }
  if (groups.size > 0) {
    lines.push('', '| Failures by cause | Cases |', '|---|---|');
    for (const [cause, ids] of [...groups].sort((a, b) => b[1].length - a[1].length))
      lines.push(`| ${cell(cause, 200)} | ${ids.length}: ${ids.join(', ')} |`);
  }
  return `${lines.join('\n')}\n`;
}
