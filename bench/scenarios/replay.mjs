// replay: rebuild the views from N events, compared with a bare kafkajs consumer reading the same
// topic without processing. The commits are decided by the real domain (dist/libs/domain) and
// sealed into hash-chained commits (dist/libs/event-log) across many tenants, then published
// straight to a topic of their own: going through key-api would take minutes for 100,000 events.
// The rebuild is the production CLI (keyward replay --json) into a scratch database of its own; its
// time runs from preparing the empty scratch database to the last view document written.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RssSampler } from '../lib/load.mjs';
import { benchDir, lastJsonLine, repoRoot, round, spawn } from '../lib/util.mjs';

const require = createRequire(import.meta.url);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const id = (prefix) => `${prefix}_${Array.from(randomBytes(20), (b) => ALNUM[b % ALNUM.length]).join('')}`;

/**
 * Commits for `tenantCount` tenants until `targetEvents` events exist, interleaved across tenants
 * like live traffic. Each tenant: onboarding (with its first admin), then keys that are created
 * active, rotated, relabelled, rotated again and deactivated, and now and then a new principal.
 */
export function generateCommits(tenantCount, targetEvents) {
  const domain = require(join(repoRoot, 'dist', 'libs', 'domain', 'src', 'index.js'));
  const eventLog = require(join(repoRoot, 'dist', 'libs', 'event-log', 'src', 'index.js'));
  const provider = { principalId: id('prn'), role: 'provider-admin' };
  let clock = Date.now() - 86_400_000;
  const tenants = Array.from({ length: tenantCount }, (_, i) => ({
    tenantId: id('tnt'),
    name: `Replay tenant ${i}`,
    admin: { principalId: id('prn'), role: 'tenant-admin' },
    head: eventLog.GENESIS_HASH,
    log: null,
    step: 0,
    keyId: null,
  }));
  for (const t of tenants) t.log = new domain.TenantLog(t.tenantId);

  const commits = [];
  let events = 0;
  const apply = (t, command, actor) => {
    clock += 1;
    const ctx = { now: new Date(clock), actor, correlationId: id('req') };
    const bodies = domain.decide(command, t.log, ctx);
    const commit = eventLog.sealCommit({
      tenantId: t.tenantId,
      seq: t.log.seq + 1,
      commandId: ctx.correlationId,
      events: domain.stamp(bodies, ctx),
      committedAt: ctx.now.toISOString(),
      prevHash: t.head,
    });
    domain.evolveCommit(t.log, commit);
    t.head = commit.hash;
    commits.push(commit);
    events += commit.events.length;
  };
  const kcv = () => randomBytes(8).toString('hex');
  const next = (t) => {
    if (t.step === 0) {
      apply(
        t,
        {
          kind: 'tenant.onboard',
          tenantId: t.tenantId,
          name: t.name,
          firstAdmin: { principalId: t.admin.principalId, name: 'first admin' },
        },
        provider,
      );
      t.step = 1;
      return;
    }
    const phase = (t.step - 1) % 6;
    t.step += 1;
    if (phase === 0) {
      t.keyId = id('key');
      apply(
        t,
        { kind: 'key.create', keyId: t.keyId, keyType: 'AES-256-GCM', activate: true, kcv: kcv(), labels: { team: 'replay' } },
        t.admin,
      );
    } else if (phase === 1 || phase === 3) {
      apply(t, { kind: 'key.rotate', keyId: t.keyId, kcv: kcv() }, t.admin);
    } else if (phase === 2) {
      apply(t, { kind: 'key.change-labels', keyId: t.keyId, set: { env: 'bench', step: String(t.step) } }, t.admin);
    } else if (phase === 4) {
      apply(t, { kind: 'key.deactivate', keyId: t.keyId }, t.admin);
    } else {
      apply(t, { kind: 'principal.create', principalId: id('prn'), name: `app ${t.step}`, role: 'key-user' }, t.admin);
    }
  };
  while (events < targetEvents) {
    for (const t of tenants) {
      if (events >= targetEvents) break;
      next(t);
    }
  }
  return { commits, events, toMessage: eventLog.toMessage };
}

