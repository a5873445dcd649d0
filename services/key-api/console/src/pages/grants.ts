import { api, currentSession, withQuery } from '../api.js';
import { confirmAction } from '../confirm.js';
import { field, h, mount, when } from '../dom.js';
import { GRANT_OPERATIONS, type Grant, type GrantList, type Page, type Principal } from '../types.js';
import { actorText, commaList, failure, outcome, parseLabels } from './shared.js';
import { GRANTEE_ROLES } from './principals.js';

type Reload = (shown: HTMLElement) => Promise<void>;

/** #/grants[?principalId=]: which keys each key-user (or kmip-client) may use for what; a tenant-admin grants and revokes. */
export async function grantsPage(main: HTMLElement, params: URLSearchParams, note?: HTMLElement): Promise<void> {
  const principalId = params.get('principalId') ?? undefined;
  const admin = currentSession()?.role === 'tenant-admin';
  const notices = h('div', { 'aria-live': 'polite' }, note);
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const reload: Reload = (shown) => grantsPage(main, params, shown);
  const title = principalId ? ['Grants of ', h('span', { class: 'mono' }, principalId)] : ['Grants'];
  mount(main, h('h1', {}, ...title), notices, body);
  try {
    const [{ body: list }, grantees] = await Promise.all([
      api<GrantList>('GET', withQuery('/v1/grants', { principalId, revoked: 'include' })),
      granteesOf(),
    ]);
    mount(
      body,
      h(
        'p',
        { id: 'grant-mode' },
        list.mode === 'required'
          ? 'Grant mode: required. Key-users use only the keys their grants cover.'
          : 'Grant mode: open. Every key-user may use every key of the tenant; grants are kept but not needed (change it in ',
        list.mode === 'open' ? [h('a', { href: '#/policy' }, 'Policy'), ').'] : null,
      ),
      admin ? createForm(grantees, principalId, notices, reload) : null,
      grantTable(list.items, grantees, admin, notices, reload),
    );
  } catch (err) {
    mount(body, failure(err));
  }
}

/** The tenant's active key-users and kmip-clients (the principals grants are for), a few pages at most. */
async function granteesOf(): Promise<Principal[]> {
  const found: Principal[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 5; pages++) {
    const { body: page }: { body: Page<Principal> } = await api<Page<Principal>>(
      'GET',
      withQuery('/v1/principals', { cursor, limit: 200 }),
    );
    found.push(...page.items.filter((p) => GRANTEE_ROLES.includes(p.role) && p.revokedAt === null));
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
  }
  return found;
}

const describe = (value: Readonly<Record<string, unknown>>): string =>
  Object.keys(value).length === 0
    ? '—'
    : Object.entries(value)
        .map(([name, v]) => `${name}: ${JSON.stringify(v)}`)
        .join('; ');

function grantTable(
  grants: readonly Grant[],
  grantees: readonly Principal[],
  admin: boolean,
  notices: HTMLElement,
  reload: Reload,
): HTMLElement {
  if (grants.length === 0) return h('p', {}, 'No grants.');
  const nameOf = (id: string): string => grantees.find((p) => p.principalId === id)?.name ?? id;
  return h(
    'table',
    { 'aria-label': 'Grants' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Grant', 'Principal', 'Operations', 'Keys', 'Conditions', 'Granted', 'Revoked', 'Actions'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...grants.map((g) =>
        h(
          'tr',
          { 'data-grant': g.grantId },
          h('td', { class: 'mono' }, g.grantId),
          h('td', {}, nameOf(g.principalId)),
          h('td', {}, g.operations.join(', ')),
          h('td', {}, describe(g.keys)),
          h('td', {}, describe(g.conditions)),
          h('td', {}, when(g.createdAt), ` by ${actorText(g.createdBy)}`),
          h('td', {}, g.revokedAt ? [when(g.revokedAt), ` by ${actorText(g.revokedBy ?? undefined)}`] : 'active'),
          h('td', {}, admin && g.revokedAt === null ? revokeButton(g, notices, reload) : null),
        ),
      ),
    ),
  );
}

