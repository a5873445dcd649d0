import { api, currentSession, withQuery } from '../api.js';
import { confirmAction } from '../confirm.js';
import { field, h, mount, when } from '../dom.js';
import { TENANT_ROLES, type IssuedPrincipal, type Page, type Principal } from '../types.js';
import { failure, oneTimeSecret, outcome } from './shared.js';

type Reload = (seq: number, shown: HTMLElement) => Promise<void>;

/** Roles that hold grants (the principals that use keys). */
export const GRANTEE_ROLES: readonly string[] = ['key-user', 'kmip-client'];

/** #/principals: the tenant's principals; a tenant-admin creates them (enrollment token shown once) and revokes them. */
export async function principalsPage(main: HTMLElement, params: URLSearchParams, note?: HTMLElement): Promise<void> {
  const cursor = params.get('cursor') ?? undefined;
  const minSeq = params.get('minSeq') ?? undefined;
  const admin = currentSession()?.role === 'tenant-admin';
  const notices = h('div', { 'aria-live': 'polite' }, note);
  const body = h('div', {}, h('p', {}, 'Loading…'));
  // Re-reads the list at least as new as the commit, then shows what the action answered.
  const reload: Reload = (seq, shown) => principalsPage(main, new URLSearchParams({ minSeq: String(seq) }), shown);
  mount(main, h('h1', {}, 'Principals'), admin ? createForm(notices, reload) : null, notices, body);
  try {
    const { body: page } = await api<Page<Principal>>('GET', withQuery('/v1/principals', { cursor, minSeq, limit: 100 }));
    mount(
      body,
      principalTable(page.items, admin, notices, reload),
      page.nextCursor
        ? h(
            'nav',
            { class: 'pager', 'aria-label': 'Pages' },
            h('a', { href: withQuery('#/principals', { cursor: page.nextCursor }) }, 'Next page'),
          )
        : null,
    );
  } catch (err) {
    mount(body, failure(err));
  }
}

function principalTable(principals: readonly Principal[], admin: boolean, notices: HTMLElement, reload: Reload): HTMLElement {
  if (principals.length === 0) return h('p', {}, 'No principals.');
  return h(
    'table',
    { 'aria-label': 'Principals' },
    h('thead', {}, h('tr', {}, ...['Name', 'Principal', 'Role', 'Created', 'Revoked', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...principals.map((p) =>
        h(
          'tr',
          { 'data-principal': p.principalId },
          h('td', {}, p.name),
          h('td', { class: 'mono' }, p.principalId),
          h('td', {}, p.role),
          h('td', {}, when(p.createdAt)),
          h('td', {}, p.revokedAt ? when(p.revokedAt) : 'active'),
          h(
            'td',
            {},
            h(
              'div',
              { class: 'row-actions' },
              GRANTEE_ROLES.includes(p.role)
                ? [
                    h('a', { href: withQuery('#/grants', { principalId: p.principalId }), 'aria-label': `Grants of ${p.name}` }, 'Grants'),
                    h(
                      'a',
                      { href: withQuery('#/usage', { by: 'principal', id: p.principalId }), 'aria-label': `Usage of ${p.name}` },
                      'Usage',
                    ),
                  ]
                : null,
              admin && p.revokedAt === null && p.principalId !== currentSession()?.principalId ? revokeButton(p, notices, reload) : null,
            ),
          ),
        ),
      ),
    ),
  );
}

function revokeButton(p: Principal, notices: HTMLElement, reload: Reload): HTMLElement {
  const click = async (): Promise<void> => {
    const explain = `${p.name} (${p.role}) loses access at once: its API keys and console sessions stop working. It cannot be undone.`;
    if (!(await confirmAction(`Revoke ${p.name}?`, explain, 'Revoke'))) return;
    try {
      const answer = await api<{ seq: number }>('DELETE', `/v1/principals/${encodeURIComponent(p.principalId)}`);
      await reload(answer.body.seq, outcome(answer.status, answer.body, `Revoked ${p.name} (commit ${answer.body.seq}).`));
    } catch (err) {
      mount(notices, failure(err));
    }
  };
  return h(
    'button',
    { type: 'button', class: 'danger', 'data-revoke': p.principalId, 'aria-label': `Revoke ${p.name}`, onclick: () => void click() },
    'Revoke',
  );
}

/** Creating a principal answers its one-time enrollment token (never an API key): shown once, with a copy button. */
function createForm(notices: HTMLElement, reload: Reload): HTMLElement {
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Create a principal' },
    h('label', {}, 'Name', h('input', { name: 'name', required: true, maxlength: 128 })),
    h(
      'label',
      {},
      'Role',
      h('select', { name: 'role' }, ...TENANT_ROLES.map((r) => h('option', { value: r, selected: r === 'key-user' }, r))),
    ),
    h('button', { type: 'submit' }, 'Create principal'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { name: field(data, 'name').trim(), role: field(data, 'role') };
    void (async () => {
      try {
        const answer = await api<IssuedPrincipal>('POST', '/v1/principals', body);
        const { body: made } = answer;
        await reload(
          made.seq,
          answer.status === 201
            ? oneTimeSecret(
                'principal-token',
                `${made.name} (${made.role}, ${made.principalId}) created. Give them this one-time enrollment token (shown once): they redeem it at POST /v1/enroll for an API key only they see.`,
                made.enrollment.token,
                made.enrollment.expiresAt,
              )
            : outcome(answer.status, made, ''),
        );
      } catch (err) {
        mount(notices, failure(err));
      }
    })();
  });
  return h('section', { 'aria-label': 'New principal' }, form);
}
