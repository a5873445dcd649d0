// backup: a KEK + DEK snapshot of N keys (default 10,000) taken by the real backup service
// (dist/services/backup, POST /v1/backups as a provider-admin) into two directory destinations,
// then verified by the operators' CLI (keyward-backup backup verify, deep: every KEK and every piece
// of material unwrapped and checked against its check value). The keystore is seeded straight into
// a database of its own (KEKs wrapped by a root key, material wrapped by the KEKs, exactly as key-api
// wraps them, as test/backup/backup-scale.e2e-spec.ts does): creating 10,000 keys through key-api
// would take minutes and measure key-api, not the backup.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RssSampler } from '../lib/load.mjs';
import { freePort, JsonClient, lastJsonLine, repoRoot, round, sleep, spawn } from '../lib/util.mjs';

const require = createRequire(import.meta.url);
const MiB = 2 ** 20;

/** Writes the root check value, `tenants` KEKs and `keys` material documents; answers the keystore's BSON size. */
async function seedKeystore(db, rootKey, { keys, tenants }) {
  const { keyCheckValue, materialId, wrapKek, wrapMaterial } = require(join(repoRoot, 'dist', 'libs', 'crypto', 'src', 'index.js'));
  const { Binary, BSON } = require('mongodb');
  const keystore = db.collection('keystore');
  const rootKcv = keyCheckValue(rootKey);
  let bytes = 0;
  const insert = async (docs) => {
    for (const d of docs) bytes += BSON.calculateObjectSize(d);
    await keystore.insertMany(docs, { ordered: false });
  };
  await insert([{ _id: 'root', kind: 'root', kcv: rootKcv, createdAt: new Date() }]);
  const keks = Array.from({ length: tenants }, () => randomBytes(32));
  await insert(
    keks.map((kek, t) => ({
      _id: `kek:tnt_bench_${t}`,
      kind: 'kek',
      tenantId: `tnt_bench_${t}`,
      rootKcv,
      sealed: new Binary(wrapKek(rootKey, `tnt_bench_${t}`, kek)),
      createdAt: new Date(),
    })),
  );
  for (let start = 0; start < keys; start += 1_000) {
    const batch = [];
    for (let i = start; i < Math.min(keys, start + 1_000); i++) {
      const ref = { tenantId: `tnt_bench_${i % tenants}`, keyId: `key_bench_${i}`, version: 1 };
      const material = randomBytes(32);
      const kcv = keyCheckValue(material);
      batch.push({
        _id: materialId(ref, kcv),
        kind: 'material',
        ...ref,
        kcv,
        sealed: new Binary(wrapMaterial(keks[i % tenants], ref, material)),
        createdAt: new Date(),
      });
    }
    await insert(batch);
  }
  return bytes;
}

function runCli(args, env) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'keyward-backup.mjs'), ...args],
      { cwd: repoRoot, env, timeout: 300_000, maxBuffer: 64 * MiB },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`keyward-backup ${args.join(' ')}: ${(stderr || stdout || err.message).slice(-2000)}`));
        try {
          resolve(lastJsonLine(stdout));
        } catch (e) {
          reject(e);
        }
      },
    );
  });
}

const dirBytes = (dir) =>
  readdirSync(dir, { recursive: true })
    .map((f) => statSync(join(dir, f)))
    .filter((s) => s.isFile())
    .reduce((n, s) => n + s.size, 0);

