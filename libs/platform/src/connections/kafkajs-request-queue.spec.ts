import { fixIdleRequestQueue, requestQueueClass, scheduleCheckPendingRequests, type RequestQueueInternals } from './kafkajs-request-queue';

/** A queue with just the state the method reads, counting the checks it causes. */
function queue(over: Partial<RequestQueueInternals> = {}): RequestQueueInternals & { checks: number } {
  const q = {
    throttledUntil: -1,
    pending: [] as unknown[],
    throttleCheckTimeoutId: null as NodeJS.Timeout | null,
    checks: 0,
    checkPendingRequests(): void {
      q.checks++;
      q.scheduleCheckPendingRequests();
    },
    scheduleCheckPendingRequests,
    ...over,
  };
  return q;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('kafkajs request queue, idle', () => {
  it("is installed on kafkajs' RequestQueue (the pinned 2.2.4)", () => {
    expect(fixIdleRequestQueue()).toBe(true);
    expect(requestQueueClass().prototype.scheduleCheckPendingRequests).toBe(scheduleCheckPendingRequests);
  });

  it('schedules nothing with nothing pending and no throttle (kafkajs ran a 1 ms timer forever)', async () => {
    const q = queue();
    q.checkPendingRequests();
    await wait(50);
    expect(q.checks).toBe(1);
    expect(q.throttleCheckTimeoutId).toBeNull();
  });

  it('looks again in 10 ms while requests are pending, and when a throttle ends', async () => {
    const pending = queue({ pending: ['request'] });
    pending.scheduleCheckPendingRequests();
    expect(pending.throttleCheckTimeoutId).not.toBeNull();
    await wait(30);
    expect(pending.checks).toBeGreaterThanOrEqual(1);
    pending.pending.length = 0;
    await wait(30);
    const settled = pending.checks;
    await wait(30);
    expect(pending.checks).toBe(settled);

    const throttled = queue({ throttledUntil: Date.now() + 20 });
    throttled.scheduleCheckPendingRequests();
    await wait(40);
    // Once when the throttle ends (a timer may fire a millisecond before Date.now() reaches the
    // end, and then looks once more), then nothing: no timer left running.
    const afterThrottle = throttled.checks;
    expect(afterThrottle).toBeGreaterThanOrEqual(1);
    expect(afterThrottle).toBeLessThanOrEqual(2);
    await wait(30);
    expect(throttled.checks).toBe(afterThrottle);
    expect(throttled.throttleCheckTimeoutId).toBeNull();
  });
});
