import { generateKeyPairSync } from 'node:crypto';
import { decide, stamp, TenantLog, evolveCommit, type Actor, type KeywardCommand } from '@keyward/domain';
import { GENESIS_HASH, sealCommit, type Commit } from '../commit/commit';
import { afterCursor, auditEvents, decodeEventCursor, encodeEventCursor, matchesFilter, type AuditEvent } from './audit-event';
import { ChainWalker, compareWithTopic, firstProblem, type StoredLink } from './chain-audit';
import { checkpointPayload, signCheckpoint, signingKeyId, verifyCheckpoint } from './checkpoint-signature';
import { csvField, csvRecord, CSV_COLUMNS, CSV_HEADER, jsonLine, parseCsv } from './export-format';
import { PointInTimeReplay } from './point-in-time';

const PROVIDER: Actor = { principalId: 'prn_provider01', role: 'provider-admin' };
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const minute = (n: number): string => new Date(T0 + n * 60_000).toISOString();

/** A real history decided by the domain: onboard, create key, rotate, deactivate, one commit a minute. */
function history(): Commit[] {
  const tenantId = 'tnt_audit01';
  const log = new TenantLog(tenantId);
  const commits: Commit[] = [];
  let prevHash = GENESIS_HASH;
  const run = (command: KeywardCommand, actor: Actor, at: string): void => {
    const ctx = { now: new Date(at), actor, correlationId: `req-${commits.length + 1}` };
    const commit = sealCommit({
      tenantId,
      seq: log.seq + 1,
      commandId: ctx.correlationId,
      events: stamp(decide(command, log, ctx), ctx),
      committedAt: at,
      prevHash,
    });
    evolveCommit(log, commit);
    prevHash = commit.hash;
    commits.push(commit);
  };
  run(
    { kind: 'tenant.onboard', tenantId, name: 'Audit Co', firstAdmin: { principalId: ADMIN.principalId, name: 'alice' } },
    PROVIDER,
    minute(0),
  );
  run({ kind: 'key.create', keyId: 'key_aaaaaaaaaa', keyType: 'AES-256-GCM', activate: true, kcv: 'aaaa1111aaaa1111' }, ADMIN, minute(1));
  run({ kind: 'key.rotate', keyId: 'key_aaaaaaaaaa', kcv: 'bbbb2222bbbb2222' }, ADMIN, minute(2));
  run({ kind: 'key.deactivate', keyId: 'key_aaaaaaaaaa' }, ADMIN, minute(3));
  run(
    {
      kind: 'key.create',
      keyId: 'key_bbbbbbbbbb',
      keyType: 'HMAC-SHA256',
      kcv: 'cccc3333cccc3333',
      description: 'a "quoted", \nmulti-line one',
    },
    ADMIN,
    minute(4),
  );
  return commits;
}

describe('ChainWalker', () => {
  const walk = (commits: Commit[]) => {
    const walker = new ChainWalker();
    for (const c of commits) walker.accept(c);
    return walker;
  };

  it('verifies an intact history through its head', () => {
    const commits = history();
    const walker = walk(commits);
    expect(walker.problem).toBeUndefined();
    expect(walker.verifiedThroughSeq).toBe(5);
    expect(walker.headHash).toBe(commits[4]!.hash);
  });

  it('pinpoints an altered commit, a removed one and a re-sealed one', () => {
    const commits = history();
    const altered = { ...commits[2]!, committedAt: minute(30) };
    expect(walk([commits[0]!, commits[1]!, altered, commits[3]!]).problem).toMatchObject({ seq: 3, problem: 'hash-mismatch' });
    const removed = walk([commits[0]!, commits[1]!, commits[3]!, commits[4]!]);
    expect(removed.problem).toMatchObject({ seq: 3, problem: 'missing-commit' });
    expect(removed.verifiedThroughSeq).toBe(2);
    const resealed = sealCommit({ ...commits[2]!, commandId: 'forged' });
    expect(walk([commits[0]!, commits[1]!, resealed, commits[3]!]).problem).toMatchObject({ seq: 4, problem: 'broken-link' });
  });

  it('starts from a checkpoint: a seq and the hash it must link to', () => {
    const commits = history();
    const walker = new ChainWalker(3, commits[1]!.hash);
    for (const c of commits.slice(2)) walker.accept(c);
    expect([walker.problem, walker.verifiedThroughSeq]).toEqual([undefined, 5]);
    const wrong = new ChainWalker(3, 'f'.repeat(64));
    expect(wrong.accept(commits[2]!)).toMatchObject({ seq: 3, problem: 'broken-link' });
  });
});

