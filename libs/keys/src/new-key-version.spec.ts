import type { DecisionContext, KeywardCommand, KeywardEvent } from '@keyward/domain';
import type { Executed } from '@keyward/event-log';
import { commitNewKeyVersion, type CommandRunner, type MaterialStore } from './new-key-version';

const context = { now: new Date(0), actor: { principalId: 'p1', role: 'tenant-admin' }, correlationId: 'r1' } as DecisionContext;
const created = (keyId: string, version: number, kcv: string): KeywardEvent =>
  ({ type: 'key.created.v1', data: { keyId, version: { version, kcv } } }) as unknown as KeywardEvent;

/** A material store that records what it was asked, and copies of what it was given. */
function materials(): MaterialStore & { stored: { version: number; kcv: string; material: Buffer }[]; seen: Buffer[] } {
  const stored: { version: number; kcv: string; material: Buffer }[] = [];
  const seen: Buffer[] = [];
  return {
    stored,
    seen,
    checkValue: (_tenantId, _keyId, _keyType, material) => {
      seen.push(material);
      return Promise.resolve(`kcv-${material.length}`);
    },
    storeNewMaterial: (ref, material, kcv) => {
      stored.push({ version: ref.version, kcv, material: Buffer.from(material) });
      return Promise.resolve(kcv);
    },
  };
}

/** An executor that commits `events` (running beforeAppend first, as the real one does), or refuses. */
function executor(events: (command: KeywardCommand) => KeywardEvent[], refuse?: Error): CommandRunner & { commands: KeywardCommand[] } {
  const commands: KeywardCommand[] = [];
  return {
    commands,
    execute: async (_tenantId, command, _ctx, beforeAppend) => {
      commands.push(command);
      if (refuse) throw refuse;
      const committed = events(command);
      await beforeAppend?.(committed);
      return { seq: 1, events: committed } as unknown as Executed;
    },
  };
}

describe('commitNewKeyVersion: one create-with-material use case for every door', () => {
  it('stores fresh material under the check value the commit records, before the commit, then zeroes it', async () => {
    const store = materials();
    const run = executor(() => [created('k1', 1, 'kcv-32')]);
    await commitNewKeyVersion(run, store, {
      tenantId: 't1',
      keyId: 'k1',
      keyType: 'AES-256-GCM',
      context,
      command: (kcv) => ({ kind: 'key.create', keyId: 'k1', keyType: 'AES-256-GCM', kcv }),
    });
    expect(run.commands).toEqual([expect.objectContaining({ kind: 'key.create', kcv: 'kcv-32' })]);
    expect(store.stored).toHaveLength(1);
    expect(store.stored[0]).toMatchObject({ version: 1, kcv: 'kcv-32' });
    expect(store.stored[0]?.material.some((b) => b !== 0)).toBe(true);
    expect(store.seen[0]?.every((b) => b === 0)).toBe(true);
  });

  it('takes supplied (imported) material, and zeroes it even when the command is refused', async () => {
    const store = materials();
    const supplied = Buffer.alloc(20, 7);
    const run = executor(() => [], new Error('refused'));
    await expect(
      commitNewKeyVersion(run, store, {
        tenantId: 't1',
        keyId: 'k2',
        keyType: 'SECRET',
        context,
        material: supplied,
        command: (kcv) => ({ kind: 'key.create', keyId: 'k2', keyType: 'SECRET', kcv }),
      }),
    ).rejects.toThrow('refused');
    expect(store.seen[0]).toBe(supplied);
    expect(store.stored).toHaveLength(0);
    expect(supplied.every((b) => b === 0)).toBe(true);
  });

  it('stores nothing when the commit introduces no version of that key', async () => {
    const store = materials();
    const run = executor(() => [created('other', 1, 'x')]);
    await commitNewKeyVersion(run, store, {
      tenantId: 't1',
      keyId: 'k3',
      keyType: 'HMAC-SHA256',
      context,
      command: (kcv) => ({ kind: 'key.rotate', keyId: 'k3', kcv }),
    });
    expect(store.stored).toHaveLength(0);
  });
});
