import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Binary, MongoClient } from 'mongodb';
import { keyCheckValue, materialId, wrapKek, wrapMaterial, type KeystoreDocument } from '@keyward/crypto';
import { testInfra, uniqueName } from '../support/env';
import { ServiceProcess } from '../support/service-process';
import { backupCli } from './support/backup-cli';

jest.setTimeout(600_000);

const KEYS = 10_000;
const TENANTS = 20;

interface Timed {
  seconds: number;
}

/**
 * Scale and schedule: a keystore of 10,000 key versions (written straight into the keystore
 * collection, wrapped as key-api wraps them) is backed up, verified down to every check value and
 * restored, with the time and size printed; and the backup service takes snapshots on a cron
 * schedule and keeps only the newest BACKUP_RETAIN.
 */
describe('backup at scale and on a schedule (real FerretDB and Kafka)', () => {
  const infra = testInfra();
  const work = mkdtempSync(join(tmpdir(), 'kw-backup-scale-'));
  const rootKey = randomBytes(32);
  const env: Record<string, string> = {
    KAFKA_BROKERS: infra.brokers.join(','),
    MONGODB_URI: infra.mongoUri,
    MONGODB_DB: uniqueName('kw_scale').replace(/[-.]/g, '_'),
    KAFKA_TOPIC_EVENTS: uniqueName('spec.events'),
    KEYWARD_DATA: work,
    ROOT_KEY_FILE: join(work, 'root.key'),
    BACKUP_KEK_DEST: join(work, 'kek'),
    BACKUP_DEK_DEST: join(work, 'dek'),
    BACKUP_KEK_KEY_FILE: join(work, 'kek-backup.key'),
    BACKUP_DEK_KEY_FILE: join(work, 'dek-backup.key'),
  };
  let mongo: MongoClient;
  const databases: string[] = [];

  beforeAll(async () => {
    writeFileSync(env.ROOT_KEY_FILE!, rootKey.toString('base64'));
    writeFileSync(env.BACKUP_KEK_KEY_FILE!, randomBytes(32));
    writeFileSync(env.BACKUP_DEK_KEY_FILE!, randomBytes(32));
    mongo = await MongoClient.connect(infra.mongoUri);
    databases.push(env.MONGODB_DB!);
    const keystore = mongo.db(env.MONGODB_DB).collection<KeystoreDocument>('keystore');
    const rootKcv = keyCheckValue(rootKey);
    await keystore.insertOne({ _id: 'root', kind: 'root', kcv: rootKcv, createdAt: new Date() });
    const keks = Array.from({ length: TENANTS }, () => randomBytes(32));
    await keystore.insertMany(
      keks.map((kek, t) => ({
        _id: `kek:tnt_scale_${t}`,
        kind: 'kek' as const,
        tenantId: `tnt_scale_${t}`,
        rootKcv,
        sealed: new Binary(wrapKek(rootKey, `tnt_scale_${t}`, kek)),
        createdAt: new Date(),
      })),
    );
    for (let start = 0; start < KEYS; start += 1000) {
      const batch: KeystoreDocument[] = [];
      for (let i = start; i < start + 1000; i++) {
        const ref = { tenantId: `tnt_scale_${i % TENANTS}`, keyId: `key_scale_${i}`, version: 1 };
        const material = randomBytes(32);
        const kcv = keyCheckValue(material);
        batch.push({
          _id: materialId(ref, kcv),
          kind: 'material',
          ...ref,
          kcv,
          sealed: new Binary(wrapMaterial(keks[i % TENANTS]!, ref, material)),
          createdAt: new Date(),
        });
      }
      await keystore.insertMany(batch, { ordered: false });
    }
  });

  afterAll(async () => {
    for (const db of databases)
      await mongo
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
    await mongo.close();
  });

  it(`takes, verifies and restores a ${KEYS.toLocaleString('en')}-key snapshot, and reports its time and size`, async () => {
    const taken = await backupCli(['backup', 'now', '--json'], env);
    expect(taken.stderr).not.toMatch(/refused|error/i);
    expect(taken.code).toBe(0);
    const backup = taken.json<{
      snapshotId: string;
      seconds: number;
      parts: Record<'kek' | 'dek', { bytes: number; records: Record<string, number> }>;
    }>();
    expect(backup.parts.dek.records.material).toBe(KEYS);
    expect(backup.parts.kek.records.kek).toBe(TENANTS);

    const verified = await backupCli(['backup', 'verify', backup.snapshotId, '--json'], env);
    expect(verified.code).toBe(0);
    const verify = verified.json<Timed & { deep: { keks: number; materials: number } }>();
    expect(verify.deep).toMatchObject({ keks: TENANTS, materials: KEYS });

    // Restore into an empty database; the (empty) event topic stands in for the log.
    const kafka = new Kafka({ clientId: 'backup-scale-spec', brokers: infra.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: env.KAFKA_TOPIC_EVENTS!, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const target = uniqueName('kw_scale_restore').replace(/[-.]/g, '_');
    databases.push(target);
    const restored = await backupCli(['backup', 'restore', backup.snapshotId, '--json'], { ...env, MONGODB_DB: target });
    expect(restored.stderr).not.toMatch(/refused/);
    expect(restored.code).toBe(0);
    const restore = restored.json<Timed & { keystore: { keks: number; materials: number } }>();
    expect(restore.keystore).toEqual({ keks: TENANTS, materials: KEYS });
    expect(await mongo.db(target).collection('keystore').countDocuments({ kind: 'material' })).toBe(KEYS);

    const summary = {
      keys: KEYS,
      backupSeconds: Number(backup.seconds.toFixed(2)),
      kekPartBytes: backup.parts.kek.bytes,
      dekPartBytes: backup.parts.dek.bytes,
      bytesPerKey: Number((backup.parts.dek.bytes / KEYS).toFixed(1)),
      verifySeconds: Number(verify.seconds.toFixed(2)),
      restoreSeconds: Number(restore.seconds.toFixed(2)),
    };
    // Recorded in the note; no assertion on time (shared CI machines vary).
    console.log(`10k-key snapshot: ${JSON.stringify(summary)}`);
  });

  it('takes snapshots on the BACKUP_SCHEDULE and keeps only the newest BACKUP_RETAIN', async () => {
    const small = uniqueName('kw_sched').replace(/[-.]/g, '_');
    databases.push(small);
    await mongo
      .db(small)
      .collection<KeystoreDocument>('keystore')
      .insertOne({ _id: 'root', kind: 'root', kcv: keyCheckValue(rootKey), createdAt: new Date() });
    const dirs = { BACKUP_KEK_DEST: join(work, 'sched-kek'), BACKUP_DEK_DEST: join(work, 'sched-dek') };
    const service = await ServiceProcess.start('backup', {
      ...env,
      ...dirs,
      MONGODB_DB: small,
      BACKUP_SCHEDULE: '*/2 * * * * *',
      BACKUP_RETAIN: '2',
    });
    try {
      const successes = async (): Promise<number> => {
        const metrics = (await service.get('/metrics')).body;
        return Number(/^keyward_backup_runs_total\{[^}]*trigger="schedule"[^}]*outcome="success"[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
      };
      await service.waitFor(async () => (await successes()) >= 4, 60_000, 250);
      const metrics = (await service.get('/metrics')).body;
      const last = Number(/^keyward_backup_last_success_timestamp_seconds\{[^}]*\} (\S+)$/m.exec(metrics)?.[1]);
      expect(last).toBeGreaterThan(Date.now() / 1000 - 30);
    } finally {
      await service.stop();
    }
    expect(service.log).toContain('scheduled backups (UTC cron */2 * * * * *)');
    for (const dir of Object.values(dirs)) {
      const kept = readdirSync(dir).filter((name) => name.startsWith('bk-'));
      expect(kept).toHaveLength(2);
    }
  });
});
