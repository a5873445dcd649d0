/** Live commits (GET /v1/audit/live, server-sent events with the session cookie): pages subscribe while shown. */
export interface CommitNotice {
  readonly tenantId: string;
  readonly seq: number;
  readonly at: string;
  readonly types: readonly string[];
  readonly keyIds: readonly string[];
}

let source: EventSource | undefined;
let listeners: ((notice: CommitNotice) => void)[] = [];

/** Opens the stream for this session (roles without audit routes get none: pages then simply do not update live). */
export function startLive(): void {
  stopLive();
  source = new EventSource('/v1/audit/live', { withCredentials: true });
  source.addEventListener('commit', (event) => {
    const notice = JSON.parse((event as MessageEvent<string>).data) as CommitNotice;
    for (const listener of listeners) listener(notice);
  });
}

export function stopLive(): void {
  source?.close();
  source = undefined;
}

/** Adds a listener for the page being shown (cleared by `clearLiveListeners` when the page changes). */
export function onCommit(listener: (notice: CommitNotice) => void): void {
  listeners.push(listener);
}

export function clearLiveListeners(): void {
  listeners = [];
}
