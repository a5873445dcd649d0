import type { KeywardConfig } from '@keyward/config';
import type { CommandExecutor } from '@keyward/event-log';
import { KeyStateSource } from './key-state.source';

const executor = { peek: () => undefined, current: () => Promise.reject(new Error('not in this spec')) } as unknown as CommandExecutor;
const config = { crypto: { stateTtlMs: 60_000 } } as unknown as KeywardConfig;

describe('KeyStateSource: waiting for the stream', () => {
  it('answers at once for a commit the stream already carried', async () => {
    const states = new KeyStateSource(executor, config);
    states.noteCommit('t1', 7);
    await expect(states.whenStreamed('t1', 5, 1_000)).resolves.toBe(true);
    expect(states.streamedSeq('t1')).toBe(7);
  });

  it('wakes the readers of a tenant when its commit (or a later one) arrives, and only those', async () => {
    const states = new KeyStateSource(executor, config);
    const early = states.whenStreamed('t1', 3, 5_000);
    const later = states.whenStreamed('t1', 9, 50);
    const other = states.whenStreamed('t2', 1, 50);
    states.noteCommit('t1', 4);
    await expect(early).resolves.toBe(true);
    await expect(later).resolves.toBe(false);
    await expect(other).resolves.toBe(false);
  });

  it('gives up after the timeout, and a later commit finds no reader left behind', async () => {
    const states = new KeyStateSource(executor, config);
    await expect(states.whenStreamed('t1', 2, 10)).resolves.toBe(false);
    states.noteCommit('t1', 2);
    expect(states.streamedSeq('t1')).toBe(2);
    expect((states as unknown as { waiters: Map<string, unknown> }).waiters.size).toBe(0);
  });
});
