import { BackupError } from '@keyward/crypto';
import { failedReport, foundReport, publicDestination, snapshotTime, writtenReport, type WrittenSnapshot } from './backup-report';
import { failedOutcome } from './backup-verification';

const written: WrittenSnapshot = {
  snapshotId: 'bk-20261203T010203456Z-0a1b2c3d',
  createdAt: '2026-12-03T01:02:03.456Z',
  trigger: 'api',
  seconds: 1.5,
  tenants: 2,
  parts: {
    kek: { destination: '/mnt/a/keyward', bytes: 900, sha256: 'a'.repeat(64), records: { root: 1, kek: 2 } },
    dek: {
      destination: 's3://dek/prod at https://user:secret@s3.example.net',
      bytes: 4096,
      sha256: 'b'.repeat(64),
      records: { material: 7 },
    },
  },
};

describe('backup reports', () => {
  it('a destination never carries the user:password an endpoint URL may hold', () => {
    expect(publicDestination('s3://dek/prod at https://user:secret@s3.example.net')).toBe('s3://dek/prod at https://s3.example.net');
    expect(publicDestination('writing https://AKIA:x%2Fy@h:9000/b failed')).toBe('writing https://h:9000/b failed');
    expect(publicDestination('/mnt/vault-a/keyward')).toBe('/mnt/vault-a/keyward');
    expect(publicDestination('s3://bucket/prefix')).toBe('s3://bucket/prefix');
  });

  it('reads the time out of a snapshot id, and refuses what is not one', () => {
    expect(snapshotTime('bk-20261203T010203456Z-0a1b2c3d')?.toISOString()).toBe('2026-12-03T01:02:03.456Z');
    expect(snapshotTime('bk-nonsense')).toBeNull();
  });

  it('a written snapshot is recorded with its sizes, file digests and counts, nothing about its keys', () => {
    const report = writtenReport(written, new Date('2026-12-03T01:02:05Z'));
    expect(report).toEqual({
      _id: written.snapshotId,
      snapshotId: written.snapshotId,
      at: new Date(written.createdAt),
      trigger: 'api',
      outcome: 'success',
      seconds: 1.5,
      tenants: 2,
      parts: {
        kek: { destination: '/mnt/a/keyward', bytes: 900, sha256: 'a'.repeat(64), records: { root: 1, kek: 2 } },
        dek: { destination: 's3://dek/prod at https://s3.example.net', bytes: 4096, sha256: 'b'.repeat(64), records: { material: 7 } },
      },
      problem: null,
      recordedAt: new Date('2026-12-03T01:02:05Z'),
    });
    expect(JSON.stringify(report)).not.toMatch(/secret|fingerprint/i);
  });

  it('a failed backup is a run of its own, with no snapshot and its problem', () => {
    const at = new Date('2026-12-03T01:00:00Z');
    const report = failedReport('schedule', 'https://k:s@h/b: access denied', at, 'ffff0000', new Date('2026-12-03T01:00:02Z'));
    expect(report).toMatchObject({ _id: 'failed-2026-12-03T01:00:00.000Z-ffff0000', snapshotId: null, outcome: 'failed', seconds: 2 });
    expect(report.problem).toBe('https://h/b: access denied');
  });

  it('a snapshot found at start splits its counts by part; an incomplete one keeps why, and its time from its id', () => {
    const complete = foundReport({
      snapshotId: written.snapshotId,
      createdAt: written.createdAt,
      trigger: 'cli',
      complete: true,
      problem: null,
      tenants: 2,
      records: { root: 1, kek: 2, material: 7, credential: 3 },
      parts: {
        kek: { destination: '/a', bytes: 900, sha256: 'c'.repeat(64), present: true },
        dek: { destination: '/b', bytes: 4096, sha256: null, present: true },
      },
    });
    expect(complete.outcome).toBe('success');
    expect(complete.parts).toEqual({
      kek: { destination: '/a', bytes: 900, sha256: 'c'.repeat(64), records: { root: 1, kek: 2 } },
      dek: { destination: '/b', bytes: 4096, sha256: null, records: { material: 7, credential: 3 } },
    });
    const incomplete = foundReport({
      snapshotId: 'bk-20261201T000000000Z-00000000',
      createdAt: null,
      trigger: null,
      complete: false,
      problem: 'the DEK part of snapshot bk-20261201T000000000Z-00000000 is missing',
      tenants: null,
      records: {},
      parts: {
        kek: { destination: '/a', bytes: null, sha256: null, present: true },
        dek: { destination: '/b', bytes: null, sha256: null, present: false },
      },
    });
    expect(incomplete).toMatchObject({
      outcome: 'incomplete',
      at: new Date('2026-12-01T00:00:00Z'),
      problem: expect.stringContaining('missing') as string,
    });
  });
});

describe('verification outcomes', () => {
  it('a backup refusal keeps its code and its message', () => {
    const outcome = failedOutcome(new BackupError('tampered', 'chunk 0 of /kek/bk-x/kek.kwb does not authenticate'), 0.2);
    expect(outcome).toEqual({
      status: 'failed',
      code: 'tampered',
      detail: 'chunk 0 of /kek/bk-x/kek.kwb does not authenticate',
      seconds: 0.2,
    });
  });

  it('anything else is an error, its message stripped of credentials', () => {
    expect(failedOutcome(new Error('https://id:key@s3.local/b: ECONNREFUSED'), 1)).toEqual({
      status: 'failed',
      code: 'error',
      detail: 'https://s3.local/b: ECONNREFUSED',
      seconds: 1,
    });
  });
});