describe('compareWithTopic', () => {
  const commits = history();
  const store = (published = true): Map<number, StoredLink> => new Map(commits.map((c) => [c.seq, { hash: c.hash, published }]));
  const topic = (cs: Commit[]) => cs.map((c) => ({ seq: c.seq, hash: c.hash, valid: true }));

  it('agrees when the topic holds every published commit with the same hash, duplicates included', () => {
    const result = compareWithTopic(store(), topic([...commits, commits[1]!]));
    expect(result).toEqual({ messages: 6, publishedThroughSeq: 5, problem: undefined });
  });

  it('accepts commits the relay has not published yet', () => {
    const s = store();
    s.set(5, { hash: commits[4]!.hash, published: false });
    expect(compareWithTopic(s, topic(commits.slice(0, 4)))).toEqual({ messages: 4, publishedThroughSeq: 4, problem: undefined });
  });

  it('pinpoints a hash the topic disagrees with, a published commit the topic lacks and a commit the store lost', () => {
    const mismatch = topic(commits).map((l) => (l.seq === 2 ? { ...l, hash: '0'.repeat(64) } : l));
    expect(compareWithTopic(store(), mismatch).problem).toMatchObject({ seq: 2, problem: 'kafka-mismatch' });
    expect(compareWithTopic(store(), topic(commits.slice(0, 3))).problem).toMatchObject({ seq: 4, problem: 'kafka-missing' });
    const lost = store();
    lost.delete(5);
    expect(compareWithTopic(lost, topic(commits)).problem).toMatchObject({ seq: 5, problem: 'missing-commit' });
    // ...unless the store has it by now (written while the topic was read).
    expect(compareWithTopic(lost, topic(commits), 1, new Set([5])).problem).toBeUndefined();
    expect(compareWithTopic(store(), [{ seq: 3, hash: 'x', valid: false }]).problem).toMatchObject({ seq: 1, problem: 'kafka-missing' });
  });

  it('compares only from a starting seq', () => {
    expect(compareWithTopic(store(), topic(commits.slice(3)), 4)).toEqual({ messages: 2, publishedThroughSeq: 5, problem: undefined });
  });

  it('firstProblem picks the lowest seq', () => {
    const a = { seq: 4, problem: 'hash-mismatch' as const, detail: '' };
    const b = { seq: 2, problem: 'kafka-mismatch' as const, detail: '' };
    expect(firstProblem(undefined, a, b)).toBe(b);
    expect(firstProblem(undefined)).toBeUndefined();
  });
});

describe('PointInTimeReplay', () => {
  const stateAt = (at: string) => {
    const replay = new PointInTimeReplay('tnt_audit01', at);
    for (const c of history()) if (!replay.accept(c)) break;
    return replay;
  };

  it('rebuilds the key set exactly as it was between create, rotate and deactivate', () => {
    expect(stateAt(minute(-1)).log.tenant).toBeUndefined();
    const created = stateAt(minute(1.5)).log.keys.get('key_aaaaaaaaaa')!;
    expect([created.state, created.latestVersion]).toEqual(['Active', 1]);
    const rotated = stateAt(minute(2.5));
    expect(rotated.log.keys.get('key_aaaaaaaaaa')).toMatchObject({ state: 'Active', latestVersion: 2 });
    expect(rotated.head.seq).toBe(3);
    expect(stateAt(minute(3)).log.keys.get('key_aaaaaaaaaa')).toMatchObject({ state: 'Deactivated', latestVersion: 2 });
    const now = stateAt(minute(60));
    expect([now.log.keys.size, now.head.seq, now.done]).toEqual([2, 5, false]);
  });

  it('ends the prefix at the first later commit', () => {
    const replay = new PointInTimeReplay('tnt_audit01', new Date(minute(1)));
    const commits = history();
    expect(commits.map((c) => replay.accept(c))).toEqual([true, true, false, false, false]);
    expect(replay.done).toBe(true);
    expect(replay.head).toEqual({ seq: 2, hash: commits[1]!.hash, committedAt: minute(1) });
    expect(() => new PointInTimeReplay('t', 'yesterday')).toThrow(RangeError);
  });
});

