#!/usr/bin/env node
// Waits until a local mongod is the writable PRIMARY of its single-node replica set, initiating the
// set (once; idempotent) when the server answers but has no replica set configuration yet.
//
// Usage: node wait-ready.mjs [--host 127.0.0.1] [--port 27018] [--replset rs0] [--timeout 60] [--pid N] [--once]
//   --timeout  seconds to keep trying (default 60)
//   --pid      fail fast (exit 3) if this process disappears while waiting
//   --once     a single check (~3 s budget) without initiating, as used by `mongod.sh status`
//
// Exit codes: 0 ready, 1 not ready before timeout, 2 usage/setup error, 3 --pid process died.
// `mongodb` is resolved from the repository's node_modules (two directories above this file).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { readFileSync } from 'node:fs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');

function usage(msg) {
  console.error(`wait-ready: ${msg}`);
  process.exit(2);
}

const opts = { host: '127.0.0.1', port: 27018, replset: 'rs0', timeout: 60, pid: 0, once: false };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => {
    if (i + 1 >= argv.length) usage(`${a} needs a value`);
    return argv[++i];
  };
  switch (a) {
    case '--host':
      opts.host = next();
      break;
    case '--port':
      opts.port = Number(next());
      break;
    case '--replset':
      opts.replset = next();
      break;
    case '--timeout':
      opts.timeout = Number(next());
      break;
    case '--pid':
      opts.pid = Number(next());
      break;
    case '--once':
      opts.once = true;
      break;
    default:
      usage(`unknown argument ${a}`);
  }
}
if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) usage(`invalid --port`);
if (!(opts.timeout > 0)) usage(`invalid --timeout`);

let MongoClient;
try {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  ({ MongoClient } = require('mongodb'));
} catch (err) {
  usage(`cannot load the 'mongodb' driver from ${repoRoot}/node_modules (run 'npm ci' in ${repoRoot}): ${err.message}`);
}

function pidAlive(pid) {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return err.code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    /* no procfs: assume alive */
  }
  return true;
}

// directConnection: talk to this one server even before it has a replica set configuration.
const uri = `mongodb://${opts.host}:${opts.port}/?directConnection=true`;

/** true when PRIMARY; otherwise the reason. Initiates the set when allowed and not yet initiated. */
async function attempt(budgetMs, initiate) {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: budgetMs,
    connectTimeoutMS: budgetMs,
    socketTimeoutMS: budgetMs,
    maxPoolSize: 1,
    appName: 'keyward-wait-ready',
  });
  try {
    await client.connect();
    const admin = client.db('admin');
    const hello = await admin.command({ hello: 1 });
    if (hello.isWritablePrimary === true && hello.setName === opts.replset) return true;
    if (initiate && hello.setName === undefined && hello.isreplicaset === true) {
      const config = { _id: opts.replset, members: [{ _id: 0, host: `${opts.host}:${opts.port}` }] };
      await admin.command({ replSetInitiate: config }).catch((err) => {
        if (err.codeName !== 'AlreadyInitialized') throw err;
      });
    }
    return new Error(`not yet PRIMARY of ${opts.replset} (setName=${hello.setName ?? '-'})`);
  } catch (err) {
    return err;
  } finally {
    await client.close(true).catch(() => {});
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (opts.once) {
  const r = await attempt(3000, false);
  process.exit(r === true ? 0 : 1);
}

const deadline = Date.now() + opts.timeout * 1000;
let last;
for (;;) {
  if (!pidAlive(opts.pid)) process.exit(3);
  const left = deadline - Date.now();
  if (left <= 0) break;
  const r = await attempt(Math.max(250, Math.min(2000, left)), true);
  if (r === true) process.exit(0);
  last = r;
  if (!pidAlive(opts.pid)) process.exit(3);
  await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
  if (Date.now() >= deadline) break;
}
if (last instanceof Error) console.error(`wait-ready: last error: ${last.message}`);
process.exit(1);
