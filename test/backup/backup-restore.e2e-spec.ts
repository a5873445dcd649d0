import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { uniqueName } from '../support/env';
import { KeywardStack } from '../support/keyward-stack';
import { ServiceProcess, type HttpAnswer } from '../support/service-process';
import { backupCli, type CliRun } from './support/backup-cli';
import { S3Server } from './support/s3-server';

jest.setTimeout(600_000);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');
const DEK_BUCKET = 'kw-dek';

interface Sample {
  readonly ciphertext: string;
  readonly plaintext: string;
  readonly userKey: string;
}

interface BackupAnswer {
  snapshotId: string;
  seconds: number;
  parts: { kek: { bytes: number; records: Record<string, number> }; dek: { bytes: number; records: Record<string, number> } };
}

interface RestoreReport {
  snapshotId: string;
  keystore: { keks: number; materials: number };
  credentials: { restored?: number; kept?: number };
  log: { imported: number; commits: number; afterSnapshot: number };
  shredded: { total: number; afterSnapshot: number };
  revokedPrincipals: number;
  missingVersions: string[];
  views: { tenants: number };
  warnings: string[];
}

/**
 * The restore drill of issue 7: tenants, keys and sample ciphertexts; a backup to a directory (KEK
 * part) and an S3-compatible server (DEK part); destruction, offboarding and revocation after it;
 * MongoDB wiped; restore from both destinations, log replayed; every sample decrypts, and what was
 * destroyed after the snapshot stays destroyed. Then the refusals, each with its precise message.
 */