function runChild(args, env, { sample = false, timeoutMs = 0, okCodes = [0] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const sampler = sample ? new RssSampler(child.pid) : null;
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => ((timedOut = true), child.kill('SIGTERM')), timeoutMs) : null;
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const peakRssMiB = sampler ? sampler.stop() : null;
      if (timedOut) return resolve({ timedOut: true, peakRssMiB });
      if (!okCodes.includes(code)) return reject(new Error(`${args[0]} exited ${code}: ${(err || out).slice(-2000)}`));
      try {
        resolve({ ...lastJsonLine(out), peakRssMiB });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** Polls the rebuilt views' checkpoints once a second: how many commits are projected over time. */
function watchProgress(database) {
  const samples = [];
  const started = performance.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const docs = await database
        .collection('view_checkpoints')
        .find({}, { projection: { lastSeq: 1 } })
        .toArray()
        .catch(() => null);
      if (docs) samples.push({ seconds: (performance.now() - started) / 1000, commits: docs.reduce((n, d) => n + (d.lastSeq ?? 0), 0) });
      await new Promise((r) => setTimeout(r, 1_000));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/** Commits/s in the first and the last fifth of the commits (shows whether the rate falls as the views grow). */
function rateTrend(samples, total) {
  const at = (commits) => samples.find((s) => s.commits >= commits)?.seconds;
  const rate = (from, to) => {
    const t0 = from === 0 ? 0 : at(from);
    const t1 = at(to);
    return t0 === undefined || t1 === undefined || t1 <= t0 ? null : round((to - from) / (t1 - t0), 0);
  };
  const fifth = Math.floor(total / 5);
  return { firstFifthCommitsPerSec: rate(0, fifth), lastFifthCommitsPerSec: rate(total - fifth, total) };
}

export async function replay({ brokers, mongoUri, runId, events: targetEvents, tenants: tenantCount, timeoutSec }) {
  const { Kafka, logLevel, Partitioners } = require('kafkajs');
  const { MongoClient } = require('mongodb');
  const topic = `bench.${runId}.replay`;
  const db = `bench_${runId}_replay`;
  const kafka = new Kafka({ clientId: 'keyward-bench', brokers: brokers.split(','), logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const mongo = await MongoClient.connect(mongoUri, { serverSelectionTimeoutMS: 10_000 });
  const dataDir = mkdtempSync(join(tmpdir(), 'kw-bench-replay-'));
  try {
    const generated = performance.now();
    const { commits, events, toMessage } = generateCommits(tenantCount, targetEvents);
    const generateSeconds = (performance.now() - generated) / 1000;

    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 6), replicationFactor: 1 }],
    });
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The relay's partitioner: the same tenant lands on the same partition as in production.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    const publishStarted = performance.now();
    let bytes = 0;
    for (let i = 0; i < commits.length; i += 2_000) {
      const messages = commits.slice(i, i + 2_000).map(toMessage);
      for (const m of messages) bytes += Buffer.byteLength(m.value);
      await producer.send({ topic, acks: -1, messages });
    }
    const publishSeconds = (performance.now() - publishStarted) / 1000;
    await producer.disconnect();

    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers,
      MONGODB_URI: mongoUri,
      MONGODB_DB: db,
      KAFKA_TOPIC_EVENTS: topic,
      KAFKA_TOPIC_USAGE: `bench.${runId}.replay-usage`,
      KEYWARD_DATA: dataDir,
      TOPIC: topic,
    };
    const bare = await runChild([join(benchDir, 'workers', 'bare-consumer.mjs')], env);
    const progress = watchProgress(mongo.db(db));
    // `keyward replay` (the compliance replay: the projector's reader and fold, each tenant folded in
    // memory, every view document written once) into a scratch database. It exits 2 here because
    // this database has no live views to compare with; the rate is what is measured.
    const rebuildArgs = [join(repoRoot, 'bin', 'keyward.mjs'), 'replay', '--json', '--into', `${db}_scratch`];
    const rebuild = await runChild(rebuildArgs, env, { sample: true, timeoutMs: timeoutSec * 1000, okCodes: [0, 2] }).finally(() =>
      progress.stop(),
    );
    const samples = await progress.stop();
    const eventsPerCommit = events / commits.length;
    const problems = [];
    if (bare.messages !== commits.length) problems.push(`bare consumer read ${bare.messages} of ${commits.length} commits`);
    let rebuilt;
    if (rebuild.timedOut) {
      // Stopped at the time limit (while projecting, or while computing its checksums): the rate
      // from the checkpoints, to the first sample that showed everything projected, if any.
      const done = samples.find((x) => x.commits >= commits.length);
      const last = done ?? samples.at(-1) ?? { seconds: timeoutSec, commits: 0 };
      rebuilt = { completed: Boolean(done), commits: last.commits, seconds: last.seconds, fromCheckpoints: true };
    } else {
      if (rebuild.commits !== commits.length) problems.push(`replay read ${rebuild.commits} of ${commits.length} commits`);
      if (rebuild.tenants !== tenantCount) problems.push(`replay produced views for ${rebuild.tenants} of ${tenantCount} tenants`);
      if (!rebuild.chainVerified) problems.push(`replay found ${rebuild.chainProblems.length} commit(s) that break their hash chain`);
      rebuilt = {
        completed: true,
        commits: rebuild.commits,
        seconds: rebuild.seconds,
        phases: rebuild.phases,
        checksumSeconds: rebuild.checksumSeconds,
        chainVerified: rebuild.chainVerified,
      };
    }
    const rebuildCommitsPerSec = rebuilt.commits / rebuilt.seconds;
    const bareCommitsPerSec = bare.messages / bare.seconds;
    return {
      status: problems.length === 0 ? 'ok' : 'failed',
      ...(problems.length > 0 ? { problems } : {}),
      ...(rebuilt.fromCheckpoints
        ? {
            note: rebuilt.completed
              ? `rebuild projected every commit but was stopped at the ${timeoutSec} s limit (computing its checksums); time from the checkpoints (1 s resolution)`
              : `rebuild stopped at the ${timeoutSec} s limit after ${rebuilt.commits} of ${commits.length} commits; rates are over that part`,
          }
        : {}),
      events,
      commits: commits.length,
      tenants: tenantCount,
      topicMiB: round(bytes / 2 ** 20, 1),
      generateSeconds: round(generateSeconds),
      publishSeconds: round(publishSeconds),
      rebuild: {
        completed: rebuilt.completed,
        seconds: round(rebuilt.seconds, 3),
        commitsRebuilt: rebuilt.commits,
        eventsPerSec: round(rebuildCommitsPerSec * eventsPerCommit, 0),
        commitsPerSec: round(rebuildCommitsPerSec, 0),
        ...rateTrend(samples, rebuilt.completed ? commits.length : rebuilt.commits),
        peakRssMiB: rebuild.peakRssMiB,
        // keyward replay's own breakdown: reading to the end of the last partition, the fold (hash
        // checks and evolve), time some view write was in flight (overlaps the reading), documents.
        ...(rebuilt.phases ? { phases: rebuilt.phases, chainVerified: rebuilt.chainVerified } : {}),
        // Reading the rebuilt views back for their checksums: after the rebuild, not in its rate.
        ...(rebuilt.checksumSeconds !== undefined ? { checksumSeconds: round(rebuilt.checksumSeconds) } : {}),
      },
      bareConsumer: {
        seconds: round(bare.seconds, 3),
        joinSeconds: round(bare.joinSeconds, 3),
        eventsPerSec: round(bareCommitsPerSec * eventsPerCommit, 0),
        commitsPerSec: round(bareCommitsPerSec, 0),
      },
      ratio: round(rebuildCommitsPerSec / bareCommitsPerSec, 3),
    };
  } finally {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await mongo
      .db(db)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
