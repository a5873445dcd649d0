import type { Actor, GrantState, KeyState, PrincipalState } from '@keyward/domain';
import { eventApprovalId, eventKeyId, type AuditEvent } from '@keyward/event-log';
import type { ReportData } from './audit.service';

/** Escapes text for HTML element content and quoted attribute values. Everything dynamic goes through it. */
export function escapeHtml(value: unknown): string {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
  return text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The content security policy the report is served with: no script, no external resource, inline style only. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STYLE = `
:root { --ink: #1b1f23; --muted: #57606a; --line: #d0d7de; --bad: #b42318; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 18pt; margin: 0 0 .25rem; }
h2 { font-size: 13pt; margin: 1.75rem 0 .5rem; border-bottom: 2px solid var(--ink); padding-bottom: .15rem; }
h3 { font-size: 11pt; margin: 1.1rem 0 .35rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 9pt; word-break: break-all; }
table { width: 100%; border-collapse: collapse; margin: .35rem 0 .75rem; font-size: 9.5pt; }
th, td { text-align: left; vertical-align: top; padding: .25rem .4rem; border-bottom: 1px solid var(--line); }
th { background: #f6f8fa; font-weight: 600; }
.verdict { padding: .5rem .75rem; border: 2px solid; margin: .75rem 0; font-weight: 600; }
.verdict.ok { color: var(--ok); border-color: var(--ok); }
.verdict.bad { color: var(--bad); border-color: var(--bad); }
.state { font-weight: 600; }
.none { color: var(--muted); font-style: italic; }
footer { margin-top: 2rem; color: var(--muted); font-size: 9pt; border-top: 1px solid var(--line); padding-top: .5rem; }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, .verdict, dl.facts { break-inside: avoid; }
  section.key { break-inside: avoid-page; }
  a { color: inherit; text-decoration: none; }
  th { background: none; border-bottom: 1.5px solid var(--ink); }
}`;

const actor = (a: Actor | undefined): string => (a ? `${escapeHtml(a.principalId)} <span class="none">(${escapeHtml(a.role)})</span>` : '');
const when = (iso: string | null | undefined): string =>
  iso ? `<span class="mono">${escapeHtml(iso)}</span>` : '<span class="none">—</span>';

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** A sentence for an event: what happened, in the words of the lifecycle. */
export function describeEvent(event: AuditEvent): string {
  const d = record(event.data);
  const s = (name: string): string => escapeHtml(d[name]);
  switch (event.type) {
    case 'key.created.v1': {
      const version = record(d.version);
      const description = typeof d.description === 'string' && d.description !== '' ? `, described as “${s('description')}”` : '';
      return `created ${s('keyType')}${d.alias ? `, alias <b>${s('alias')}</b>` : ''}${description}, version 1 (check value <code>${escapeHtml(version.kcv)}</code>)`;
    }
    case 'key.activated.v1':
      return d.reason === 'activation-date' ? 'activated on its activation date' : 'activated';
    case 'key.deactivated.v1':
      return d.reason === 'deactivation-date' ? 'deactivated on its deactivation date' : 'deactivated';
    case 'key.rotated.v1': {
      const version = record(d.version);
      return `rotated to version ${escapeHtml(version.version)} (check value <code>${escapeHtml(version.kcv)}</code>)`;
    }
    case 'key.compromised.v1':
      return `marked compromised as of ${when(d.compromiseDate as string)}: ${s('reason')}`;
    case 'key.destruction-scheduled.v1':
      return `destruction scheduled after ${when(d.destroyAfter as string)} (${s('waitingPeriodDays')}-day waiting period)`;
    case 'key.destruction-cancelled.v1':
      return 'scheduled destruction cancelled';
    case 'key.destroyed.v1':
      return `destroyed: material of versions ${escapeHtml(Array.isArray(d.versions) ? d.versions.join(', ') : '')} shredded`;
    case 'key.alias-set.v1':
      return `alias set to <b>${s('alias')}</b>${d.previous ? ` (was ${s('previous')})` : ''}`;
    case 'key.labels-changed.v1':
      return `labels changed: set ${escapeHtml(d.set)}${Array.isArray(d.removed) && d.removed.length > 0 ? `, removed ${escapeHtml(d.removed.join(', '))}` : ''}`;
    case 'key.description-set.v1':
      return `description set to “${s('description')}”`;
    case 'key.min-decryption-version-set.v1':
      return `minimum decryption version set to ${s('version')}`;
    case 'key.export-enabled.v1':
      return 'export enabled: its latest version may be retrieved, wrapped, over mutual TLS';
    case 'approval.requested.v1':
      return `requested approval <code>${s('approvalId')}</code> for ${s('operation')} (quorum ${s('quorum')}, expires ${when(d.expiresAt as string)})`;
    case 'approval.granted.v1':
      return `approved <code>${s('approvalId')}</code>`;
    case 'approval.executed.v1': {
      const approvers = Array.isArray(d.approvedBy) ? (d.approvedBy as Actor[]).map((a) => actor(a)).join(', ') : '';
      return `approval <code>${s('approvalId')}</code> reached its quorum and executed (requested by ${actor(d.requestedBy as Actor)}; approved by ${approvers})`;
    }
    case 'approval.failed.v1':
      return `approval <code>${s('approvalId')}</code> could not execute: ${s('reason')}`;
    case 'approval.rejected.v1':
      return `approval <code>${s('approvalId')}</code> rejected${d.reason ? `: ${s('reason')}` : ''}`;
    case 'tenant.onboarded.v1':
      return `tenant onboarded as “${s('name')}”`;
    case 'tenant.suspended.v1':
      return `tenant suspended${d.reason ? `: ${s('reason')}` : ''}`;
    case 'tenant.resumed.v1':
      return 'tenant resumed';
    case 'tenant.offboarded.v1':
      return 'tenant offboarded (KEK and all key material destroyed)';
    case 'tenant.policy-set.v1':
      return `policy set to <code>${escapeHtml(d.policy)}</code>`;
    case 'principal.created.v1':
      return `principal <code>${s('principalId')}</code> “${s('name')}” created with role ${s('role')}`;
    case 'principal.revoked.v1':
      return `principal <code>${s('principalId')}</code> revoked`;
    case 'principal.certificate-bound.v1':
      return `principal <code>${s('principalId')}</code> bound to a client certificate${d.fingerprint ? ` (SHA-256 <code>${s('fingerprint')}</code>)` : ''}${d.subject ? ` (subject <code>${s('subject')}</code>)` : ''}`;
    case 'principal.certificate-unbound.v1':
      return `principal <code>${s('principalId')}</code> unbound from its client certificate`;
    case 'grant.created.v1':
      return `grant <code>${s('grantId')}</code> to <code>${s('principalId')}</code>: ${escapeHtml(Array.isArray(d.operations) ? d.operations.join(', ') : d.operations)} on <code>${escapeHtml(d.keys)}</code>${d.conditions && Object.keys(record(d.conditions)).length > 0 ? ` when <code>${escapeHtml(d.conditions)}</code>` : ''}`;
    case 'grant.revoked.v1':
      return `grant <code>${s('grantId')}</code> of <code>${s('principalId')}</code> revoked`;
    default:
      return `${escapeHtml(event.type)} <code>${escapeHtml(event.data)}</code>`;
  }
}

function eventRows(events: readonly AuditEvent[]): string {
  if (events.length === 0) return '<p class="none">No events in this period.</p>';
  const rows = events
    .map(
      (e) =>
        `<tr><td class="mono">${e.seq}.${e.index}</td><td>${when(e.at)}</td><td><code>${escapeHtml(e.type)}</code></td><td>${actor(e.actor)}</td><td>${describeEvent(e)}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>Seq</th><th>Time (UTC)</th><th>Event</th><th>By</th><th>What happened</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

function keyRow(key: KeyState, atStart: KeyState | undefined): string {
  const retired = key.minDecryptionVersion > 1 ? ` (decrypts from v${key.minDecryptionVersion})` : '';
  return (
    `<tr><td><code>${escapeHtml(key.keyId)}</code>${key.alias ? `<br>${escapeHtml(key.alias)}` : ''}</td>` +
    `<td>${escapeHtml(key.keyType)}</td>` +
    `<td class="state">${escapeHtml(key.state)}</td>` +
    `<td>${atStart ? escapeHtml(atStart.state) : '<span class="none">did not exist</span>'}</td>` +
    `<td>v${key.latestVersion}${escapeHtml(retired)}</td>` +
    `<td>${when(key.createdAt)}<br>${actor(key.createdBy)}</td>` +
    `<td>${when(key.activationDate)}</td><td>${when(key.deactivationDate)}</td>` +
    `<td>${key.destroyedAt ? when(key.destroyedAt) : key.destroyAfter ? `after ${when(key.destroyAfter)}` : '<span class="none">—</span>'}</td></tr>`
  );
}

function grantRow(g: GrantState): string {
  const conditions = Object.keys(g.conditions).length === 0 ? '<span class="none">none</span>' : `<code>${escapeHtml(g.conditions)}</code>`;
  return `<tr><td><code>${escapeHtml(g.grantId)}</code></td><td><code>${escapeHtml(g.principalId)}</code></td><td>${escapeHtml(g.operations.join(', '))}</td><td><code>${escapeHtml(g.keys)}</code></td><td>${conditions}</td><td>${when(g.createdAt)}</td></tr>`;
}

function principalRow(p: PrincipalState): string {
  return `<tr><td><code>${escapeHtml(p.principalId)}</code></td><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.role)}</td><td>${when(p.createdAt)}</td><td>${when(p.revokedAt)}</td></tr>`;
}

/**
 * The tenant's key inventory and lifecycle history for a period, as a self-contained HTML page
 * that prints well (A4, repeated table headers, no split rows). Every value from the log is
 * escaped; the page has no script and loads nothing.
 */
export function renderReport(data: ReportData): string {
  const period = `${data.from ?? 'the beginning'} — ${data.to}`;
  const tenantName = data.tenant?.name ?? data.tenantId;
  const byState = new Map<string, number>();
  for (const key of data.keys) byState.set(key.state, (byState.get(key.state) ?? 0) + 1);
  const keyIds = new Set(data.keys.map((k) => k.keyId));
  // Approval events belong to the key their request names.
  const approvalKey = new Map<string, string>();
  for (const e of data.events) {
    const approvalId = eventApprovalId(e);
    const keyId = eventKeyId(e);
    if (e.type === 'approval.requested.v1' && approvalId !== undefined && keyId !== undefined) approvalKey.set(approvalId, keyId);
  }
  const keyOf = (e: AuditEvent): string | undefined => {
    const approvalId = eventApprovalId(e);
    return eventKeyId(e) ?? (approvalId === undefined ? undefined : approvalKey.get(approvalId));
  };
  const perKey = new Map<string, AuditEvent[]>();
  const other: AuditEvent[] = [];
  for (const e of data.events) {
    const keyId = keyOf(e);
    if (keyId !== undefined && keyIds.has(keyId)) perKey.set(keyId, [...(perKey.get(keyId) ?? []), e]);
    else other.push(e);
  }
  const verdict = data.chain.ok
    ? `<div class="verdict ok">The hash chain verifies from the genesis hash through commit ${data.chain.verifiedThroughSeq} (head hash <code>${escapeHtml(data.head.hash)}</code>).</div>`
    : `<div class="verdict bad">The hash chain does NOT verify: ${escapeHtml(data.chain.problem?.detail)} (first bad seq ${escapeHtml(data.chain.problem?.seq)}). What follows is what the stored log says, not evidence.</div>`;
  const keySections = data.keys
    .filter((k) => perKey.has(k.keyId))
    .map(
      (k) =>
        `<section class="key"><h3><code>${escapeHtml(k.keyId)}</code>${k.alias ? ` — ${escapeHtml(k.alias)}` : ''} <span class="none">(${escapeHtml(k.state)} at the end of the period)</span></h3>\n${eventRows(perKey.get(k.keyId) ?? [])}</section>`,
    )
    .join('\n');
  const inventory =
    data.keys.length === 0
      ? '<p class="none">The tenant had no keys at the end of the period.</p>'
      : `<table><thead><tr><th>Key</th><th>Type</th><th>State at end</th><th>State at start</th><th>Version</th><th>Created</th><th>Activation date</th><th>Deactivation date</th><th>Destroyed</th></tr></thead><tbody>\n${data.keys
          .map((k) => keyRow(k, data.keysAtStart.get(k.keyId)))
          .join('\n')}\n</tbody></table>`;
  const principals =
    data.principals.length === 0
      ? '<p class="none">No principals.</p>'
      : `<table><thead><tr><th>Principal</th><th>Name</th><th>Role</th><th>Created</th><th>Revoked</th></tr></thead><tbody>\n${data.principals.map(principalRow).join('\n')}\n</tbody></table>`;
  const grants = data.grants.filter((g) => g.revokedAt === null);
  const access =
    data.grantMode === 'open'
      ? '<p>Grants were not required: every active key-user could use every key of the tenant.</p>'
      : grants.length === 0
        ? '<p class="none">Grants were required and no grant was in place: no key-user could use any key.</p>'
        : `<p>Grants were required: a key-user could use a key only as one of these grants allowed.</p><table><thead><tr><th>Grant</th><th>Principal</th><th>Operations</th><th>Keys</th><th>Conditions</th><th>Created</th></tr></thead><tbody>\n${grants.map(grantRow).join('\n')}\n</tbody></table>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Key report — ${escapeHtml(tenantName)} — ${escapeHtml(period)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>Key inventory and lifecycle report</h1>
<p class="meta">${escapeHtml(tenantName)} · period ${escapeHtml(period)} (UTC)</p>
<dl class="facts">
<dt>Tenant</dt><dd><code>${escapeHtml(data.tenantId)}</code>${data.tenant ? ` — ${escapeHtml(data.tenant.status)} since ${when(data.tenant.updatedAt)}` : ''}</dd>
<dt>Period</dt><dd>${when(data.from)} to ${when(data.to)}, both included</dd>
<dt>Log position</dt><dd>commit ${data.head.seq}${data.head.committedAt ? ` of ${when(data.head.committedAt)}` : ''}, hash <code>${escapeHtml(data.head.hash)}</code></dd>
<dt>Generated</dt><dd>${when(data.generatedAt)} by Keyward, from the commit log itself</dd>
<dt>Keys at end</dt><dd>${data.keys.length}${byState.size > 0 ? ` (${escapeHtml([...byState].map(([s, n]) => `${s}: ${n}`).join(', '))})` : ''}</dd>
<dt>Events in period</dt><dd>${data.events.length + data.omittedEvents}${data.omittedEvents > 0 ? ` (the first ${data.events.length} are listed; export the rest as JSON Lines or CSV)` : ''}</dd>
</dl>
${verdict}
</header>
<main>
<h2>Key inventory at the end of the period</h2>
${inventory}
<h2>Lifecycle history of each key in the period</h2>
${keySections || '<p class="none">No key changed in this period.</p>'}
<h2>Tenant, principal and approval events in the period</h2>
${eventRows(other)}
<h2>Principals at the end of the period</h2>
${principals}
<h2>Access at the end of the period</h2>
${access}
</main>
<footer>
Every row comes from the tenant's hash-chained commit log (seq.index identifies each event). Check this report against the log:
<code>keyward audit verify</code> proves the chain is intact, <code>keyward audit state --at ${escapeHtml(data.to)}</code> rebuilds the inventory, and
<code>keyward audit export --format jsonl</code> gives every event with its commit hash.
</footer>
</body>
</html>
`;
}
