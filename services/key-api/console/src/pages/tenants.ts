import { api, withQuery } from '../api.js';
import { field, h, mount, when } from '../dom.js';
import type { Page, Tenant } from '../types.js';
import { failure } from './shared.js';

/** #/tenants (provider-admin): the tenants with status, key counts and last activity; onboard a new one. */
export async function tenantsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const cursor = params.get('cursor') ?? undefined;
  const body = h('div', {}, h('p', {}, 'Loading…'));
  mount(main, h('h1', {}, 'Tenants'), onboardForm(), body);
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
        const token = body.admin.enrollment.token;
        const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy token');
        copy.addEventListener('click', () => void navigator.clipboard.writeText(token).then(() => (copy.textContent = 'Copied')));
        mount(
          result,
          h(
            'div',
            { class: 'notice ok', role: 'status' },
            h(
              'p',
              {},
              `Tenant ${body.tenantId} onboarded. Give its first administrator this one-time enrollment token (shown once; it is redeemed at POST /v1/enroll for an API key only they see):`,
            ),
            h('p', { class: 'secret mono', id: 'enrollment-token' }, token),
            copy,
            ' expires ',
            when(body.admin.enrollment.expiresAt),
          ),
        );
        form.reset();
      },
      (err: unknown) => mount(result, failure(err)),
    );
  });
  return h('section', { 'aria-label': 'Onboard' }, form, result);
}
