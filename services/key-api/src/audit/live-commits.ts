import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Commit } from '@keyward/event-log';
import { EventStreamListener } from '@keyward/keys';

/** What a live subscriber hears of a commit: enough to know what to re-read (with minSeq = seq), no event data. */
export interface CommitNotice {
  readonly tenantId: string;
  readonly seq: number;
  readonly at: string;
  readonly types: readonly string[];
  readonly keyIds: readonly string[];
}

/** Live streams open at once on one instance; beyond, GET /v1/audit/live answers 429. */
export const MAX_LIVE_STREAMS = 200;

/**
 * Fans the commits key-api's stream consumer hears (EventStreamListener) out to the live streams
 * of GET /v1/audit/live, each for one tenant. A notice is a hint to re-read through the API, never
 * the data itself.
 */
@Injectable()
export class LiveCommits implements OnModuleInit {
  private readonly subscribers = new Map<string, Set<(notice: CommitNotice) => void>>();
  private open = 0;

  constructor(private readonly stream: EventStreamListener) {}

  onModuleInit(): void {
    this.stream.onCommit((commit) => this.publish(commit));
  }

  /** Subscribes to a tenant's commits; undefined when too many streams are open. Call the answer to unsubscribe. */
  subscribe(tenantId: string, listener: (notice: CommitNotice) => void): (() => void) | undefined {
    if (this.open >= MAX_LIVE_STREAMS) return undefined;
    this.open++;
    let listeners = this.subscribers.get(tenantId);
    if (!listeners) this.subscribers.set(tenantId, (listeners = new Set()));
    listeners.add(listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.open--;
      listeners.delete(listener);
      if (listeners.size === 0) this.subscribers.delete(tenantId);
    };
  }

  private publish(commit: Commit): void {
    const listeners = this.subscribers.get(commit.tenantId);
    if (!listeners) return;
    const notice = noticeOf(commit);
    for (const listener of listeners) listener(notice);
  }
}

export function noticeOf(commit: Commit): CommitNotice {
  const keyIds = new Set<string>();
  for (const event of commit.events) {
    const data = event.data as Record<string, unknown> | null;
    if (data && typeof data.keyId === 'string') keyIds.add(data.keyId);
    const command = data?.command as Record<string, unknown> | undefined;
    if (command && typeof command.keyId === 'string') keyIds.add(command.keyId);
  }
  return {
    tenantId: commit.tenantId,
    seq: commit.seq,
    at: commit.committedAt,
    types: commit.events.map((e) => e.type),
    keyIds: [...keyIds],
  };
}
