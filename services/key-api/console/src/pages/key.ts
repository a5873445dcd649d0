import { api, currentSession, withQuery } from '../api.js';
import { confirmAction } from '../confirm.js';
import { h, mount, notice, when } from '../dom.js';
import { onCommit } from '../live.js';
import type { AuditEvent, Key, Page } from '../types.js';
import { actorText, failure, outcome, stateBadge } from './shared.js';

interface Action {
  readonly name: string;
  readonly label: string;
  readonly applies: (key: Key) => boolean;
  readonly explain: string;
  readonly danger?: boolean;
  /** Extra inputs of the confirmation dialog, and the body they make. */
  readonly inputs?: () => { nodes: HTMLElement[]; body: () => unknown };
}

const destroyed = (k: Key): boolean => k.state.startsWith('Destroyed');

const ACTIONS: readonly Action[] = [
  {
    name: 'activate',
    label: 'Activate',
    applies: (k) => k.state === 'PreActive',
    explain: 'The key becomes Active: it encrypts and signs.',
  },
  {
    name: 'rotate',
    label: 'Rotate',
    applies: (k) => k.state === 'Active',
    explain: 'A new version becomes the one that encrypts; old versions still decrypt.',
  },
  {
    name: 'deactivate',
    label: 'Deactivate',
    applies: (k) => k.state === 'Active',
    explain: 'The key stops encrypting and signing; it still decrypts and verifies.',
  },
  {
    name: 'schedule-destruction',
    label: 'Schedule destruction',
    danger: true,
    applies: (k) => (k.state === 'Deactivated' || k.state === 'Compromised') && k.destroyAfter === null,
    explain:
      'After the waiting period every version of the key material is destroyed for good. Dual control may ask another administrator to approve.',
    inputs: () => {
      const days = h('input', { type: 'number', name: 'waitingPeriodDays', min: 1, max: 90, value: 7 });
      return { nodes: [h('label', {}, 'Waiting period (days)', days)], body: () => ({ waitingPeriodDays: Number(days.value) }) };
    },
  },
  {
    name: 'enable-export',
    label: 'Enable export',
    danger: true,
    applies: (k) => k.exportable && !k.exportEnabled && !destroyed(k),
    explain:
      'Key-users granted "export" may then retrieve the material of this key, wrapped. It cannot be undone. Dual control may ask another administrator to approve.',
  },
  {
    name: 'cancel-destruction',
    label: 'Cancel destruction',
    applies: (k) => k.destroyAfter !== null && !destroyed(k),
    explain: 'The scheduled destruction is cancelled; the key stays Deactivated.',
  },
];

/** #/keys/{id}: one key, its versions, its lifecycle timeline (from its history) and its actions. */
export async function keyPage(main: HTMLElement, params: URLSearchParams, keyId: string): Promise<void> {
  const status = h('div', { 'aria-live': 'polite' });
  // Renders may overlap (an action's answer and a live notice): only the latest one started is shown.
  let latest = 0;
  const render = async (minSeq?: number): Promise<void> => {
    const mine = ++latest;
    try {
      const query = minSeq === undefined ? '' : `?minSeq=${minSeq}`;
      const { body: key } = await api<Key>('GET', `/v1/keys/${encodeURIComponent(keyId)}${query}`);
      const events = await keyEvents(keyId);
      if (mine !== latest) return;
      mount(
        main,
        h('h1', {}, 'Key ', h('span', { class: 'mono' }, key.keyId)),
        status,
        actions(key, status, render),
        facts(key),
        usageLink(key.keyId),
        versions(key),
        events ? eventTimeline(events) : timeline(key),
      );
    } catch (err) {
      if (mine !== latest) return;
      mount(main, h('h1', {}, 'Key'), failure(err));
    }
  };
  const minSeq = Number(params.get('minSeq') ?? '');
  await render(Number.isInteger(minSeq) && minSeq > 0 ? minSeq : undefined);
  // Live: a commit naming this key re-reads it (the stream answers the commit's seq, read back with minSeq).
  onCommit((commit) => {
    if (commit.keyIds.includes(keyId))
      void render(commit.seq).then(() => mount(status, notice('ok', `Updated live: commit ${commit.seq} (${commit.types.join(', ')}).`)));
  });
}

/** Roles that read the audit trail: the key's operations and refusals over time. */
function usageLink(keyId: string): HTMLElement | null {
  const role = currentSession()?.role;
  if (role !== 'tenant-admin' && role !== 'auditor') return null;
  return h('p', {}, h('a', { href: withQuery('#/usage', { by: 'key', id: keyId }), id: 'key-usage' }, 'Usage of this key'));
}

function facts(key: Key): HTMLElement {
  const row = (name: string, value: Node | string | number): HTMLElement[] => [h('dt', {}, name), h('dd', {}, value)];
  return h(
    'dl',
    { class: 'facts' },
    ...row('State', stateBadge(key.state)),
    ...row('Type', key.keyType),
    ...row('Alias', key.alias ?? '—'),
    ...row('Export', key.exportEnabled ? 'enabled' : key.exportable ? 'exportable, not enabled' : 'not exportable'),
    ...row('Latest version', key.latestVersion),
    ...row('Decrypts from version', key.minDecryptionVersion),
    ...row('Activated', when(key.activationDate)),
    ...row('Deactivated', when(key.deactivationDate)),
    ...row('Destruction after', when(key.destroyAfter)),
    ...row('Created', when(key.createdAt)),
  );
}

