import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupCli } from './support/backup-cli';
import { directoryBackups, tamperKekPart } from './support/backup-destinations';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

jest.setTimeout(300_000);

interface Verification {
  verificationId: string;
  snapshotId: string;
  status: 'pending' | 'running' | 'verified' | 'failed';
  code: string | null;
  detail: string | null;
  parts: { kek: { bytes: number; sha256: string }; dek: { bytes: number; sha256: string } } | null;
}
interface Run {
  runId: string;
  snapshotId: string | null;
  at: string;
  outcome: string;
  parts: { kek: { bytes: number; sha256: string; destination: string }; dek: { bytes: number; sha256: string; destination: string } };
  lastVerification: Verification | null;
}

const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');

/**
 * The backups as key-api shows them to provider-admins (GET /v1/sys/backups): the runs the backup
 * service records in the store, and verification on request, done by the backup service (which
 * alone holds the backup keys) with the CLI's verification code; a tampered part fails it.
 */
describe('backups through key-api: runs, sizes, verification (real Kafka, FerretDB, backup service)', () => {
  const stack = new KeywardStack();
  const { env: backupEnv, kekDir } = directoryBackups('kw-backup-status-');
  let backup: ServiceProcess;
  let tenant: { tenantId: string; adminKey: string };
  let others: Record<'tenant-admin' | 'key-user' | 'auditor', string>;
  let snapshotId: string;
  let written: { parts: { kek: { bytes: number }; dek: { bytes: number } } };

  const asProvider = (method: string, path: string): Promise<HttpAnswer> => stack.call(stack.providerKey, method, path);
  const verifyNow = async (id: string): Promise<Verification> => {
    const asked = await asProvider('POST', `/v1/sys/backups/${id}/verifications`);
    expect(asked.status).toBe(202);
    const request = asked.json<Verification>();
    expect(['pending', 'running']).toContain(request.status);
    let done = request;
    await stack.api.waitFor(async () => {
      done = (await asProvider('GET', `/v1/sys/backups/${id}/verifications/${request.verificationId}`)).json<Verification>();
      return done.status === 'verified' || done.status === 'failed';
    }, 60_000);
    return done;
  };

  beforeAll(async () => {
    await stack.start();
    backup = await stack.startBackup(backupEnv);
    tenant = await stack.onboard();
    others = {
      'tenant-admin': tenant.adminKey,
      'key-user': await stack.principal(tenant.adminKey, 'key-user'),
      auditor: await stack.principal(tenant.adminKey, 'auditor'),
    };
    expect((await stack.call(tenant.adminKey, 'POST', '/v1/keys', { activate: true })).status).toBe(201);
  });
  afterAll(async () => {
    await backup.stop();
    await stack.stop();
  });

  it('before any backup: no runs, no last success', async () => {
    const listed = await asProvider('GET', '/v1/sys/backups');
    expect(listed.status).toBe(200);
    expect(listed.json()).toEqual({ lastSuccess: null, items: [] });
  });

  it('a backup taken on the backup service is listed by key-api with its time, sizes and file digests, and nothing secret', async () => {
    const taken = await backup.request('POST', '/v1/backups', { headers: { authorization: `Bearer ${stack.providerKey}` } });
    expect(taken.status).toBe(201);
    written = taken.json();
    snapshotId = taken.json<{ snapshotId: string }>().snapshotId;

    const listed = await asProvider('GET', '/v1/sys/backups');
    expect(listed.status).toBe(200);
    const body = listed.json<{ lastSuccess: Run | null; items: Run[] }>();
    expect(body.lastSuccess).toMatchObject({ runId: snapshotId, snapshotId, outcome: 'success', trigger: 'api', lastVerification: null });
    expect(body.items.map((r) => r.snapshotId)).toEqual([snapshotId]);
    const parts = body.lastSuccess!.parts;
    expect([parts.kek.bytes, parts.dek.bytes]).toEqual([written.parts.kek.bytes, written.parts.dek.bytes]);
    expect(parts.kek.destination).toBe(kekDir);
    // The SHA-256 of the encrypted file on disk, as the signed manifest recorded it.
    expect(parts.kek.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(kekDir, snapshotId, 'kek.kwb')))
        .digest('hex'),
    );
    // No backup key, no fingerprint of one, no key material in any form.
    for (const file of [backupEnv.BACKUP_KEK_KEY_FILE, backupEnv.BACKUP_DEK_KEY_FILE]) {
      const key = readFileSync(file);
      for (const text of [key.toString('base64'), key.toString('hex')]) expect(listed.body).not.toContain(text);
    }
    expect(listed.body).not.toMatch(/fingerprint|sealed|kcv/i);

    const detail = await asProvider('GET', `/v1/sys/backups/${snapshotId}`);
    expect(detail.status).toBe(200);
    expect(detail.json()).toMatchObject({ snapshotId, verifications: [] });
  });

  it('tenant-admins, key-users and auditors get 403 on every backup route; a malformed id 400, an unknown one 404', async () => {
    for (const [role, key] of Object.entries(others)) {
      for (const [method, path] of [
        ['GET', '/v1/sys/backups'],
        ['GET', `/v1/sys/backups/${snapshotId}`],
        ['POST', `/v1/sys/backups/${snapshotId}/verifications`],
        ['GET', `/v1/sys/backups/${snapshotId}/verifications/vf-00000000-0000-4000-8000-000000000000`],
      ] as const) {
        const answer = await stack.call(key, method, path);
        expect({ role, method, path, status: answer.status, type: problemType(answer) }).toEqual({
          role,
          method,
          path,
          status: 403,
          type: 'forbidden-role',
        });
        expect(answer.headers['content-type']).toMatch(/problem\+json/);
      }
    }
    expect((await stack.api.get('/v1/sys/backups')).status).toBe(401);
    const malformed = await asProvider('POST', '/v1/sys/backups/bk-nope/verifications');
    expect([malformed.status, problemType(malformed)]).toEqual([400, 'validation']);
    const unknown = await asProvider('POST', '/v1/sys/backups/bk-20200101T000000000Z-00000000/verifications');
    expect([unknown.status, problemType(unknown)]).toEqual([404, 'not-found']);
    const badVerification = await asProvider('GET', `/v1/sys/backups/${snapshotId}/verifications/nope`);
    expect(badVerification.status).toBe(400);
    const bad = await asProvider('GET', '/v1/sys/backups?limit=0');
    expect([bad.status, problemType(bad)]).toEqual([400, 'validation']);
  });

  it('verify: the backup service reads both parts back and reports them verified', async () => {
    const done = await verifyNow(snapshotId);
    expect(done).toMatchObject({ snapshotId, status: 'verified', code: null, detail: null });
    expect([done.parts!.kek.bytes, done.parts!.dek.bytes]).toEqual([written.parts.kek.bytes, written.parts.dek.bytes]);
    const listed = (await asProvider('GET', '/v1/sys/backups')).json<{ lastSuccess: Run }>();
    expect(listed.lastSuccess.lastVerification).toMatchObject({ verificationId: done.verificationId, status: 'verified' });
  });

  it('a tampered part fails verification, with the reason and the place', async () => {
    tamperKekPart(kekDir, snapshotId);
    const done = await verifyNow(snapshotId);
    expect(done).toMatchObject({ status: 'failed', code: 'tampered', parts: null });
    expect(done.detail).toContain('kek.kwb');
    const detail = (await asProvider('GET', `/v1/sys/backups/${snapshotId}`)).json<{ verifications: Verification[] }>();
    expect(detail.verifications.map((v) => v.status)).toEqual(['failed', 'verified']);
  });

  it('a failed backup is listed as a failed run with its problem; the last success stays the snapshot before', async () => {
    // The DEK destination becomes a file: the next backup cannot write its part there.
    const dekDir = backupEnv.BACKUP_DEK_DEST;
    renameSync(dekDir, `${dekDir}.away`);
    writeFileSync(dekDir, 'not a directory');
    try {
      const failed = await backup.request('POST', '/v1/backups', { headers: { authorization: `Bearer ${stack.providerKey}` } });
      expect(failed.status).toBeGreaterThanOrEqual(500);
    } finally {
      rmSync(dekDir);
      renameSync(`${dekDir}.away`, dekDir);
    }
    const body = (await asProvider('GET', '/v1/sys/backups')).json<{ lastSuccess: Run; items: (Run & { problem: string | null })[] }>();
    expect(body.lastSuccess.snapshotId).toBe(snapshotId);
    expect(body.items.map((r) => [r.outcome, r.snapshotId])).toEqual([
      ['failed', null],
      ['success', snapshotId],
    ]);
    expect(body.items[0]!.runId).toMatch(/^failed-/);
    expect(body.items[0]!.problem).toContain('DEK');
  });

  it('a snapshot the store does not know (taken before these records existed, or its record lost) is recorded when the backup service starts', async () => {
    await stack.db.collection('backup_reports').deleteMany({});
    expect((await asProvider('GET', '/v1/sys/backups')).json()).toEqual({ lastSuccess: null, items: [] });
    await backup.stop();
    backup = await stack.startBackup(backupEnv);
    await stack.api.waitFor(async () => (await asProvider('GET', '/v1/sys/backups')).json<{ items: Run[] }>().items.length === 1, 30_000);
    const run = (await asProvider('GET', '/v1/sys/backups')).json<{ items: Run[] }>().items[0]!;
    // Its manifests still verify (the tampered chunk is in the part, not the manifest): listed as written.
    expect(run).toMatchObject({ snapshotId, outcome: 'success', trigger: 'api' });
    expect(run.parts.kek.bytes).toBe(written.parts.kek.bytes);
  });

  it('a backup taken by the CLI (keyward-backup backup now) is listed at once', async () => {
    const taken = await backupCli(['backup', 'now', '--json'], { ...stack.env, ...backupEnv });
    expect(taken.code).toBe(0);
    const cliSnapshot = taken.json<{ snapshotId: string }>().snapshotId;
    const body = (await asProvider('GET', '/v1/sys/backups')).json<{ lastSuccess: Run }>();
    expect(body.lastSuccess).toMatchObject({ snapshotId: cliSnapshot, trigger: 'cli', outcome: 'success' });
  });
});
