import { LifecycleAgenda } from './lifecycle-agenda';

const T = 'ten_a';
const at = (minutes: number): string => new Date(Date.UTC(2030, 0, 1, 0, minutes)).toISOString();
const commit = (...events: { type: string; data: Record<string, unknown> }[]) => ({ tenantId: T, events });

describe('LifecycleAgenda', () => {
  it('learns activation and deactivation dates from key.created and answers them once due, oldest first', () => {
    const agenda = new LifecycleAgenda();
    agenda.noteCommit(commit({ type: 'key.created.v1', data: { keyId: 'k1', activationDate: at(10), deactivationDate: at(50) } }));
    agenda.noteCommit(commit({ type: 'key.created.v1', data: { keyId: 'k2', activationDate: at(5) } }));
    expect(agenda.due(at(4), 10)).toEqual([]);
    expect(agenda.due(at(10), 10).map((i) => [i.keyId, i.kind])).toEqual([
      ['k2', 'activate'],
      ['k1', 'activate'],
    ]);
    // Still pending until dropped (the scheduler drops what it did or what the log refused).
    expect(agenda.due(at(10), 10)).toHaveLength(2);
    agenda.drop(T, 'k1', ['activate']);
    agenda.drop(T, 'k2', ['activate']);
    expect(agenda.due(at(49), 10)).toEqual([]);
    expect(agenda.due(at(50), 10)).toEqual([{ tenantId: T, keyId: 'k1', kind: 'deactivate', at: at(50) }]);
  });

  it('does not note an activation the same commit already made', () => {
    const agenda = new LifecycleAgenda();
    agenda.noteCommit(
      commit(
        { type: 'key.created.v1', data: { keyId: 'k1', activationDate: at(0) } },
        { type: 'key.activated.v1', data: { keyId: 'k1', reason: 'activation-date' } },
      ),
    );
    expect(agenda.size).toBe(0);
  });

  it('follows destruction scheduled, cancelled and scheduled again to the latest date', () => {
    const agenda = new LifecycleAgenda();
    agenda.noteCommit(commit({ type: 'key.destruction-scheduled.v1', data: { keyId: 'k1', destroyAfter: at(10) } }));
    agenda.noteCommit(commit({ type: 'key.destruction-cancelled.v1', data: { keyId: 'k1' } }));
    expect(agenda.due(at(60), 10)).toEqual([]);
    agenda.noteCommit(commit({ type: 'key.destruction-scheduled.v1', data: { keyId: 'k1', destroyAfter: at(10) } }));
    agenda.noteCommit(commit({ type: 'key.destruction-cancelled.v1', data: { keyId: 'k1' } }));
    agenda.noteCommit(commit({ type: 'key.destruction-scheduled.v1', data: { keyId: 'k1', destroyAfter: at(30) } }));
    expect(agenda.due(at(20), 10)).toEqual([]);
    expect(agenda.due(at(30), 10)).toEqual([{ tenantId: T, keyId: 'k1', kind: 'destroy', at: at(30) }]);
    agenda.noteCommit(commit({ type: 'key.destroyed.v1', data: { keyId: 'k1', versions: [1] } }));
    expect(agenda.size).toBe(0);
  });

  it('answers one action per key, the most urgent, and forgets a less urgent one due with it', () => {
    const agenda = new LifecycleAgenda();
    agenda.noteCommit(commit({ type: 'key.created.v1', data: { keyId: 'k1', activationDate: at(10), deactivationDate: at(20) } }));
    expect(agenda.due(at(25), 10)).toEqual([{ tenantId: T, keyId: 'k1', kind: 'deactivate', at: at(20) }]);
    agenda.drop(T, 'k1', ['deactivate']);
    expect(agenda.size).toBe(0);
  });

  it('answers at most `limit` keys a pass; the rest stay for the next', () => {
    const agenda = new LifecycleAgenda();
    for (let i = 0; i < 300; i++) agenda.note({ tenantId: T, keyId: `k${i}`, kind: 'destroy', at: at(i % 7) });
    const first = agenda.due(at(100), 100);
    expect(first).toHaveLength(100);
    for (const item of first) agenda.drop(item.tenantId, item.keyId, [item.kind]);
    expect(agenda.due(at(100), 1_000)).toHaveLength(200);
    expect(agenda.size).toBe(200);
  });
});
