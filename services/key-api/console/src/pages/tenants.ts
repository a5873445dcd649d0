import { api, withQuery } from '../api.js';
import { confirmAction } from '../confirm.js';
import { field, h, mount, when } from '../dom.js';
import type { Page, Tenant } from '../types.js';
import { failure, oneTimeSecret, outcome } from './shared.js';

/** #/tenants (provider-admin): the tenants with status, key counts and last activity; onboard a new one. */
export async function tenantsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const cursor = params.get('cursor') ?? undefined;
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const service = h('div', { id: 'service-status', 'aria-live': 'polite' });
  const notices = h('div', { 'aria-live': 'polite' });
  mount(main, h('h1', {}, 'Tenants'), service, onboardForm(), notices, body);
  void serviceStatus(service);
  const reload = (): Promise<void> => tenantsPage(main, params);
  try {
    const { body: page } = await api<Page<Tenant>>('GET', withQuery('/v1/tenants', { cursor, limit: 50 }));
    mount(
      body,
      page.items.length === 0
        ? h('p', {}, 'No tenants yet.')
        : h(
            'table',
            { 'aria-label': 'Tenants' },
            h(
              'thead',
              {},
              h('tr', {}, ...['Name', 'Tenant', 'Status', 'Keys', 'Principals', 'Last activity'].map((t) => h('th', { scope: 'col' }, t))),
            ),
            h(
              'tbody',
              {},
              ...page.items.map((t) =>
                h(
                  'tr',
                  {},
                  h('td', {}, t.name),
                  h('td', { class: 'mono' }, t.tenantId),
                  h('td', {}, t.status),
                  h('td', {}, t.keyCount),
                  h('td', {}, t.principalCount),
                  h('td', {}, when(t.updatedAt)),
                  h('td', {}, tenantActions(t, notices, reload)),
                ),
              ),
            ),
          ),
      page.nextCursor
        ? h(
            'nav',
            { class: 'pager', 'aria-label': 'Pages' },
            h('a', { href: withQuery('#/tenants', { cursor: page.nextCursor }) }, 'Next page'),
          )
        : null,
    );
  } catch (err) {
    mount(body, failure(err));
  }
}

/** Onboarding shows the first tenant-admin's one-time enrollment token once, with a copy button (never an API key). */
function onboardForm(): HTMLElement {
  const result = h('div', { 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Onboard a tenant' },
    h('label', {}, 'New tenant name', h('input', { name: 'name', required: true, maxlength: 128 })),
    h('button', { type: 'submit' }, 'Onboard'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = field(new FormData(form), 'name').trim();
    api<{ tenantId: string; admin: { principalId: string; enrollment: { token: string; expiresAt: string } } }>('POST', '/v1/tenants', {
      name,
    }).then(
      ({ body }) => {
        mount(
          result,
          oneTimeSecret(
            'enrollment-token',
            `Tenant ${body.tenantId} onboarded. Give its first administrator this one-time enrollment token (shown once; it is redeemed at POST /v1/enroll for an API key only they see):`,
            body.admin.enrollment.token,
            body.admin.enrollment.expiresAt,
          ),
        );
        form.reset();
      },
      (err: unknown) => mount(result, failure(err)),
    );
  });
  return h('section', { 'aria-label': 'Onboard' }, form, result);
}

/** Suspend, resume and offboard, with confirmation; each may become an approval request (dual control among provider-admins). */
function tenantActions(tenant: Tenant, notices: HTMLElement, reload: () => Promise<void>): HTMLElement[] {
  const button = (name: string, label: string, explain: string, body: () => unknown, danger = false): HTMLElement =>
    h(
      'button',
      {
        type: 'button',
        class: danger ? 'danger' : 'secondary',
        'data-tenant-action': name,
        'aria-label': `${label} ${tenant.name}`,
        onclick: () =>
          void (async () => {
            if (!(await confirmAction(`${label} ${tenant.name}?`, explain, label))) return;
            try {
              const path = `/v1/tenants/${encodeURIComponent(tenant.tenantId)}`;
              const answer = await api<{ seq: number }>('POST', `${path}/${name}`, body());
              // Read your write: the list is read from the views, which may be a step behind the answer.
              if (answer.status === 200) await api('GET', withQuery(path, { minSeq: answer.body.seq }));
              await reload();
              mount(notices, outcome(answer.status, answer.body, `${label}: done (commit ${answer.body.seq}).`));
            } catch (err) {
              mount(notices, failure(err));
            }
          })(),
      },
      label,
    );
  if (tenant.status === 'Active')
    return [button('suspend', 'Suspend', 'Every request of the tenant is refused until it is resumed; nothing is destroyed.', () => ({}))];
  if (tenant.status === 'Suspended')
    return [
      button('resume', 'Resume', 'The tenant works again.', () => ({})),
      button(
        'offboard',
        'Offboard',
        'Offboarding destroys the tenant key-encryption key and with it every key of the tenant, for good.',
        () => ({ confirm: tenant.tenantId }),
        true,
      ),
    ];
  return [];
}

/** Seal status (public) and readiness (Kafka, MongoDB, projection) of the key-api instance answering. */
async function serviceStatus(into: HTMLElement): Promise<void> {
  const badge = async (path: string, ok: (body: Record<string, unknown>) => boolean, good: string, bad: string): Promise<HTMLElement> => {
    try {
      const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      const body = (await response.json()) as Record<string, unknown>;
      return response.ok && ok(body) ? h('span', { class: 'badge ok' }, good) : h('span', { class: 'badge bad' }, bad);
    } catch {
      return h('span', { class: 'badge bad' }, bad);
    }
  };
  const [seal, ready] = await Promise.all([
    badge('/v1/sys/seal-status', (b) => b.sealed === false, 'Unsealed', 'Sealed'),
    badge('/health/ready', (b) => b.status === 'ok', 'Ready', 'Not ready'),
  ]);
  mount(into, h('p', {}, 'Service: ', seal, ' ', ready));
}
