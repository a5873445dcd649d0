import type { KeywardEvent } from '@keyward/domain';
import { commitId, GENESIS_HASH, sealCommit, type Commit, type CommitDocument } from '../commit/commit';
import { checkClaimedHash, checkCommitMessage, describeRejected, verifyCommitMessages, type CommitLookup } from './commit-verification';
import { fromMessage, toMessage } from './commit-message';

const actor = { principalId: 'prn_abcdefgh', role: 'tenant-admin' } as const;
const at = '2026-01-01T00:00:00.000Z';
const ev = (type: string, data: object): KeywardEvent => ({ type, data, actor, correlationId: 'r', at }) as KeywardEvent;

function chain(tenantId: string, n: number): Commit[] {
  const out: Commit[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const c = sealCommit({
      tenantId,
      seq,
      commandId: `c${seq}`,
      events: [ev('key.activated.v1', { keyId: `k${seq}` })],
      committedAt: at,
      prevHash,
    });
    out.push(c);
    prevHash = c.hash;
  }
  return out;
}

/** The store as a map by _id, counting lookups. */
function store(commits: readonly Commit[]): CommitLookup & { calls: string[][] } {
  const docs = new Map<string, CommitDocument>(
    commits.map((c) => [commitId(c.tenantId, c.seq), { ...c, _id: commitId(c.tenantId, c.seq), published: true }]),
  );
  const calls: string[][] = [];
  return {
    calls,
    getMany: (ids) => {
      calls.push([...ids]);
      return Promise.resolve(ids.flatMap((id) => docs.get(id) ?? []));
    },
  };
}

const offboard = ev('tenant.offboarded.v1', { tenantId: 'tnt_a' });

describe('checkCommitMessage', () => {
  const [c1, c2] = chain('tnt_a', 2) as [Commit, Commit];

  it('accepts the store commit itself, also after the Kafka round trip', () => {
    expect(checkCommitMessage(c1, c1)).toBeUndefined();
    expect(checkCommitMessage(fromMessage(Buffer.from(toMessage(c2).value)), c2)).toBeUndefined();
  });

  it('refuses a commit the store does not have, or has under another (tenant, seq)', () => {
    expect(checkCommitMessage(c1, null)).toBe('not-in-store');
    expect(checkCommitMessage(c1, c2)).toBe('not-in-store');
    expect(checkCommitMessage({ ...c1, tenantId: 'tnt_b' }, c1)).toBe('not-in-store');
  });

  it('refuses another hash, altered events under the real hash, and a re-sealed alteration', () => {
    expect(checkCommitMessage({ ...c1, hash: 'f'.repeat(64) }, c1)).toBe('hash-differs');
    expect(checkCommitMessage({ ...c1, events: [offboard] }, c1)).toBe('hash-does-not-recompute');
    expect(checkCommitMessage(sealCommit({ ...c1, events: [offboard] }), c1)).toBe('hash-differs');
  });

  it('refuses everything at a (tenant, seq) whose stored commit does not hash to its own hash', () => {
    const tampered = { ...c1, events: [offboard] };
    expect(checkCommitMessage(tampered, tampered)).toBe('stored-hash-does-not-recompute');
  });

  it('checkClaimedHash: the same rule from a hash already known', () => {
    expect(checkClaimedHash(c1, c1.hash)).toBeUndefined();
    expect(checkClaimedHash(c1, undefined)).toBe('not-in-store');
    expect(checkClaimedHash(c1, c2.hash)).toBe('hash-differs');
    expect(checkClaimedHash({ ...c1, events: [offboard] }, c1.hash)).toBe('hash-does-not-recompute');
  });
});

describe('verifyCommitMessages', () => {
  it('answers the store commits for matching messages with one lookup, and the rejections', async () => {
    const log = chain('tnt_a', 3);
    const lookup = store(log);
    const beyond = sealCommit({ tenantId: 'tnt_a', seq: 4, commandId: 'x', events: [offboard], committedAt: at, prevHash: log[2]!.hash });
    const messages = [log[0]!, { ...log[1]!, hash: '0'.repeat(64) }, log[2]!, log[2]!, beyond, { ...log[0]!, events: [offboard] }];
    const { verified, rejected } = await verifyCommitMessages(lookup, messages);
    expect(verified).toEqual([log[0], log[2], log[2]]);
    expect(rejected).toEqual([
      { tenantId: 'tnt_a', seq: 2, reason: 'hash-differs' },
      { tenantId: 'tnt_a', seq: 4, reason: 'not-in-store' },
      { tenantId: 'tnt_a', seq: 1, reason: 'hash-does-not-recompute' },
    ]);
    expect(lookup.calls).toEqual([['tnt_a:1', 'tnt_a:2', 'tnt_a:3', 'tnt_a:4']]);
  });

  it('applies what the store says, not what the message says', async () => {
    const [c1] = chain('tnt_a', 1) as [Commit];
    // A message equal in hash but with extra fields: the store's commit is what comes back.
    const padded = { ...c1, published: false, extra: 'x' } as unknown as Commit;
    const { verified } = await verifyCommitMessages(store([c1]), [padded]);
    expect(verified).toEqual([c1]);
    expect(Object.keys(verified[0]!)).not.toContain('extra');
  });

  it('does not query the store for an empty batch', async () => {
    const lookup = store([]);
    expect(await verifyCommitMessages(lookup, [])).toEqual({ verified: [], rejected: [] });
    expect(lookup.calls).toEqual([]);
  });
});

describe('fromMessage and describeRejected', () => {
  it('refuses messages that cannot be commits', () => {
    const bad = [
      { seq: 1, events: [], hash: 'h' },
      { tenantId: '', seq: 1, events: [], hash: 'h' },
      { tenantId: 't', seq: 0, events: [], hash: 'h' },
      { tenantId: 't', seq: 1.5, events: [], hash: 'h' },
      { tenantId: 't', seq: 1e300, events: [], hash: 'h' },
      { tenantId: 't', seq: 1, events: [] },
    ];
    for (const value of bad) expect(() => fromMessage(Buffer.from(JSON.stringify(value)))).toThrow('message is not a commit');
  });

  it('names a rejected message by quoted tenant id and seq only', () => {
    expect(describeRejected({ tenantId: 'tnt_a\nSECURITY: fine', seq: 3, reason: 'not-in-store' })).toBe(
      '"tnt_a\\nSECURITY: fine":3 (not-in-store)',
    );
    expect(describeRejected({ tenantId: 'x'.repeat(500), seq: 1, reason: 'hash-differs' })).toHaveLength(66 + 2 + 15);
  });
});
