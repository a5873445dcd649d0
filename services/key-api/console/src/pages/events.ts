import { api, withQuery } from '../api.js';
import { field, h, mount, when } from '../dom.js';
import { onCommit } from '../live.js';
import type { AuditEvent, Checkpoint, Page, Verification } from '../types.js';
import { actorText, failure } from './shared.js';

const PAGE_SIZE = 50;

/** #/events: the tenant's event history (filter by key and type, paged) under its chain verification badge. */
export async function eventsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const keyId = params.get('keyId') ?? '';
  const type = params.get('type') ?? '';
  const cursor = params.get('cursor') ?? undefined;
  const badge = h('div', { id: 'verification', 'aria-live': 'polite' }, h('span', { class: 'badge warn' }, 'Verifying history…'));
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter events' },
    h('label', {}, 'Key id', h('input', { name: 'keyId', value: keyId, maxlength: 64 })),
    h('label', {}, 'Event type (or prefix)', h('input', { name: 'type', value: type, placeholder: 'key.rotated', maxlength: 80 })),
    h('button', { type: 'submit' }, 'Apply'),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(filters);
    location.hash = withQuery('#/events', { keyId: field(data, 'keyId').trim(), type: field(data, 'type').trim() });
  });
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const filter = { keyId: keyId || undefined, type: type || undefined };
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString();
  const downloads = h(
    'p',
    { class: 'downloads' },
    'Export: ',
    h(
      'a',
      { href: withQuery('/v1/audit/export', { ...filter, format: 'jsonl' }), download: 'events.jsonl', 'data-export': 'jsonl' },
      'JSON Lines',
    ),
    ' · ',
    h('a', { href: withQuery('/v1/audit/export', { ...filter, format: 'csv' }), download: 'events.csv', 'data-export': 'csv' }, 'CSV'),
    ' · ',
    h(
      'a',
      {
        href: withQuery('/v1/audit/export', { format: 'html', from: monthAgo, to: new Date().toISOString() }),
        download: 'report.html',
        'data-export': 'html',
      },
      'HTML report (30 days)',
    ),
  );
  mount(main, h('h1', {}, 'Event history'), badge, filters, downloads, body);
  const load = async (): Promise<void> => {
    try {
      const { body: page } = await api<Page<AuditEvent>>(
        'GET',
        withQuery('/v1/audit/events', { keyId: keyId || undefined, type: type || undefined, cursor, limit: PAGE_SIZE }),
      );
      mount(
        body,
        eventTable(page.items),
        h(
          'nav',
          { class: 'pager', 'aria-label': 'Pages' },
          cursor ? h('a', { href: withQuery('#/events', { keyId, type }) }, 'First page') : null,
          page.nextCursor
            ? h('a', { href: withQuery('#/events', { keyId, type, cursor: page.nextCursor }), rel: 'next' }, 'Next page')
            : null,
        ),
      );
    } catch (err) {
      mount(body, failure(err));
    }
  };
  await Promise.all([load(), verify(badge)]);
  onCommit(() => void load());
}

/** The chain badge: green when the whole history verifies (hash chain, no gap, Kafka and checkpoints agree), red naming the first bad seq. */
async function verify(badge: HTMLElement): Promise<void> {
  try {
    const [{ body: result }, { body: checkpoints }] = await Promise.all([
      api<Verification>('GET', '/v1/audit/verify'),
      api<Page<Checkpoint>>('GET', '/v1/audit/checkpoints?limit=1'),
    ]);
    const latest = checkpoints.items[0];
    mount(
      badge,
      result.ok
        ? h('span', { class: 'badge ok', 'data-verified': 'true' }, `History verified through seq ${result.verifiedThroughSeq}`)
        : h(
            'span',
            { class: 'badge bad', 'data-verified': 'false' },
            `History broken at seq ${result.firstBadSeq ?? '?'}: ${result.problem ?? ''}`,
          ),
      ' ',
      h('span', { class: 'mono' }, `head ${result.headHash.slice(0, 16)}…`),
      h(
        'p',
        {},
        latest
          ? ['Latest signed checkpoint: seq ', String(latest.seq), ' at ', when(latest.at), ` (Ed25519 key ${latest.keyId})`]
          : 'No signed checkpoint yet.',
      ),
    );
  } catch (err) {
    mount(badge, failure(err));
  }
}

function eventTable(events: readonly AuditEvent[]): HTMLElement {
  if (events.length === 0) return h('p', {}, 'No events match.');
  return h(
    'table',
    { 'aria-label': 'Events' },
    h('thead', {}, h('tr', {}, ...['Seq', 'Time', 'Type', 'Actor', 'Key'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...events.map((e) => {
        const keyId = typeof e.data.keyId === 'string' ? e.data.keyId : undefined;
        return h(
          'tr',
          {},
          h('td', {}, `${e.seq}.${e.index}`),
          h('td', {}, when(e.at)),
          h('td', {}, h('code', {}, e.type)),
          h('td', {}, actorText(e.actor)),
          h('td', {}, keyId ? h('a', { href: `#/keys/${encodeURIComponent(keyId)}`, class: 'mono' }, keyId) : '—'),
        );
      }),
    ),
  );
}
