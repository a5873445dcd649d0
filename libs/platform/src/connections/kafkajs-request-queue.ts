import { createRequire } from 'node:module';

/** What of kafkajs' (internal) RequestQueue the fix touches. */
export interface RequestQueueInternals {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** kafkajs' own wait before looking at pending requests again (requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;
const PATCHED = Symbol.for('keyward.kafkajs.idle-request-queue');

/**
 * kafkajs 2.2.4 (unmaintained) keeps every broker connection busy while idle: its RequestQueue
 * re-schedules `checkPendingRequests` with `setTimeout(throttledUntil - now)`, a negative delay
 * (1 ms) when nothing is throttled, even with nothing pending, so each connection runs a timer
 * every millisecond for as long as it lives (kafkajs issues #1556 and #1704, fix proposed in
 * pull requests #1667 and #1768, not released). That was most of the idle CPU of every service.
 *
 * This replaces the method on the class with the proposed fix: with nothing pending and no
 * throttle, nothing is scheduled (a new request, or an answer to one in flight, looks at the queue
 * again, as before); with requests pending, or a throttle in force, the same timer as kafkajs'.
 */
export function scheduleCheckPendingRequests(this: RequestQueueInternals): void {
  let scheduleAt = this.throttledUntil - Date.now();
  if (this.throttleCheckTimeoutId) return;
  if (this.pending.length > 0) scheduleAt = scheduleAt > 0 ? scheduleAt : CHECK_PENDING_REQUESTS_INTERVAL;
  else if (scheduleAt <= 0) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, scheduleAt);
}

/** kafkajs' RequestQueue class (an internal module: kafkajs exports none of it). */
export function requestQueueClass(): { prototype: RequestQueueInternals } {
  const load = createRequire(require.resolve('kafkajs'));
  return load('./src/network/requestQueue/index.js') as { prototype: RequestQueueInternals };
}

/**
 * Installs the fix once per process, only on the kafkajs version it was written for (another
 * version keeps its own code: check it for the loop before moving the pin).
 */
export function fixIdleRequestQueue(): boolean {
  const load = createRequire(require.resolve('kafkajs'));
  const { version } = load('./package.json') as { version: string };
  if (version !== '2.2.4') return false;
  const prototype = requestQueueClass().prototype as RequestQueueInternals & { [PATCHED]?: true };
  if (prototype[PATCHED]) return true;
  if (typeof prototype.scheduleCheckPendingRequests !== 'function') return false;
  prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
  prototype[PATCHED] = true;
  return true;
}
