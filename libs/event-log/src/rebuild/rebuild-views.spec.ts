import type { KeywardEvent } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from '../commit/commit';
import { IncrementalRebuild } from './rebuild-views';

const ev = (keyId: string): KeywardEvent => ({
  type: 'key.activated.v1',
  data: { keyId, reason: 'requested' },
  actor: { principalId: 'prn_abcdefgh', role: 'tenant-admin' },
  correlationId: 'r',
  at: '2026-01-01T00:00:00.000Z',
});

function log(tenantId: string, n: number): Commit[] {
  let prevHash = GENESIS_HASH;
  return Array.from({ length: n }, (_, i) => {
    const c = sealCommit({
      tenantId,
      seq: i + 1,
      commandId: `c${i}`,
      events: [ev(`key_${i}aaaaaaaa`)],
      committedAt: '2026-01-01T00:00:00.000Z',
      prevHash,
    });
    prevHash = c.hash;
    return c;
  });
}

describe('IncrementalRebuild', () => {
  const projector = () => {
    const applied: Commit[][] = [];
    return { applied, apply: (commits: readonly Commit[]) => Promise.resolve(void applied.push([...commits])) };
  };

  it('hands every batch to the projector and counts its events, duplicates included', async () => {
    const fake = projector();
    const rebuild = new IncrementalRebuild(fake as never);
    const [a1, a2, a3] = log('tnt_a', 3) as [Commit, Commit, Commit];
    expect(await rebuild.apply([a1, a2])).toBe(2);
    expect(await rebuild.apply([a2, a3])).toBe(2);
    expect(fake.applied).toEqual([
      [a1, a2],
      [a2, a3],
    ]);
    expect(rebuild.chainProblems).toEqual([]);
  });

  it('reports altered and re-linked commits, and after a gap checks only the hash', async () => {
    const rebuild = new IncrementalRebuild(projector() as never);
    const [a1, a2, a3, , a5] = log('tnt_a', 5) as [Commit, Commit, Commit, Commit, Commit];
    const altered = { ...a2, events: [ev('key_evilaaaaaaa')] };
    const relinked = sealCommit({ ...a3, prevHash: GENESIS_HASH });
    // a5 after a gap (a4 missing): its link cannot be checked here, its hash can.
    await rebuild.apply([a1, altered, relinked, a5, { ...a5, seq: 7 }]);
    expect(rebuild.chainProblems).toEqual([
      { tenantId: 'tnt_a', seq: 2, problem: 'hash-mismatch' },
      { tenantId: 'tnt_a', seq: 3, problem: 'broken-link' },
      { tenantId: 'tnt_a', seq: 7, problem: 'hash-mismatch' },
    ]);
  });
});