export async function backup({ brokers, mongoUri, runId, keys, tenants, logLevel = 'warn' }) {
  const { MongoClient } = require('mongodb');
  const { CredentialStore, deriveCredentialMacKey } = require(join(repoRoot, 'dist', 'libs', 'auth', 'src', 'index.js'));
  const db = `bench_${runId}_backup`;
  const work = mkdtempSync(join(tmpdir(), 'kw-bench-backup-'));
  const rootKey = randomBytes(32);
  const env = {
    ...process.env,
    KAFKA_BROKERS: brokers,
    MONGODB_URI: mongoUri,
    MONGODB_DB: db,
    KAFKA_TOPIC_EVENTS: `bench.${runId}.backup-events`,
    KAFKA_TOPIC_USAGE: `bench.${runId}.backup-usage`,
    KEYWARD_DATA: work,
    ROOT_KEY_FILE: join(work, 'root.key'),
    BACKUP_KEK_DEST: join(work, 'kek'),
    BACKUP_DEK_DEST: join(work, 'dek'),
    BACKUP_KEK_KEY_FILE: join(work, 'kek-backup.key'),
    BACKUP_DEK_KEY_FILE: join(work, 'dek-backup.key'),
    LOG_LEVEL: logLevel,
  };
  writeFileSync(env.ROOT_KEY_FILE, rootKey.toString('base64'));
  writeFileSync(env.BACKUP_KEK_KEY_FILE, randomBytes(32));
  writeFileSync(env.BACKUP_DEK_KEY_FILE, randomBytes(32));
  const mongo = await MongoClient.connect(mongoUri, { serverSelectionTimeoutMS: 10_000 });
  let child;
  let client;
  try {
    const seeded = performance.now();
    const database = mongo.db(db);
    const keystoreBytes = await seedKeystore(database, rootKey, { keys, tenants });
    // Credential documents carry a MAC under a key derived from the root key (the service refuses others).
    const providerKey = await new CredentialStore(database).issue(
      'provider',
      `prn_bench_${randomUUID().slice(0, 8)}`,
      'provider-admin',
      deriveCredentialMacKey(rootKey),
    );
    const seedSeconds = (performance.now() - seeded) / 1000;

    const port = await freePort();
    const logFile = join(work, 'backup.log');
    const fd = openSync(logFile, 'a');
    child = spawn(process.execPath, [join(repoRoot, 'dist', 'services', 'backup', 'src', 'main.js')], {
      cwd: repoRoot,
      env: { ...env, BACKUP_PORT: String(port) },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    client = new JsonClient(`http://127.0.0.1:${port}`);
    const logTail = () => readFileSync(logFile, 'utf8').slice(-2000);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the backup service exited (${child.exitCode}):\n${logTail()}`);
      if ((await client.request('GET', '/health/ready', { timeoutMs: 2_000 }).catch(() => ({ status: 0 }))).status === 200) break;
      if (Date.now() > deadline) throw new Error(`the backup service was not ready within 60 s:\n${logTail()}`);
      await sleep(100);
    }

    const sampler = new RssSampler(child.pid);
    const taken = await client.request('POST', '/v1/backups', { key: providerKey, timeoutMs: 300_000 });
    const peakRssMiB = sampler.stop();
    if (taken.status !== 201) throw new Error(`POST /v1/backups answered ${taken.status}: ${taken.text.slice(0, 500)}`);
    const result = taken.body;
    const problems = [];
    if (result.parts.dek.records.material !== keys)
      problems.push(`the DEK part holds ${result.parts.dek.records.material} of ${keys} keys`);
    if (result.parts.kek.records.kek !== tenants) problems.push(`the KEK part holds ${result.parts.kek.records.kek} of ${tenants} KEKs`);

    const verifyStarted = performance.now();
    const verify = await runCli(['backup', 'verify', result.snapshotId, '--json'], env);
    const verifyWallSeconds = (performance.now() - verifyStarted) / 1000;
    if (verify.deep?.materials !== keys || verify.deep?.keks !== tenants)
      problems.push(`verify checked ${verify.deep?.materials} keys and ${verify.deep?.keks} KEKs`);

    const snapshotBytes = result.parts.kek.bytes + result.parts.dek.bytes;
    return {
      status: problems.length === 0 ? 'ok' : 'failed',
      ...(problems.length > 0 ? { problems } : {}),
      keys,
      tenants,
      seedSeconds: round(seedSeconds),
      keystoreMiB: round(keystoreBytes / MiB, 2),
      snapshot: {
        // The service's own timing (from reading the keystore to both manifests written).
        seconds: round(result.seconds, 3),
        requestSeconds: round(taken.ms / 1000, 3),
        keystoreMiBPerSec: round(keystoreBytes / MiB / result.seconds, 2),
        writtenMiBPerSec: round(snapshotBytes / MiB / result.seconds, 2),
        keysPerSec: round(keys / result.seconds, 0),
        kekPartBytes: result.parts.kek.bytes,
        dekPartBytes: result.parts.dek.bytes,
        bytesPerKey: round(result.parts.dek.bytes / keys, 1),
        onDiskBytes: { kek: dirBytes(env.BACKUP_KEK_DEST), dek: dirBytes(env.BACKUP_DEK_DEST) },
        records: { kek: result.parts.kek.records, dek: result.parts.dek.records },
        peakRssMiB,
      },
      verify: {
        seconds: round(verify.seconds, 3),
        wallSeconds: round(verifyWallSeconds, 3),
        deep: verify.deep,
      },
    };
  } finally {
    client?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await mongo
      .db(db)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    rmSync(work, { recursive: true, force: true });
  }
}
