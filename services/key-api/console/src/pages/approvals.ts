import { api, currentSession, withQuery } from '../api.js';
import { confirmAction } from '../confirm.js';
import { field, h, mount, select, when } from '../dom.js';
import { onCommit } from '../live.js';
import type { Approval } from '../types.js';
import { actorText, failure, outcome } from './shared.js';

const STATUSES = ['Pending', 'Executed', 'Failed', 'Rejected', 'Expired'] as const;

/** #/approvals: requests waiting for a second administrator (who asked, what executes), approve or reject. */
export async function approvalsPage(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const status = params.get('status') ?? 'Pending';
  const notices = h('div', { 'aria-live': 'polite' });
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Filter approvals' },
    select('status', 'Status', STATUSES, status),
    h('button', { type: 'submit' }, 'Apply'),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = withQuery('#/approvals', { status: field(new FormData(filters), 'status') });
  });
  mount(main, h('h1', {}, 'Approvals'), notices, filters, body);
  const load = async (): Promise<void> => {
    try {
      const { body: list } = await api<{ items: Approval[] }>('GET', withQuery('/v1/approvals', { status }));
      mount(body, approvalTable(list.items, notices, load));
    } catch (err) {
      mount(body, failure(err));
    }
  };
  await load();
  onCommit((notice) => {
    if (notice.types.some((t) => t.startsWith('approval.'))) void load();
  });
}

function approvalTable(items: readonly Approval[], notices: HTMLElement, reload: () => Promise<void>): HTMLElement {
  if (items.length === 0) return h('p', {}, 'No requests.');
  const me = currentSession();
  const mayDecide = me?.role === 'tenant-admin' || me?.role === 'provider-admin';
  return h(
    'table',
    { 'aria-label': 'Approval requests' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Operation', 'What executes', 'Requested by', 'Requested', 'Approvals', 'Status', 'Decide'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...items.map((a) =>
        h(
          'tr',
          { 'data-approval': a.approvalId },
          h('td', {}, a.operation),
          h('td', {}, h('code', {}, JSON.stringify(a.command))),
          h('td', {}, actorText(a.requestedBy)),
          h('td', {}, when(a.requestedAt)),
          h('td', {}, `${a.approvals} of ${a.quorum}`),
          h('td', {}, a.status, a.outcome ? ` (${a.outcome})` : null),
          h(
            'td',
            {},
            mayDecide && a.status === 'Pending' && a.requestedBy.principalId !== me.principalId
              ? [
                  h(
                    'button',
                    { type: 'button', 'data-decide': 'approve', onclick: () => void decide(a, 'approve', notices, reload) },
                    'Approve',
                  ),
                  ' ',
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'data-decide': 'reject',
                      onclick: () => void decide(a, 'reject', notices, reload),
                    },
                    'Reject',
                  ),
                ]
              : '—',
          ),
        ),
      ),
    ),
  );
}

async function decide(a: Approval, decision: 'approve' | 'reject', notices: HTMLElement, reload: () => Promise<void>): Promise<void> {
  const verb = decision === 'approve' ? 'Approve' : 'Reject';
  const text =
    decision === 'approve'
      ? `When the quorum is reached this executes ${a.operation} as requested by ${actorText(a.requestedBy)}.`
      : `The request for ${a.operation} is closed and nothing executes.`;
  if (!(await confirmAction(`${verb} this request?`, text, verb))) return;
  try {
    const answer = await api<{ seq: number; approval: Approval }>(
      'POST',
      `/v1/approvals/${encodeURIComponent(a.approvalId)}/${decision}`,
      {},
    );
    mount(notices, outcome(answer.status, answer.body, `${verb}d: the request is now ${answer.body.approval.status}.`));
    await reload();
  } catch (err) {
    mount(notices, failure(err));
  }
}
