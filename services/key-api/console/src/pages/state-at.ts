import { api, withQuery } from '../api.js';
import { h, mount, when } from '../dom.js';
import type { AuditEvent, Key, Page } from '../types.js';
import { failure, stateBadge } from './shared.js';

/** How many commits the slider spans (the latest ones). */
const SPAN = 1000;

/** #/state: a slider over the tenant's commits; each position shows the key set as it was right after that commit. */
export async function stateAtPage(main: HTMLElement): Promise<void> {
  const view = h('div', { 'aria-live': 'polite' });
  mount(main, h('h1', {}, 'State at an instant'), view);
  let commits: { seq: number; at: string; type: string }[];
  try {
    commits = await commitTimes();
  } catch (err) {
    mount(view, failure(err));
    return;
  }
  if (commits.length === 0) {
    mount(view, h('p', {}, 'The history is empty.'));
    return;
  }
  const slider = h('input', {
    type: 'range',
    class: 'slider',
    id: 'state-slider',
    min: 0,
    max: commits.length - 1,
    value: commits.length - 1,
    step: 1,
    'data-seqs': commits.map((c) => c.seq).join(','),
    'aria-valuetext': `commit ${commits.at(-1)?.seq ?? 0}`,
  });
  const caption = h('p', { id: 'state-caption' });
  const keys = h('div', {});
  mount(view, h('label', { for: 'state-slider' }, 'Commit'), slider, caption, keys);
  let shown = 0;
  const show = async (): Promise<void> => {
    const commit = commits[Number(slider.value)];
    if (!commit) return;
    const asked = ++shown;
    slider.setAttribute('aria-valuetext', `commit ${commit.seq}`);
    mount(caption, `After commit ${commit.seq} (${commit.type}), `, when(commit.at));
    try {
      const { body } = await api<{ seq: number; keys: Key[] }>('GET', withQuery('/v1/audit/state', { at: commit.at }));
      if (asked === shown) mount(keys, keyTable(body.keys, body.seq));
    } catch (err) {
      if (asked === shown) mount(keys, failure(err));
    }
  };
  slider.addEventListener('change', () => void show());
  await show();
}

/** The distinct commits of the history (latest SPAN), oldest first, from the event history. */
async function commitTimes(): Promise<{ seq: number; at: string; type: string }[]> {
  const seen = new Map<number, { seq: number; at: string; type: string }>();
  let cursor: string | undefined;
  do {
    const { body: page }: { body: Page<AuditEvent> } = await api<Page<AuditEvent>>(
      'GET',
      withQuery('/v1/audit/events', { limit: 1000, cursor }),
    );
    for (const e of page.items) if (!seen.has(e.seq)) seen.set(e.seq, { seq: e.seq, at: e.at, type: e.type });
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && seen.size < 10 * SPAN);
  return [...seen.values()].sort((a, b) => a.seq - b.seq).slice(-SPAN);
}

function keyTable(keys: readonly Key[], seq: number): HTMLElement {
  if (keys.length === 0) return h('p', {}, `No keys as of commit ${seq}.`);
  return h(
    'table',
    { 'aria-label': `Keys as of commit ${seq}` },
    h('thead', {}, h('tr', {}, ...['Key', 'Type', 'State', 'Latest version'].map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...keys.map((k) =>
        h(
          'tr',
          { 'data-key': k.keyId },
          h('td', { class: 'mono' }, k.keyId),
          h('td', {}, k.keyType),
          h('td', {}, stateBadge(k.state)),
          h('td', { 'data-version': k.latestVersion }, k.latestVersion),
        ),
      ),
    ),
  );
}
