import type { TenantLog } from '@keyward/domain';
import type { CommandExecutor } from '@keyward/event-log';
import { CoalescedReads, decideFresh, MessageReads } from './kmip-tenant-reads';

/** An executor whose reads finish only when the test says so. */
function slowExecutor() {
  const reads: { tenantId: string; finish: () => void; fail: (e: Error) => void }[] = [];
  const log = {} as TenantLog;
  const executor = {
    current: (tenantId: string) =>
      new Promise<TenantLog>((resolve, reject) => reads.push({ tenantId, finish: () => resolve(log), fail: reject })),
    execute: jest.fn(() => Promise.resolve({ seq: 1, events: [], log })),
  };
  return { executor: executor as unknown as CommandExecutor, reads, log };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescedReads', () => {
  it('lets callers that arrive during a read share the next one, which starts after it', async () => {
    const { executor, reads, log } = slowExecutor();
    const coalesced = new CoalescedReads(executor);
    const first = coalesced.current('ten_a');
    const waiting = Array.from({ length: 15 }, () => coalesced.current('ten_a'));
    expect(reads).toHaveLength(1);
    reads[0]!.finish();
    await expect(first).resolves.toBe(log);
    await tick();
    expect(reads).toHaveLength(2); // the fifteen share one read, started after the first ended
    const late = coalesced.current('ten_a'); // arrives during the second read: waits for a third
    reads[1]!.finish();
    await expect(Promise.all(waiting)).resolves.toHaveLength(15);
    await tick();
    expect(reads).toHaveLength(3);
    reads[2]!.finish();
    await expect(late).resolves.toBe(log);
  });

  it('keeps tenants apart, and a failed read fails only its callers', async () => {
    const { executor, reads } = slowExecutor();
    const coalesced = new CoalescedReads(executor);
    const a = coalesced.current('ten_a');
    const b = coalesced.current('ten_b');
    expect(reads.map((r) => r.tenantId)).toEqual(['ten_a', 'ten_b']);
    reads[0]!.fail(new Error('store down'));
    await expect(a).rejects.toThrow('store down');
    const again = coalesced.current('ten_a');
    expect(reads).toHaveLength(3);
    reads[2]!.finish();
    reads[1]!.finish();
    await expect(again).resolves.toBeDefined();
    await expect(b).resolves.toBeDefined();
  });
});

describe('MessageReads', () => {
  it('reads once per message, and again after a command of the message', async () => {
    const { executor, reads } = slowExecutor();
    const message = new MessageReads(new CoalescedReads(executor));
    const one = message.current('ten_a');
    const two = message.current('ten_a');
    expect(reads).toHaveLength(1);
    reads[0]!.finish();
    await Promise.all([one, two]);
    await message.execute(
      'ten_a',
      { kind: 'key.activate', keyId: 'key_x' },
      { now: new Date(), actor: { principalId: 'p', role: 'tenant-admin' }, correlationId: 'c' },
    );
    const three = message.current('ten_a');
    expect(reads).toHaveLength(2);
    reads[1]!.finish();
    await three;
  });
});

describe('decideFresh', () => {
  /** Reads whose held log is behind the store's by one commit. */
  function staleReads() {
    const held = { seq: 1, allowed: false } as unknown as TenantLog & { allowed: boolean };
    const stored = { seq: 2, allowed: true } as unknown as TenantLog & { allowed: boolean };
    const fresh = jest.fn(() => Promise.resolve(stored as TenantLog));
    const reads = { current: () => Promise.resolve(held as TenantLog), execute: jest.fn(), fresh };
    return { reads: reads as unknown as Parameters<typeof decideFresh>[0], fresh };
  }
  const decide = (log: TenantLog) => {
    if (!(log as TenantLog & { allowed: boolean }).allowed) throw new Error('refused');
    return 'allowed';
  };

  it('answers from the held log without reading the store when it allows', async () => {
    const { reads, fresh } = staleReads();
    await expect(decideFresh(reads, 'ten_a', () => 'allowed')).resolves.toBe('allowed');
    expect(fresh).not.toHaveBeenCalled();
  });

  it('confirms a refusal against the store: a change made elsewhere that allows it applies at once', async () => {
    const { reads, fresh } = staleReads();
    await expect(decideFresh(reads, 'ten_a', decide)).resolves.toBe('allowed');
    expect(fresh).toHaveBeenCalledTimes(1);
  });

  it('refuses when the store has nothing newer', async () => {
    const log = { seq: 3 } as TenantLog;
    const reads = { current: () => Promise.resolve(log), execute: jest.fn(), fresh: () => Promise.resolve(log) };
    await expect(decideFresh(reads as unknown as Parameters<typeof decideFresh>[0], 'ten_a', decide)).rejects.toThrow('refused');
  });
});
