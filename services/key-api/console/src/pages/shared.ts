import { ApiError } from '../api.js';
import { h, notice, when } from '../dom.js';
import type { Actor, PendingAnswer } from '../types.js';

/** A refusal as the API explained it (its problem document's detail), never a stack trace. */
export function failure(err: unknown): HTMLElement {
  if (err instanceof ApiError) return notice('bad', `${err.problem?.title ?? 'Refused'} (${err.status}): ${err.message}`);
  return notice('bad', err instanceof Error ? err.message : String(err));
}

export function actorText(actor: Actor | undefined): string {
  return actor ? `${actor.principalId} (${actor.role})` : '—';
}

/** What a command answered: done, or waiting for other administrators (dual control). */
export function outcome(status: number, body: unknown, done: string): HTMLElement {
  if (status === 202) {
    const { pendingApproval: p } = body as PendingAnswer;
    return notice(
      'warn',
      `Approval requested (${p.operation}): ${p.approvals} of ${p.quorum} so far. Another administrator approves it in `,
      h('a', { href: '#/approvals' }, 'Approvals'),
      '.',
    );
  }
  return notice('ok', done);
}

export function stateBadge(state: string): HTMLElement {
  const kind = state === 'Active' ? 'ok' : state.startsWith('Destroyed') || state === 'Compromised' ? 'bad' : 'warn';
  return h('span', { class: `badge ${kind} state` }, state);
}

/** A one-time secret (an enrollment token) shown once, with a copy button; the console keeps no copy. */
export function oneTimeSecret(id: string, intro: string, secret: string, expiresAt: string): HTMLElement {
  const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy token');
  copy.addEventListener('click', () => void navigator.clipboard.writeText(secret).then(() => (copy.textContent = 'Copied')));
  return h(
    'div',
    { class: 'notice ok', role: 'status' },
    h('p', {}, intro),
    h('p', { class: 'secret mono', id }, secret),
    copy,
    ' expires ',
    when(expiresAt),
  );
}

/** "a=1, b=2" as labels, or what is wrong with it (the API checks names and sizes again). */
export function parseLabels(text: string): Record<string, string> | string {
  const labels: Record<string, string> = {};
  for (const part of commaList(text)) {
    const at = part.indexOf('=');
    if (at <= 0) return `Label "${part}" is not name=value.`;
    labels[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return labels;
}

/** The non-empty, trimmed items of a comma-separated field. */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
