#!/usr/bin/env node
// Readiness probe for the local Kafka broker started by kafka.sh.
//
// "Ready" means a real client (kafkajs, the one the app uses) can connect and
// list topics. Loops until ready, the deadline passes, or the broker process
// (--pid) dies.
//
// Usage: node wait-ready.mjs --broker 127.0.0.1:9092 [--timeout 120] [--pid N] [--once] [--warm]
//   --once      a single attempt (bounded by --timeout seconds), used by `status`
//   --warm      once topics can be listed, also wait until the group coordinator
//               (__consumer_offsets), the producer-id manager and the transaction
//               coordinator (__transaction_state) answer, so the first consumer
//               group / idempotent or transactional producer of a test does not hit
//               COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE. Used by `start`.
// Exit codes: 0 ready, 1 not ready before the deadline, 2 the --pid process died,
//             3 kafkajs could not be loaded, 64 bad usage.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');

function parseArgs(argv) {
  const opts = { broker: '127.0.0.1:9092', timeout: 120, pid: 0, once: false, warm: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === '--broker') opts.broker = next();
    else if (a === '--timeout') opts.timeout = Number(next());
    else if (a === '--pid') opts.pid = Number(next());
    else if (a === '--once') opts.once = true;
    else if (a === '--warm') opts.warm = true;
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isFinite(opts.timeout) || opts.timeout <= 0) usage('--timeout must be > 0');
  if (!Number.isInteger(opts.pid) || opts.pid < 0) usage('--pid must be a pid');
  return opts;
}

function usage(msg) {
  process.stderr.write(`wait-ready: ${msg}\nusage: node wait-ready.mjs --broker HOST:PORT [--timeout S] [--pid N] [--once]\n`);
  process.exit(64);
}

function loadKafkajs() {
  try {
    // Resolve from the repo root so this works whatever the caller's cwd is.
    return createRequire(join(repoRoot, 'package.json'))('kafkajs');
  } catch (err) {
    process.stderr.write(
      `wait-ready: cannot load kafkajs from ${join(repoRoot, 'node_modules')} (${err.message}); run \`npm ci\` in ${repoRoot}\n`,
    );
    process.exit(3);
  }
}

function pidAlive(pid) {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The secure profile (kafka.sh with KAFKA_SECURE=1): TLS against the local CA and SCRAM, from
// WAIT_READY_SSL_CA, WAIT_READY_SASL_USERNAME and WAIT_READY_SASL_PASSWORD_FILE.
function secureOptions() {
  const ca = process.env.WAIT_READY_SSL_CA;
  if (!ca) return {};
  const password = readFileSync(process.env.WAIT_READY_SASL_PASSWORD_FILE, 'utf8').trim();
  return {
    ssl: { rejectUnauthorized: true, ca: [readFileSync(ca, 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: process.env.WAIT_READY_SASL_USERNAME, password },
  };
}

// Runs fn(kafka) with a fresh client, bounded by budgetMs.
async function withClient(Kafka, logLevel, broker, budgetMs, retry, fn) {
  const kafka = new Kafka({
    clientId: 'keyward-kafka-wait-ready',
    brokers: [broker],
    ...secureOptions(),
    connectionTimeout: Math.min(2000, budgetMs),
    requestTimeout: Math.min(4000, budgetMs),
    retry,
    logLevel: logLevel.NOTHING,
  });
  const cleanups = [];
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${budgetMs} ms`)), budgetMs);
  });
  try {
    await Promise.race([fn(kafka, (c) => cleanups.push(c)), deadline]);
  } finally {
    clearTimeout(timer);
    for (const c of cleanups.reverse()) await c.disconnect().catch(() => {});
  }
}

// Phase 1: the broker accepts a connection and answers Metadata (listTopics).
async function listTopics(kafka, track) {
  const admin = kafka.admin({ retry: { retries: 0 } });
  track(admin);
  await admin.connect();
  await admin.listTopics();
}

// Phase 2 (--warm): coordinators are usable. FindCoordinator creates
// __consumer_offsets on first use, and describeGroups only succeeds once its
// partition is loaded; an idempotent producer's connect does InitProducerId;
// a transactional one also creates/loads __transaction_state.
// kafkajs needs retries > 0 here (its coordinator lookup fails outright with 0,
// and an idempotent producer refuses retries: 0).
const WARM_RETRY = { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 };
async function warm(kafka, track) {
  const admin = kafka.admin({ retry: WARM_RETRY });
  track(admin);
  await admin.connect();
  await admin.describeGroups(['keyward-kafka-wait-ready']);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: WARM_RETRY });
  track(producer);
  await producer.connect();
  // Transactional InitProducerId: creates and loads __transaction_state.
  const txProducer = kafka.producer({
    transactionalId: 'keyward-kafka-wait-ready',
    idempotent: true,
    maxInFlightRequests: 1,
    retry: WARM_RETRY,
  });
  track(txProducer);
  await txProducer.connect();
  // kafkajs does the transactional InitProducerId (FindCoordinator first) on
  // the first transaction(), not on connect(); an empty transaction is enough.
  const tx = await txProducer.transaction();
  await tx.abort();
}

function exitIfDead(pid) {
  if (!pidAlive(pid)) {
    process.stderr.write(`wait-ready: process ${pid} exited\n`);
    process.exit(2);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const { Kafka, logLevel } = loadKafkajs();
  const end = Date.now() + opts.timeout * 1000;
  const phases = [{ name: 'listTopics', fn: listTopics, budget: 5000, retry: { retries: 0 } }];
  if (opts.warm) phases.push({ name: 'coordinators', fn: warm, budget: 10000, retry: WARM_RETRY });
  for (const phase of phases) {
    let lastError = 'no attempt made';
    for (;;) {
      exitIfDead(opts.pid);
      const left = end - Date.now();
      if (left <= 0) {
        exitIfDead(opts.pid);
        process.stderr.write(`wait-ready: ${opts.broker} not ready, ${phase.name} failed (${lastError})\n`);
        process.exit(1);
      }
      try {
        await withClient(Kafka, logLevel, opts.broker, Math.min(phase.budget, left), phase.retry, phase.fn);
        break;
      } catch (err) {
        lastError = err && err.message ? err.message : String(err);
        if (opts.once) {
          process.stderr.write(`wait-ready: ${opts.broker} not ready, ${phase.name} failed (${lastError})\n`);
          process.exit(1);
        }
      }
      await sleep(Math.min(500, Math.max(0, end - Date.now())));
    }
  }
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`wait-ready: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