describe('backup and restore drill (real Kafka, FerretDB and an S3-compatible server)', () => {
  const stack = new KeywardStack();
  const work = mkdtempSync(join(tmpdir(), 'kw-backup-'));
  const kekKeyFile = join(work, 'kek-backup.key');
  const dekKeyFile = join(work, 'dek-backup.key');
  const kekDir = join(work, 'kek-snapshots');
  const dekPrefix = `s3://${DEK_BUCKET}/${uniqueName('keyward')}/dek`;
  let s3: S3Server;
  let backupEnv: Record<string, string>;
  let backup: ServiceProcess;
  const samples: Sample[] = [];
  const offboardedSamples: Sample[] = [];
  let acme: { adminKey: string; userKey: string };
  let doomed: { keyId: string; sample: Sample };
  let leaving: { tenantId: string; sample: Sample };
  let revokedKey: string;
  let lateKey: { keyId: string; sample: Sample };
  let snapshotId: string;
  let report: RestoreReport;

  /** The CLI with the stack's database and topic and the backup settings, plus overrides. */
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    backupCli(['backup', ...args], { ...stack.env, ...backupEnv, ...env });
  const rootKeyFile = (): string => join(stack.dataDir, 'root.key');
  const emptyDb = (): Record<string, string> => ({ MONGODB_DB: uniqueName('kw_restore').replace(/[-.]/g, '_') });

  const encryptSample = async (userKey: string, keyId: string, plaintext: string): Promise<Sample> => {
    const answer = await stack.call(userKey, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64(plaintext) });
    expect(answer.status).toBe(200);
    return { ciphertext: answer.json<{ ciphertext: string }>().ciphertext, plaintext, userKey };
  };
  const decrypt = (sample: Sample): Promise<HttpAnswer> =>
    stack.call(sample.userKey, 'POST', '/v1/decrypt', { ciphertext: sample.ciphertext });
  const createKey = async (adminKey: string): Promise<string> => {
    const answer = await stack.call(adminKey, 'POST', '/v1/keys', { activate: true });
    expect(answer.status).toBe(201);
    return answer.json<{ key: { keyId: string } }>().key.keyId;
  };

  beforeAll(async () => {
    writeFileSync(kekKeyFile, randomBytes(32), { mode: 0o600 });
    writeFileSync(dekKeyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    s3 = await S3Server.start([DEK_BUCKET]);
    backupEnv = {
      BACKUP_KEK_DEST: kekDir,
      BACKUP_DEK_DEST: dekPrefix,
      ...s3.env('DEK'),
      BACKUP_KEK_KEY_FILE: kekKeyFile,
      BACKUP_DEK_KEY_FILE: dekKeyFile,
      BACKUP_RETAIN: '5',
    };
    await stack.start();
    backup = await stack.startBackup(backupEnv);
  });

  afterAll(async () => {
    await backup.stop();
    await stack.stop();
    await s3.stop();
  });

  it('creates tenants, keys and sample ciphertexts', async () => {
    for (const name of ['Acme', 'Globex', 'Initech']) {
      const tenant = await stack.onboard(uniqueName(name));
      const user = await stack.principal(tenant.adminKey, 'key-user');
      // Initech is offboarded after the snapshot: its samples must stay undecryptable.
      const into = name === 'Initech' ? offboardedSamples : samples;
      for (let k = 0; k < 3; k++) {
        const keyId = await createKey(tenant.adminKey);
        into.push(await encryptSample(user, keyId, `${name} key ${k} v1`));
        if (k === 0) {
          expect((await stack.call(tenant.adminKey, 'POST', `/v1/keys/${keyId}/rotate`)).status).toBe(200);
          into.push(await encryptSample(user, keyId, `${name} key ${k} v2`));
        }
      }
      if (name === 'Acme') {
        const keyId = await createKey(tenant.adminKey);
        doomed = { keyId, sample: await encryptSample(user, keyId, 'to be destroyed after the snapshot') };
        const issued = await stack.call(tenant.adminKey, 'POST', '/v1/principals', { name: uniqueName('leaver'), role: 'key-user' });
        revokedKey = (await stack.enroll(issued.json<{ enrollment: { token: string } }>().enrollment.token)).apiKey;
        acme = { adminKey: tenant.adminKey, userKey: user };
      }
      if (name === 'Initech') {
        const keyId = await createKey(tenant.adminKey);
        leaving = { tenantId: tenant.tenantId, sample: await encryptSample(user, keyId, 'offboarded after the snapshot') };
      }
    }
    expect([samples.length, offboardedSamples.length]).toEqual([8, 4]);
  });

  it('POST /v1/backups is for provider-admins only; it takes a snapshot to both destinations, listed and measured', async () => {
    expect((await backup.request('POST', '/v1/backups')).status).toBe(401);
    const forbidden = await backup.request('POST', '/v1/backups', { headers: { authorization: `Bearer ${acme.adminKey}` } });
    expect([forbidden.status, problemType(forbidden)]).toEqual([403, 'forbidden']);
    const badKey = await backup.request('GET', '/v1/backups', {
      headers: { authorization: 'Bearer kw_AAAAAAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
    });
    expect(badKey.status).toBe(401);

    const auth = { authorization: `Bearer ${stack.providerKey}` };
    const taken = await backup.request('POST', '/v1/backups', { headers: auth });
    expect(taken.status).toBe(201);
    const result = taken.json<BackupAnswer>();
    snapshotId = result.snapshotId;
    expect(result.parts.kek.records).toEqual({ root: 1, kek: 3 });
    expect(result.parts.dek.records.material).toBe(3 * 4 + 2);
    expect(result.parts.dek.records.credential).toBeGreaterThanOrEqual(3 * 2 + 2);

    const listed = await backup.request('GET', '/v1/backups', { headers: auth });
    expect(listed.status).toBe(200);
    const items = listed.json<{ items: { snapshotId: string; complete: boolean; parts: { dek: { destination: string } } }[] }>().items;
    expect(items[0]).toMatchObject({ snapshotId, complete: true });
    expect(items[0]!.parts.dek.destination).toContain(`s3://${DEK_BUCKET}/`);
    const metrics = (await backup.get('/metrics')).body;
    const last = /^keyward_backup_last_success_timestamp_seconds\{[^}]*\} (\S+)$/m.exec(metrics);
    expect(Number(last?.[1])).toBeCloseTo(Date.now() / 1000, -2);

    // The KEK part is on disk, encrypted: no tenant id, no wrapped KEK in the clear.
    const kekFile = readFileSync(join(kekDir, snapshotId, 'kek.kwb'));
    expect(kekFile.subarray(0, 4).toString()).toBe('KWBK');
    const kekDoc = await stack.db.collection<{ _id: string; sealed: { buffer: Uint8Array } }>('keystore').findOne({ kind: 'kek' });
    expect(kekFile.includes(Buffer.from(kekDoc!.sealed.buffer))).toBe(false);

    const verified = await cli(['verify', snapshotId, '--root-key-file', rootKeyFile(), '--json']);
    expect(verified.code).toBe(0);
    expect(verified.json<{ deep: { keks: number; materials: number } }>().deep).toEqual({ keks: 3, materials: 14, withoutKek: 0 });
  });

  it('after the snapshot: a key is destroyed, a tenant offboarded, a principal revoked, a key created', async () => {
    const { adminKey, userKey } = acme;
    expect((await stack.call(adminKey, 'POST', `/v1/keys/${doomed.keyId}/deactivate`)).status).toBe(200);
    expect((await stack.call(adminKey, 'POST', `/v1/keys/${doomed.keyId}/schedule-destruction`, { waitingPeriodDays: 1 })).status).toBe(
      200,
    );
    const revoked = await stack.call(adminKey, 'GET', '/v1/principals');
    const leaver = revoked.json<{ items: { principalId: string; name: string }[] }>().items.find((p) => p.name.startsWith('leaver'));
    expect((await stack.call(adminKey, 'DELETE', `/v1/principals/${leaver!.principalId}`)).status).toBe(200);
    const lateId = await createKey(adminKey);
    lateKey = { keyId: lateId, sample: await encryptSample(userKey, lateId, 'created after the snapshot') };
    const offboarded = await stack.call(stack.providerKey, 'POST', `/v1/tenants/${leaving.tenantId}/offboard`, {
      confirm: leaving.tenantId,
    });
    expect(offboarded.status).toBe(200);

    // Two days later (business clock of a test run), the scheduler destroys the key.
    await stack.restartApi({ KEYWARD_CLOCK_OFFSET_MS: String(2 * 86_400_000) });
    await stack.api.waitFor(async () => {
      const view = await stack.call(adminKey, 'GET', `/v1/keys/${doomed.keyId}`);
      return view.json<{ state: string }>().state === 'Destroyed';
    }, 60_000);
    const keystore = stack.db.collection('keystore');
    expect(await keystore.countDocuments({ keyId: doomed.keyId })).toBe(0);
    expect(await keystore.countDocuments({ tenantId: leaving.tenantId })).toBe(0);
    // Everything reached Kafka before the disaster.
    await stack.api.waitFor(async () => (await stack.db.collection('commits').countDocuments({ published: false })) === 0, 30_000);
  });

  it('wipe MongoDB, restore from both destinations, replay: every sample decrypts; what was destroyed stays destroyed', async () => {
    await Promise.all([stack.api.stop(), stack.projector.stop(), backup.stop()]);
    await stack.db.dropDatabase();
    expect(await stack.db.listCollections().toArray()).toEqual([]);

    const restored = await cli(['restore', snapshotId, '--root-key-file', rootKeyFile(), '--json']);
    expect(restored.stderr).not.toMatch(/refused/);
    expect(restored.code).toBe(0);
    report = restored.json<RestoreReport>();
    expect(report.keystore).toEqual({ keks: 3, materials: 14 });
    expect(report.log.imported).toBe(report.log.commits);
    expect(report.log.afterSnapshot).toBeGreaterThanOrEqual(5);
    // Replaying the log shredded again: the destroyed key's version, the offboarded tenant's KEK and its 5 pieces of material.
    expect(report.shredded.afterSnapshot).toBe(1 + 1 + 5);
    expect(report.revokedPrincipals).toBe(1);
    expect(report.missingVersions).toEqual([expect.stringContaining(`/${lateKey.keyId} v1`) as string]);
    expect(report.warnings.join('\n')).toMatch(/1 key version\(s\) in the log have no material/);
    expect(report.views.tenants).toBe(4);

    stack.api = await stack.startApi();
    await stack.restartProjector();
    for (const sample of samples) {
      const answer = await decrypt(sample);
      expect(answer.status).toBe(200);
      expect(Buffer.from(answer.json<{ plaintext: string }>().plaintext, 'base64').toString('utf8')).toBe(sample.plaintext);
    }
    const destroyed = await decrypt(doomed.sample);
    expect([destroyed.status, problemType(destroyed)]).toEqual([409, 'key-destroyed']);
    for (const sample of [leaving.sample, ...offboardedSamples]) {
      const offboarded = await decrypt(sample);
      expect([offboarded.status, problemType(offboarded)]).toEqual([423, 'tenant-inactive']);
    }
    // Created after the snapshot: the log knows it, no backup holds its material (the restore warned).
    const late = await decrypt(lateKey.sample);
    expect([late.status, problemType(late)]).toEqual([409, 'key-destroyed']);
    const revoked = await stack.call(revokedKey, 'POST', '/v1/decrypt', { ciphertext: samples[0]!.ciphertext });
    expect(revoked.status).toBe(401);
    const keystore = stack.db.collection('keystore');
    expect(await keystore.countDocuments({ keyId: doomed.keyId })).toBe(0);
    expect(await keystore.countDocuments({ tenantId: leaving.tenantId })).toBe(0);

    // The views rebuilt by the restore are those a projection rebuild from Kafka gives.
    const rebuilt = await stack.rebuildInto(uniqueName('scratch').replace(/[-.]/g, '_'));
    expect(rebuilt.mismatched).toEqual([]);
    // And key-api works on: new keys, new commits, the projector follows.
    const { adminKey } = acme;
    const fresh = await stack.call(adminKey, 'POST', '/v1/keys', { activate: true });
    expect(fresh.status).toBe(201);
    const view = await stack.call(
      adminKey,
      'GET',
      `/v1/keys/${fresh.json<{ key: { keyId: string } }>().key.keyId}?minSeq=${fresh.json<{ seq: number }>().seq}`,
    );
    expect(view.status).toBe(200);
  });

  describe('refusals, each precise, and nothing written', () => {
    let second: string;
    const s3Client = (): S3Client =>
      new S3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: S3Server.accessKeyId, secretAccessKey: S3Server.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });

    /** Runs a restore into a fresh empty database; it must be refused, and leave that database empty. */
    const refusedRestore = async (args: string[], env: Record<string, string> = {}): Promise<string> => {
      const target = emptyDb();
      const run = await cli(['restore', ...args], { ...target, ...env });
      expect(run.code).toBe(1);
      const lines = run.stderr.trim().split('\n');
      const refusal = lines.find((line) => line.includes(': refused (')) ?? lines.at(-1) ?? '';
      const client = await MongoClient.connect(stack.env.MONGODB_URI!);
      try {
        const db = client.db(target.MONGODB_DB);
        expect(await db.collection('keystore').countDocuments({})).toBe(0);
        expect(await db.collection('commits').countDocuments({})).toBe(0);
        await db.dropDatabase();
      } finally {
        await client.close();
      }
      return refusal;
    };

    beforeAll(async () => {
      const taken = await cli(['now', '--json']);
      expect(taken.code).toBe(0);
      second = taken.json<BackupAnswer>().snapshotId;
    });

    it('the restored deployment backs up again, and verify passes on it', async () => {
      const verified = await cli(['verify', second, '--root-key-file', rootKeyFile()]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toMatch(/verified in/);
      const listed = await cli(['list', '--json']);
      expect(listed.json<{ items: { snapshotId: string; complete: boolean }[] }>().items.map((i) => [i.snapshotId, i.complete])).toEqual([
        [second, true],
        [snapshotId, true],
      ]);
    });

    it('refuses a non-empty keystore', async () => {
      const run = await cli(['restore', snapshotId, '--root-key-file', rootKeyFile()]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /refused \(not-empty\): the keystore of database \S+ is not empty \(\d+ KEK\(s\), \d+ piece\(s\) of material\)/,
      );
    });

    it('refuses with one destination missing', async () => {
      const noDek = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--dek-dest', `s3://${DEK_BUCKET}/nowhere`]);
      expect(noDek).toBe(
        `keyward backup restore: refused (missing-part): the DEK part of snapshot ${snapshotId} is missing: s3://${DEK_BUCKET}/nowhere at ${s3.endpoint} holds no such snapshot`,
      );
      const emptyDir = mkdtempSync(join(tmpdir(), 'kw-empty-'));
      const noKek = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--kek-dest', emptyDir]);
      expect(noKek).toBe(
        `keyward backup restore: refused (missing-part): the KEK part of snapshot ${snapshotId} is missing: ${emptyDir} holds no such snapshot`,
      );
    });

    it('refuses the two backup keys swapped, and a wrong key', async () => {
      const swapped = await refusedRestore([
        snapshotId,
        '--root-key-file',
        rootKeyFile(),
        '--kek-key-file',
        dekKeyFile,
        '--dek-key-file',
        kekKeyFile,
      ]);
      expect(swapped).toMatch(
        /^keyward backup restore: refused \(swapped-keys\): the KEK manifest of snapshot \S+ \(.*\) is signed with the key given as the DEK backup key: the two backup keys are swapped$/,
      );
      const otherKey = join(work, 'other.key');
      writeFileSync(otherKey, randomBytes(32));
      const wrong = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--dek-key-file', otherKey]);
      expect(wrong).toMatch(
        /refused \(wrong-key\): the DEK manifest of snapshot .* is signed with backup key [0-9a-f]{16}, not with the DEK backup key given \([0-9a-f]{16}\)$/,
      );
    });

    it('refuses a flipped byte in the KEK part (directory) and in the DEK part (S3)', async () => {
      const copy = mkdtempSync(join(tmpdir(), 'kw-tampered-'));
      cpSync(join(kekDir, snapshotId), join(copy, snapshotId), { recursive: true });
      const file = join(copy, snapshotId, 'kek.kwb');
      const bytes = readFileSync(file);
      bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0x01;
      writeFileSync(file, bytes);
      const kek = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--kek-dest', copy]);
      expect(kek).toBe(
        `keyward backup restore: refused (tampered): the KEK part of snapshot ${snapshotId} (${file}) was altered: its header or first chunk failed authentication`,
      );

      const client = s3Client();
      const prefix = uniqueName('tampered');
      try {
        const base = dekPrefix.replace(`s3://${DEK_BUCKET}/`, '');
        for (const name of ['manifest.json', 'dek.kwb']) {
          const object = await client.send(new GetObjectCommand({ Bucket: DEK_BUCKET, Key: `${base}/${snapshotId}/${name}` }));
          const body = Buffer.from(await object.Body!.transformToByteArray());
          if (name === 'dek.kwb') body[Math.floor(body.length / 2)] = body[Math.floor(body.length / 2)]! ^ 0x10;
          await client.send(new PutObjectCommand({ Bucket: DEK_BUCKET, Key: `${prefix}/${snapshotId}/${name}`, Body: body }));
        }
      } finally {
        client.destroy();
      }
      const dek = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--dek-dest', `s3://${DEK_BUCKET}/${prefix}`]);
      expect(dek).toMatch(
        new RegExp(
          `^keyward backup restore: refused \\(tampered\\): the DEK part of snapshot ${snapshotId} \\(s3://${DEK_BUCKET}/${prefix}/${snapshotId}/dek.kwb\\) was altered: (chunk \\d+|its header or first chunk) failed authentication`,
        ),
      );
      // verify says the same, without a database.
      const verify = await cli(['verify', snapshotId, '--dek-dest', `s3://${DEK_BUCKET}/${prefix}`]);
      expect(verify.code).toBe(1);
      expect(verify.stderr).toMatch(/refused \(tampered\)/);
    });

    it('refuses a mismatched pair, and the wrong root key', async () => {
      const pair = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--dek-snapshot', second]);
      expect(pair).toMatch(
        new RegExp(
          `refused \\(mismatched-pair\\): the KEK part is snapshot ${snapshotId} \\(.*\\) but the DEK part is snapshot ${second} \\(.*\\): a restore needs both parts of one snapshot$`,
        ),
      );
      // A DEK part copied under another snapshot's id is caught too.
      const copy = mkdtempSync(join(tmpdir(), 'kw-pair-'));
      cpSync(join(kekDir, second), join(copy, snapshotId), { recursive: true });
      const moved = await refusedRestore([snapshotId, '--root-key-file', rootKeyFile(), '--kek-dest', copy]);
      expect(moved).toMatch(
        /refused \(mismatched-pair\): the KEK manifest of snapshot .* describes snapshot \S+, not \S+: it was moved from another snapshot$/,
      );
      const otherRoot = join(work, 'other-root.key');
      writeFileSync(otherRoot, randomBytes(32).toString('base64'));
      const root = await refusedRestore([snapshotId, '--root-key-file', otherRoot]);
      expect(root).toMatch(
        /refused \(root-key-mismatch\): the root key given \(check value [0-9a-f]{16}\) is not the root key of snapshot \S+ \([0-9a-f]{16}\): its KEKs cannot be unwrapped$/,
      );
    });

    it('the backup service refuses to start with both destinations in one place, or a backup key that is the root key', async () => {
      const same = await ServiceProcess.runToExit('backup', { ...stack.env, ...backupEnv, BACKUP_DEK_DEST: join(kekDir, 'dek') });
      expect(same.code).toBe(78);
      expect(same.output).toMatch(/BACKUP_KEK_DEST \/ BACKUP_DEK_DEST: must be two different places/);
      const root = await ServiceProcess.runToExit('backup', { ...stack.env, ...backupEnv, BACKUP_DEK_KEY_FILE: rootKeyFile() });
      expect(root.code).toBe(1);
      expect(root.output).toMatch(/the DEK backup key is the root key/);
    });
  });
});