function versions(key: Key): HTMLElement[] {
  return [
    h('h2', {}, 'Versions'),
    h(
      'table',
      { 'aria-label': 'Versions' },
      h('thead', {}, h('tr', {}, ...['Version', 'Check value', 'Created', 'Material'].map((t) => h('th', { scope: 'col' }, t)))),
      h(
        'tbody',
        {},
        ...key.versions.map((v) =>
          h(
            'tr',
            {},
            h('td', {}, v.version),
            h('td', { class: 'mono' }, v.kcv),
            h('td', {}, when(v.createdAt)),
            h('td', {}, v.destroyed ? 'destroyed' : 'kept'),
          ),
        ),
      ),
    ),
  ];
}

/** Roles that read the audit trail: every event about the key (rotations, approvals…), from the commit log. */
async function keyEvents(keyId: string): Promise<AuditEvent[] | undefined> {
  const role = currentSession()?.role;
  if (role !== 'tenant-admin' && role !== 'auditor') return undefined;
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const { body: page }: { body: Page<AuditEvent> } = await api<Page<AuditEvent>>(
      'GET',
      withQuery('/v1/audit/events', { keyId, limit: 1000, cursor }),
    );
    events.push(...page.items);
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return events;
}

const EVENT_LABELS: Record<string, string> = {
  'key.created.v1': 'Created',
  'key.activated.v1': 'Activated',
  'key.rotated.v1': 'Rotated',
  'key.deactivated.v1': 'Deactivated',
  'key.compromised.v1': 'Marked compromised',
  'key.destruction-scheduled.v1': 'Destruction scheduled',
  'key.destruction-cancelled.v1': 'Destruction cancelled',
  'key.destroyed.v1': 'Destroyed',
  'approval.requested.v1': 'Approval requested',
  'approval.granted.v1': 'Approved',
  'approval.executed.v1': 'Approval executed',
  'approval.rejected.v1': 'Approval rejected',
  'approval.failed.v1': 'Approval failed',
};

function versionOf(e: AuditEvent): number | undefined {
  const version = e.data.version as { version?: unknown } | number | undefined;
  if (typeof version === 'number') return version;
  return typeof version?.version === 'number' ? version.version : undefined;
}

function eventTimeline(events: readonly AuditEvent[]): HTMLElement[] {
  return [
    h('h2', {}, 'Lifecycle'),
    h(
      'ol',
      { class: 'timeline', 'aria-label': 'Lifecycle timeline', id: 'timeline' },
      ...events.map((e) =>
        h(
          'li',
          { 'data-event': e.type, 'data-seq': e.seq },
          when(e.at),
          h('strong', {}, EVENT_LABELS[e.type] ?? e.type),
          versionOf(e) === undefined ? null : ` (version ${versionOf(e)})`,
          ' ',
          h('code', {}, e.type),
          ` by ${actorText(e.actor)} · commit ${e.seq}`,
        ),
      ),
    ),
  ];
}

function timeline(key: Key): HTMLElement[] {
  return [
    h('h2', {}, 'Lifecycle'),
    h(
      'ol',
      { class: 'timeline', 'aria-label': 'Lifecycle timeline', id: 'timeline' },
      ...key.history.map((e) =>
        h(
          'li',
          {},
          when(e.at),
          h('strong', {}, e.from ? `${e.from} → ${e.to}` : e.to),
          ' ',
          h('code', {}, e.event),
          ` by ${actorText(e.actor)}`,
          e.reason ? ` (${e.reason})` : null,
        ),
      ),
    ),
  ];
}

function actions(key: Key, status: HTMLElement, render: (minSeq?: number) => Promise<void>): HTMLElement | null {
  if (currentSession()?.role !== 'tenant-admin') return null;
  const applicable = ACTIONS.filter((a) => a.applies(key));
  if (applicable.length === 0) return null;
  return h(
    'div',
    { class: 'actions', role: 'group', 'aria-label': 'Key actions' },
    ...applicable.map((action) =>
      h(
        'button',
        {
          type: 'button',
          class: action.danger ? 'danger' : undefined,
          'data-action': action.name,
          onclick: () => void run(action, key, status, render),
        },
        action.label,
      ),
    ),
  );
}

async function run(action: Action, key: Key, status: HTMLElement, render: (minSeq?: number) => Promise<void>): Promise<void> {
  const inputs = action.inputs?.();
  if (!(await confirmAction(`${action.label} ${key.keyId}?`, action.explain, action.label, ...(inputs?.nodes ?? [])))) return;
  try {
    const answer = await api<{ seq: number }>('POST', `/v1/keys/${encodeURIComponent(key.keyId)}/${action.name}`, inputs?.body() ?? {});
    await render(answer.body.seq);
    mount(status, outcome(answer.status, answer.body, `${action.label}: done (commit ${answer.body.seq}).`));
  } catch (err) {
    mount(status, failure(err));
  }
}
