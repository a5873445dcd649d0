import { api, withQuery } from '../api.js';
import { bucketize, usageChart } from '../chart.js';
import { field, h, mount, notice } from '../dom.js';
import type { UsageAnswer, UsageRecord } from '../types.js';
import { failure } from './shared.js';

const DAY: readonly [string, string, number] = ['24', 'Last 24 hours', 86_400_000];
const WINDOWS: readonly (readonly [string, string, number])[] = [
  ['1', 'Last hour', 3_600_000],
  DAY,
  ['168', 'Last 7 days', 7 * 86_400_000],
];
const BUCKETS = 24;
/** Operations refused before a key was found (a ciphertext naming no key of the tenant, say). */
const NO_KEY = '(no key)';

/**
 * #/usage?by=key|principal&id=&hours=: crypto operations and refusals over time (GET /v1/audit/usage),
 * per key or per principal: a chart of the chosen one (or all), and the totals of each.
 */
export async function usagePage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const by = params.get('by') === 'principal' ? 'principal' : 'key';
  const id = params.get('id') ?? '';
  const hours = WINDOWS.find(([value]) => value === params.get('hours')) ?? DAY;
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Usage filter' },
    h(
      'label',
      {},
      'Per',
      h(
        'select',
        { name: 'by' },
        h('option', { value: 'key', selected: by === 'key' }, 'key'),
        h('option', { value: 'principal', selected: by === 'principal' }, 'principal'),
      ),
    ),
    h(
      'label',
      {},
      by === 'key' ? 'Key id (empty: all)' : 'Principal id (empty: all)',
      h('input', { name: 'id', value: id, maxlength: 64 }),
    ),
    h(
      'label',
      {},
      'Window',
      h('select', { name: 'hours' }, ...WINDOWS.map(([value, label]) => h('option', { value, selected: value === hours[0] }, label))),
    ),
    h('button', { type: 'submit' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    // A new query each time (even the same one), so "Show" also refreshes.
    location.hash = withQuery('#/usage', {
      by: field(data, 'by'),
      id: field(data, 'id').trim(),
      hours: field(data, 'hours'),
      t: Date.now(),
    });
  });
  const body = h('div', { 'aria-live': 'polite' }, h('p', {}, 'Reading the usage records…'));
  mount(main, h('h1', {}, 'Usage'), form, body);
  const end = new Date();
  const from = new Date(end.getTime() - hours[2]);
  try {
    const keyId = by === 'key' && id ? id : undefined;
    const { body: usage } = await api<UsageAnswer>('GET', withQuery('/v1/audit/usage', { keyId, from: from.toISOString(), limit: 10_000 }));
    const records = usage.items.filter((r) => by === 'key' || !id || r.principalId === id);
    const subject = id ? `${by} ${id}` : `all ${by === 'key' ? 'keys' : 'principals'}`;
    const points = records.map((r) => ({ at: r.at, ok: r.outcome === 'ok' }));
    mount(
      body,
      usage.truncated
        ? notice('warn', `The scan stopped after ${usage.scanned} records: older records of the window may be missing.`)
        : null,
      h(
        'figure',
        {},
        usageChart(
          `Operations and refusals of ${subject}, ${hours[1].toLowerCase()}`,
          bucketize(points, end, hours[2], BUCKETS),
          hours[2] / BUCKETS,
        ),
        legend(),
      ),
      h('h2', {}, by === 'key' ? 'Per key' : 'Per principal'),
      totals(records, by, hours[0]),
    );
  } catch (err) {
    mount(body, failure(err));
  }
}

function legend(): HTMLElement {
  return h(
    'figcaption',
    { class: 'legend' },
    h('span', { class: 'swatch ok' }),
    ' operations (ok) ',
    h('span', { class: 'swatch refused' }),
    ' refusals (every other outcome)',
  );
}

function totals(records: readonly UsageRecord[], by: 'key' | 'principal', hours: string): HTMLElement {
  const rows = new Map<string, { ok: number; refused: number; operations: Set<string> }>();
  for (const r of records) {
    const name = (by === 'key' ? r.keyId : r.principalId) ?? NO_KEY;
    const row = rows.get(name) ?? { ok: 0, refused: 0, operations: new Set<string>() };
    if (r.outcome === 'ok') row.ok++;
    else row.refused++;
    row.operations.add(r.operation);
    rows.set(name, row);
  }
  if (rows.size === 0) return h('p', {}, 'No crypto operations in this window.');
  const sorted = [...rows.entries()].sort((a, b) => b[1].ok + b[1].refused - (a[1].ok + a[1].refused));
  return h(
    'table',
    { 'aria-label': by === 'key' ? 'Usage per key' : 'Usage per principal' },
    h(
      'thead',
      {},
      h('tr', {}, ...[by === 'key' ? 'Key' : 'Principal', 'Operations', 'Refusals', 'Kinds'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    h(
      'tbody',
      {},
      ...sorted.map(([name, row]) =>
        h(
          'tr',
          { 'data-usage': name },
          h('td', {}, name === NO_KEY ? name : h('a', { href: withQuery('#/usage', { by, id: name, hours }), class: 'mono' }, name)),
          h('td', { 'data-count': 'ok' }, row.ok),
          h('td', { 'data-count': 'refused' }, row.refused),
          h('td', {}, [...row.operations].sort().join(', ')),
        ),
      ),
    ),
  );
}
