import { api, currentSession, withQuery } from '../api.js';
import { field, h, mount, notice, select, when } from '../dom.js';
import { KEY_STATES, KEY_TYPES, type KeySummary, type Page } from '../types.js';
import { failure, parseLabels, stateBadge } from './shared.js';

const PAGE_SIZE = 20;

/** #/keys: the tenant's keys, filtered by state and type, a page at a time (cursor). */
export async function keysPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const state = params.get('state') ?? undefined;
  const keyType = params.get('type') ?? undefined;
  const label = params.get('label') ?? undefined;
  const cursor = params.get('cursor') ?? undefined;
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter keys' },
    select('state', 'State', KEY_STATES, state),
    select('type', 'Type', KEY_TYPES, keyType),
    h('label', {}, 'Label (name=value)', h('input', { name: 'label', value: label ?? '', placeholder: 'team=payments', maxlength: 320 })),
    h('button', { type: 'submit' }, 'Apply'),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(filters);
    location.hash = withQuery('#/keys', { state: field(data, 'state'), type: field(data, 'type'), label: field(data, 'label').trim() });
  });
  const body = h('div', {}, h('p', {}, 'Loading…'));
  mount(main, h('h1', {}, 'Keys'), currentSession()?.role === 'tenant-admin' ? createForm() : null, filters, body);
  try {
    const { body: page } = await api<Page<KeySummary>>('GET', withQuery('/v1/keys', { state, keyType, label, cursor, limit: PAGE_SIZE }));
    mount(body, keyTable(page.items), pager(page.nextCursor, { state, type: keyType, label }, cursor !== undefined));
  } catch (err) {
    mount(body, failure(err));
  }
}

function keyTable(keys: readonly KeySummary[]): HTMLElement {
  if (keys.length === 0) return h('p', {}, 'No keys match.');
  return h(
    'table',
    { 'aria-label': 'Keys' },
    h(
      'thead',
      {},
      h('tr', {}, ...['Key', 'Alias', 'Type', 'State', 'Version', 'Labels', 'Created'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    h(
      'tbody',
      {},
      ...keys.map((k) =>
        h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/keys/${encodeURIComponent(k.keyId)}`, class: 'mono' }, k.keyId)),
          h('td', {}, k.alias ?? '—'),
          h('td', {}, k.keyType),
          h('td', {}, stateBadge(k.state)),
          h('td', {}, k.latestVersion),
          h('td', {}, labelText(k.labels)),
          h('td', {}, when(k.createdAt)),
        ),
      ),
    ),
  );
}

function pager(next: string | null, filter: Record<string, string | undefined>, paged: boolean): HTMLElement {
  return h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    paged ? h('a', { href: withQuery('#/keys', filter) }, 'First page') : null,
    next ? h('a', { href: withQuery('#/keys', { ...filter, cursor: next }), rel: 'next' }, 'Next page') : null,
  );
}

function createForm(): HTMLElement {
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Create a key' },
    select('keyType', 'New key type', KEY_TYPES, 'AES-256-GCM'),
    h('label', {}, 'Alias (optional)', h('input', { name: 'alias', maxlength: 128 })),
    h('label', {}, 'Labels (name=value, comma-separated)', h('input', { name: 'labels', placeholder: 'team=payments', maxlength: 2000 })),
    h('label', {}, 'Exportable', h('input', { type: 'checkbox', name: 'exportable' })),
    h('label', {}, 'Activate now', h('input', { type: 'checkbox', name: 'activate', checked: true })),
    h('button', { type: 'submit' }, 'Create key'),
  );
  const status = h('div', {});
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const alias = field(data, 'alias').trim();
    const labels = parseLabels(field(data, 'labels'));
    if (typeof labels === 'string') {
      mount(status, notice('bad', labels));
      return;
    }
    const body = {
      keyType: field(data, 'keyType') || 'AES-256-GCM',
      activate: data.get('activate') !== null,
      ...(data.get('exportable') !== null ? { exportable: true } : {}),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(alias ? { alias } : {}),
    };
    api<{ seq: number; key: { keyId: string } }>('POST', '/v1/keys', body).then(
      ({ body: made }) => (location.hash = `#/keys/${encodeURIComponent(made.key.keyId)}?minSeq=${made.seq}`),
      (err: unknown) => mount(status, failure(err)),
    );
  });
  return h('section', { 'aria-label': 'New key' }, form, status);
}

function labelText(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '—' : entries.map(([name, value]) => `${name}=${value}`).join(', ');
}