describe('signed checkpoints', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const claim = { tenantId: 'tnt_audit01', seq: 5, hash: 'ab'.repeat(32), at: minute(10) };

  it('signs the canonical head and verifies with the public key only', () => {
    const signed = signCheckpoint(claim, privateKey);
    expect(signed).toMatchObject({ ...claim, alg: 'Ed25519', keyId: signingKeyId(publicKey) });
    expect(checkpointPayload(claim)).toBe(`{"at":"${claim.at}","hash":"${claim.hash}","seq":5,"tenantId":"tnt_audit01","v":1}`);
    expect(verifyCheckpoint(signed, publicKey)).toBe(true);
    expect(verifyCheckpoint(signed, publicKey.export({ type: 'spki', format: 'pem' }).toString())).toBe(true);
  });

  it('refuses a changed claim, another key and garbage', () => {
    const signed = signCheckpoint(claim, privateKey);
    expect(verifyCheckpoint({ ...signed, seq: 6 }, publicKey)).toBe(false);
    expect(verifyCheckpoint({ ...signed, hash: 'cd'.repeat(32) }, publicKey)).toBe(false);
    expect(verifyCheckpoint(signed, generateKeyPairSync('ed25519').publicKey)).toBe(false);
    expect(verifyCheckpoint(signed, 'not a key')).toBe(false);
    expect(verifyCheckpoint(signed, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)).toBe(false);
    expect(() => signCheckpoint(claim, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)).toThrow(TypeError);
  });
});

describe('audit events, filters and exports', () => {
  const events: AuditEvent[] = history().flatMap(auditEvents);

  it('flattens commits into events with their place in the chain', () => {
    expect(events.map((e) => [e.seq, e.index, e.type])).toEqual([
      [1, 0, 'tenant.onboarded.v1'],
      [1, 1, 'principal.created.v1'],
      [2, 0, 'key.created.v1'],
      [2, 1, 'key.activated.v1'],
      [3, 0, 'key.rotated.v1'],
      [4, 0, 'key.deactivated.v1'],
      [5, 0, 'key.created.v1'],
    ]);
    expect(events[0]).toMatchObject({ tenantId: 'tnt_audit01', actor: PROVIDER, at: minute(0), correlationId: 'req-1' });
  });

  it('filters by seq, time (inclusive), key, type prefix, and approvals of the key', () => {
    const pick = (f: Parameters<typeof matchesFilter>[1], approvals?: Set<string>) =>
      events.filter((e) => matchesFilter(e, f, approvals)).map((e) => `${e.seq}.${e.index}`);
    expect(pick({ fromSeq: 2, toSeq: 3 })).toEqual(['2.0', '2.1', '3.0']);
    expect(pick({ from: minute(2), to: minute(3) })).toEqual(['3.0', '4.0']);
    expect(pick({ keyId: 'key_bbbbbbbbbb' })).toEqual(['5.0']);
    expect(pick({ type: 'key.created' })).toEqual(['2.0', '5.0']);
    expect(pick({ type: 'key.created.v1', keyId: 'key_aaaaaaaaaa' })).toEqual(['2.0']);
    expect(pick({ type: 'key.create' })).toEqual([]);
    const approval: AuditEvent = { ...events[0]!, seq: 9, type: 'approval.granted.v1', data: { approvalId: 'apr_1' } };
    expect(matchesFilter(approval, { keyId: 'key_aaaaaaaaaa' }, new Set(['apr_1']))).toBe(true);
    expect(matchesFilter(approval, { keyId: 'key_aaaaaaaaaa' })).toBe(false);
    const requested = { ...approval, type: 'approval.requested.v1', data: { approvalId: 'apr_2', command: { keyId: 'key_aaaaaaaaaa' } } };
    expect(matchesFilter(requested, { keyId: 'key_aaaaaaaaaa' })).toBe(true);
  });

  it('pages with a stable cursor', () => {
    const cursor = decodeEventCursor(encodeEventCursor({ seq: 2, index: 1 }));
    expect(cursor).toEqual({ seq: 2, index: 1 });
    expect(events.filter((e) => afterCursor(e, cursor)).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(decodeEventCursor('2-x')).toBeUndefined();
    expect(decodeEventCursor('../etc')).toBeUndefined();
  });

  it('writes CSV that parses back to the events, quotes and newlines included', () => {
    const text = CSV_HEADER + events.map(csvRecord).join('');
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(events.length);
    rows.forEach((row, i) => {
      const e = events[i]!;
      expect(row.slice(0, 8)).toEqual([
        e.tenantId,
        String(e.seq),
        String(e.index),
        e.at,
        e.type,
        e.actor.principalId,
        e.actor.role,
        e.correlationId,
      ]);
      expect(JSON.parse(row[10]!)).toEqual(e.data);
      expect(row[9]).toBe(e.commitHash);
    });
    expect(rows[6]![8]).toBe('key_bbbbbbbbbb');
    expect(csvField('=cmd|calc')).toBe("'=cmd|calc");
    expect(csvField('a,"b"')).toBe('"a,""b"""');
  });

  it('writes JSON Lines, one event per line', () => {
    const lines = events.map(jsonLine).join('').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as AuditEvent)).toEqual(events);
  });
});