function revokeButton(g: Grant, notices: HTMLElement, reload: Reload): HTMLElement {
  const click = async (): Promise<void> => {
    const explain = `Every key-api and KMIP instance refuses the next use this grant allowed (${g.operations.join(', ')}).`;
    if (!(await confirmAction(`Revoke grant ${g.grantId}?`, explain, 'Revoke'))) return;
    try {
      const answer = await api<{ seq: number }>('DELETE', `/v1/grants/${encodeURIComponent(g.grantId)}`);
      await reload(outcome(answer.status, answer.body, `Revoked grant ${g.grantId} (commit ${answer.body.seq}).`));
    } catch (err) {
      mount(notices, failure(err));
    }
  };
  return h(
    'button',
    {
      type: 'button',
      class: 'danger',
      'data-revoke-grant': g.grantId,
      'aria-label': `Revoke grant ${g.grantId}`,
      onclick: () => void click(),
    },
    'Revoke',
  );
}

/** The key selector of a new grant, from the form: ids, alias prefix or labels (the API checks each again). */
function selectorOf(kind: string, text: string): Record<string, unknown> | string {
  const parts = commaList(text);
  if (kind === 'aliasPrefix') return text.trim() ? { aliasPrefix: text.trim() } : 'Give the start of an alias.';
  if (parts.length === 0) return kind === 'labels' ? 'Give at least one label as name=value.' : 'Give at least one key id.';
  if (kind === 'ids') return { ids: parts };
  const labels = parseLabels(text);
  return typeof labels === 'string' ? labels : { labels };
}

function createForm(grantees: readonly Principal[], principalId: string | undefined, notices: HTMLElement, reload: Reload): HTMLElement {
  if (grantees.length === 0)
    return h('p', {}, 'No active key-user or kmip-client to grant to: create one in ', h('a', { href: '#/principals' }, 'Principals'), '.');
  const form = h(
    'form',
    { class: 'grant-form', 'aria-label': 'Create a grant' },
    h(
      'label',
      {},
      'Principal',
      h(
        'select',
        { name: 'principalId' },
        ...grantees.map((p) =>
          h('option', { value: p.principalId, selected: p.principalId === principalId }, `${p.name} (${p.role}, ${p.principalId})`),
        ),
      ),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Operations'),
      ...GRANT_OPERATIONS.map((op) =>
        h(
          'label',
          { class: 'check' },
          h('input', { type: 'checkbox', name: 'operations', value: op, checked: op === 'encrypt' || op === 'decrypt' }),
          op,
        ),
      ),
    ),
    h(
      'label',
      {},
      'Keys by',
      h(
        'select',
        { name: 'kind' },
        h('option', { value: 'ids' }, 'Key ids (comma-separated)'),
        h('option', { value: 'aliasPrefix' }, 'Alias prefix'),
        h('option', { value: 'labels' }, 'Labels (name=value, comma-separated; all must match)'),
      ),
    ),
    h(
      'label',
      {},
      'Keys',
      h('input', { name: 'keys', required: true, maxlength: 4000, placeholder: 'key_… or payments/ or team=payments' }),
    ),
    h('label', {}, 'Valid until (optional)', h('input', { type: 'datetime-local', name: 'notAfter' })),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Grant')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const keys = selectorOf(field(data, 'kind'), field(data, 'keys'));
    if (typeof keys === 'string') {
      mount(notices, failure(new Error(keys)));
      return;
    }
    const notAfter = field(data, 'notAfter');
    const body = {
      principalId: field(data, 'principalId'),
      operations: data.getAll('operations').filter((v): v is string => typeof v === 'string'),
      keys,
      ...(notAfter ? { conditions: { notAfter: new Date(notAfter).toISOString() } } : {}),
    };
    api<{ seq: number; grant?: Grant }>('POST', '/v1/grants', body).then(
      (answer) => reload(outcome(answer.status, answer.body, `Granted ${answer.body.grant?.grantId ?? ''} (commit ${answer.body.seq}).`)),
      (err: unknown) => mount(notices, failure(err)),
    );
  });
  return h('section', { 'aria-label': 'New grant' }, form);
}
