import { api } from '../api.js';
import { confirmAction } from '../confirm.js';
import { field, h, mount, notice, when } from '../dom.js';
import { failure } from './shared.js';

interface SealStatus {
  readonly sealed: boolean;
  readonly reason?: string;
  readonly rootKcv?: string;
  readonly duplicate?: boolean;
  readonly progress?: {
    readonly submitted: number;
    readonly threshold: number;
    readonly shares: number;
    readonly setId: string;
    readonly startedAt: string;
    readonly expiresAt: string;
  };
}

interface Readiness {
  readonly status: string;
  readonly details?: Readonly<Record<string, { readonly status: string; readonly message?: string }>>;
}

/** #/service (provider-admin): seal status and unseal share submission, and the readiness of the key-api instance answering. */
export async function servicePage(main: HTMLElement, note?: HTMLElement): Promise<void> {
  const seal = h('section', { 'aria-labelledby': 'seal-heading', id: 'seal' }, h('p', {}, 'Loading…'));
  const health = h('section', { 'aria-labelledby': 'health-heading', id: 'health' }, h('p', {}, 'Loading…'));
  mount(
    main,
    h('h1', {}, 'Service'),
    seal,
    health,
    h('h2', {}, 'Backups'),
    h('p', {}, 'The last successful backup, sizes and verification are on the ', h('a', { href: '#/backups' }, 'Backups'), ' page.'),
  );
  await Promise.all([sealSection(seal, main, note), healthSection(health)]);
}

/** GET /v1/sys/seal-status is public: read without the cookie, as any monitor would. */
async function publicJson<T>(path: string): Promise<{ ok: boolean; body: T }> {
  const response = await fetch(path, { credentials: 'omit', headers: { accept: 'application/json' } });
  return { ok: response.ok, body: (await response.json()) as T };
}

async function sealSection(into: HTMLElement, main: HTMLElement, note: HTMLElement | undefined): Promise<void> {
  try {
    const { body: status } = await publicJson<SealStatus>('/v1/sys/seal-status');
    const notices = h('div', { 'aria-live': 'polite' }, note);
    const row = (name: string, value: Node | string | number): HTMLElement[] => [h('dt', {}, name), h('dd', {}, value)];
    const p = status.progress;
    mount(
      into,
      h('h2', { id: 'seal-heading' }, 'Seal'),
      h(
        'dl',
        { class: 'facts' },
        ...row(
          'Status',
          status.sealed
            ? h('span', { class: 'badge bad', id: 'seal-badge' }, 'Sealed')
            : h('span', { class: 'badge ok', id: 'seal-badge' }, 'Unsealed'),
        ),
        ...(status.reason ? row('Reason', status.reason) : []),
        ...(status.rootKcv ? row('Root key check value', h('span', { class: 'mono' }, status.rootKcv)) : []),
        ...(p
          ? [
              ...row('Shares', `${p.submitted} of ${p.threshold} needed (set of ${p.shares}, ${p.setId})`),
              ...row('First share', when(p.startedAt)),
              ...row('Discarded at', when(p.expiresAt)),
            ]
          : []),
      ),
      notices,
      shareForm(notices, main, p !== undefined),
    );
  } catch (err) {
    mount(into, h('h2', { id: 'seal-heading' }, 'Seal'), failure(err));
  }
}

/** One custodian's share (POST /v1/sys/unseal/shares); the field is cleared at once and the share is never kept. */
function shareForm(notices: HTMLElement, main: HTMLElement, underWay: boolean): HTMLElement {
  const input = h('input', { type: 'password', name: 'share', id: 'unseal-share', autocomplete: 'off', required: true, maxlength: 1024 });
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Submit an unseal share' },
    h('label', {}, 'Unseal share (kwshare-1-…), one custodian at a time while sealed', input),
    h('button', { type: 'submit' }, 'Submit share'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const share = field(new FormData(form), 'share');
    form.reset();
    api<SealStatus>('POST', '/v1/sys/unseal/shares', { share }).then(
      ({ body }) => {
        const text = body.sealed
          ? `Share ${body.duplicate ? 'was already submitted (counted once)' : 'accepted'}: ${body.progress?.submitted ?? '?'} of ${body.progress?.threshold ?? '?'}.`
          : 'Unsealed.';
        void servicePage(main, notice(body.sealed ? 'warn' : 'ok', text));
      },
      (err: unknown) => mount(notices, failure(err)),
    );
  });
  const reset = h('button', { type: 'button', class: 'secondary', id: 'reset-shares' }, 'Discard submitted shares');
  reset.addEventListener('click', () => {
    void (async () => {
      if (!(await confirmAction('Discard the shares?', 'Every share submitted so far is forgotten; unsealing starts over.', 'Discard')))
        return;
      try {
        await api('DELETE', '/v1/sys/unseal/shares');
        await servicePage(main, notice('ok', 'Shares discarded.'));
      } catch (err) {
        mount(notices, failure(err));
      }
    })();
  });
  return h('div', {}, form, underWay ? reset : null);
}

async function healthSection(into: HTMLElement): Promise<void> {
  try {
    const { ok, body } = await publicJson<Readiness>('/health/ready');
    const details = Object.entries(body.details ?? {});
    mount(
      into,
      h('h2', { id: 'health-heading' }, 'Health of this key-api instance'),
      h(
        'p',
        {},
        ok && body.status === 'ok'
          ? h('span', { class: 'badge ok', id: 'health-badge' }, 'Ready')
          : h('span', { class: 'badge bad', id: 'health-badge' }, 'Not ready'),
      ),
      details.length === 0
        ? null
        : h(
            'table',
            { 'aria-label': 'Dependencies' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Dependency'),
                h('th', { scope: 'col' }, 'Status'),
                h('th', { scope: 'col' }, 'Detail'),
              ),
            ),
            h(
              'tbody',
              {},
              ...details.map(([name, d]) =>
                h('tr', { 'data-dependency': name }, h('td', {}, name), h('td', {}, d.status), h('td', {}, d.message ?? '')),
              ),
            ),
          ),
    );
  } catch (err) {
    mount(into, h('h2', { id: 'health-heading' }, 'Health'), failure(err));
  }
}
