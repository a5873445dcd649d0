import { api } from '../api.js';
import { h, mount, notice, when } from '../dom.js';
import { failure } from './shared.js';

interface PartFacts {
  readonly destination: string;
  readonly bytes: number | null;
  readonly sha256: string | null;
}

interface Verification {
  readonly verificationId: string;
  readonly snapshotId: string;
  readonly status: 'pending' | 'running' | 'verified' | 'failed';
  readonly requestedAt: string;
  readonly finishedAt: string | null;
  readonly code: string | null;
  readonly detail: string | null;
}

interface BackupRun {
  readonly runId: string;
  readonly snapshotId: string | null;
  readonly at: string;
  readonly trigger: string | null;
  readonly outcome: 'success' | 'failed' | 'incomplete';
  readonly seconds: number | null;
  readonly parts: { readonly kek: PartFacts; readonly dek: PartFacts } | null;
  readonly problem: string | null;
  readonly lastVerification: Verification | null;
}

/** How long the page waits for the backup service to answer a verification before saying it is still pending. */
const VERIFY_WAIT_MS = 60_000;

export function size(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * #/backups (provider-admin): the last successful backup, each run with its parts' sizes, places and
 * digests, and verification on request (GET /v1/sys/backups, POST …/{snapshotId}/verifications): the
 * backup service, which alone holds the backup keys, reads the snapshot back and records the outcome.
 */
export async function backupsPage(main: HTMLElement, note?: HTMLElement): Promise<void> {
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const notices = h('div', { 'aria-live': 'polite', id: 'backup-notices' }, note);
  mount(main, h('h1', {}, 'Backups'), notices, body);
  try {
    const { body: listed } = await api<{ lastSuccess: BackupRun | null; items: BackupRun[] }>('GET', '/v1/sys/backups');
    mount(
      body,
      lastSuccess(listed.lastSuccess),
      listed.items.length === 0
        ? h('p', {}, 'No backup recorded yet. The backup service records each run (on its schedule, or POST /v1/backups on port 8445).')
        : [h('h2', {}, 'Runs, newest first'), runsTable(listed.items, main, notices)],
    );
  } catch (err) {
    mount(body, failure(err));
  }
}

function lastSuccess(run: BackupRun | null): HTMLElement {
  const row = (name: string, value: Node | string): HTMLElement[] => [h('dt', {}, name), h('dd', {}, value)];
  if (!run) return h('p', {}, h('span', { class: 'badge bad', id: 'last-success' }, 'No successful backup'));
  const total = (run.parts?.kek.bytes ?? 0) + (run.parts?.dek.bytes ?? 0);
  return h(
    'dl',
    { class: 'facts' },
    ...row('Last success', h('span', { class: 'badge ok', id: 'last-success' }, when(run.at))),
    ...row('Snapshot', h('span', { class: 'mono' }, run.snapshotId ?? '—')),
    ...row('Size', `${size(total)} (KEK part ${size(run.parts?.kek.bytes ?? null)}, DEK part ${size(run.parts?.dek.bytes ?? null)})`),
    ...row('Last verification', verificationText(run.lastVerification)),
  );
}

function verificationText(v: Verification | null): Node | string {
  if (!v) return 'not verified yet';
  if (v.status === 'verified') return h('span', { class: 'badge ok' }, 'Verified ', when(v.finishedAt));
  if (v.status === 'failed')
    return h('span', {}, h('span', { class: 'badge bad' }, `Failed: ${v.code ?? 'error'}`), ' ', when(v.finishedAt));
  return h('span', { class: 'badge warn' }, v.status === 'running' ? 'Verifying…' : 'Pending');
}

function partCell(part: PartFacts | undefined): HTMLElement {
  if (!part) return h('td', {}, '—');
  return h(
    'td',
    {},
    size(part.bytes),
    h('br'),
    h('span', { class: 'mono small' }, part.destination),
    part.sha256
      ? [h('br'), h('span', { class: 'mono small', title: 'SHA-256 of the encrypted file' }, `sha256 ${part.sha256.slice(0, 16)}…`)]
      : null,
  );
}

function runsTable(runs: readonly BackupRun[], main: HTMLElement, notices: HTMLElement): HTMLElement {
  return h(
    'table',
    { 'aria-label': 'Backups' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Taken', 'Snapshot', 'Trigger', 'Outcome', 'KEK part', 'DEK part', 'Verification', 'Actions'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...runs.map((run) =>
        h(
          'tr',
          { 'data-run': run.runId },
          h('td', {}, when(run.at), run.seconds === null ? null : h('span', { class: 'small' }, ` (${run.seconds.toFixed(1)} s)`)),
          h('td', { class: 'mono' }, run.snapshotId ?? '—'),
          h('td', {}, run.trigger ?? '—'),
          h(
            'td',
            {},
            h('span', { class: `badge ${run.outcome === 'success' ? 'ok' : 'bad'}` }, run.outcome),
            run.problem ? h('p', { class: 'small' }, run.problem) : null,
          ),
          partCell(run.parts?.kek),
          partCell(run.parts?.dek),
          h(
            'td',
            { class: 'verification' },
            verificationText(run.lastVerification),
            run.lastVerification?.status === 'failed' && run.lastVerification.detail
              ? h('p', { class: 'small' }, run.lastVerification.detail)
              : null,
          ),
          h('td', {}, run.snapshotId ? verifyButton(run.snapshotId, main, notices) : null),
        ),
      ),
    ),
  );
}

/** Asks for a verification, waits for the backup service's outcome, then shows the page again with it. */
function verifyButton(snapshotId: string, main: HTMLElement, notices: HTMLElement): HTMLElement {
  const button = h('button', { type: 'button', class: 'secondary', 'data-verify': snapshotId }, 'Verify');
  button.addEventListener('click', () => {
    button.disabled = true;
    mount(notices, notice('warn', `Verifying ${snapshotId}: the backup service reads both parts back…`));
    void (async () => {
      try {
        const { body: asked } = await api<Verification>('POST', `/v1/sys/backups/${encodeURIComponent(snapshotId)}/verifications`);
        const done = await outcomeOf(asked);
        await backupsPage(main, resultNotice(done));
      } catch (err) {
        button.disabled = false;
        mount(notices, failure(err));
      }
    })();
  });
  return button;
}

async function outcomeOf(asked: Verification): Promise<Verification> {
  const path = `/v1/sys/backups/${encodeURIComponent(asked.snapshotId)}/verifications/${encodeURIComponent(asked.verificationId)}`;
  const until = Date.now() + VERIFY_WAIT_MS;
  let current = asked;
  while ((current.status === 'pending' || current.status === 'running') && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    current = (await api<Verification>('GET', path)).body;
  }
  return current;
}

function resultNotice(v: Verification): HTMLElement {
  if (v.status === 'verified')
    return notice('ok', `Snapshot ${v.snapshotId} verified: every chunk authenticated, sizes and digests match.`);
  if (v.status === 'failed') return notice('bad', `Snapshot ${v.snapshotId} failed verification (${v.code ?? 'error'}): ${v.detail ?? ''}`);
  return notice(
    'warn',
    `Verification of ${v.snapshotId} is still ${v.status}: is the backup service running? This page shows it once done.`,
  );
}
