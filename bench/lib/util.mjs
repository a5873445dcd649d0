// Small helpers shared by the benchmark scenarios: ports, timing, statistics, a JSON HTTPS client.
import { spawn as spawnChild } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(benchDir, '..');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const children = new Set();

/** child_process.spawn, remembering the child until it exits so that an interrupted run can stop it. */
export function spawn(command, args, options) {
  const child = spawnChild(command, args, options);
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** SIGTERMs every child still running (the load generators, the ceiling server, workers). */
export function killChildren() {
  for (const child of children) child.kill('SIGTERM');
}

/** A name no other run uses: databases, topics, consumer groups. */
export function uniqueName(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Nearest-rank percentile of an unsorted list of numbers (null when empty). */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** p50/p99/max/mean of a list of milliseconds, rounded to 0.01 ms. */
export function latencySummary(values) {
  const round = (v) => (v === null ? null : Math.round(v * 100) / 100);
  const mean = values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
  return {
    count: values.length,
    p50Ms: round(percentile(values, 50)),
    p99Ms: round(percentile(values, 99)),
    maxMs: round(values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b), -Infinity)),
    meanMs: round(mean),
  };
}

export const round = (value, digits = 2) => (typeof value === 'number' && Number.isFinite(value) ? Number(value.toFixed(digits)) : null);

/**
 * A keep-alive JSON client for one base URL (https with the given CA, or plain http). Used for
 * set-up calls and the lifecycle driver; the throughput scenarios use autocannon instead.
 */
export class JsonClient {
  constructor(baseUrl, { ca, maxSockets = 256, rejectUnauthorized = true } = {}) {
    this.base = new URL(baseUrl);
    this.tls = this.base.protocol === 'https:';
    this.agent = this.tls
      ? new HttpsAgent({ keepAlive: true, maxSockets, ca, rejectUnauthorized })
      : new HttpAgent({ keepAlive: true, maxSockets });
  }

  /** Resolves { status, body (parsed JSON or text), text, ms } — never rejects on an HTTP status. */
  request(method, path, { key, body, timeoutMs = 15_000 } = {}) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = {
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    };
    const url = new URL(path, this.base);
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = (this.tls ? httpsRequest : httpRequest)(url, { method, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = text;
          try {
            parsed = text.length > 0 ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text, ms: performance.now() - started });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Like request(), but throws unless the status is one of `expected`. */
  async expect(expected, method, path, options) {
    const answer = await this.request(method, path, options);
    if (!expected.includes(answer.status)) {
      throw new Error(`${method} ${path}: expected ${expected.join('/')}, got ${answer.status} ${answer.text.slice(0, 300)}`);
    }
    return answer.body;
  }

  close() {
    this.agent.destroy();
  }
}

/** Reads a child's whole stdout and resolves the last line that parses as JSON. */
export function lastJsonLine(text) {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line);
    } catch {
      // keep looking
    }
  }
  throw new Error(`no JSON line in output:\n${text.slice(-2000)}`);
}

/** Drops a run's database and its topics (`bench.<runId>.*`), the data a bench run wrote. */
export async function dropRunData(env, db, runId) {
  const require = createRequire(import.meta.url);
  const { MongoClient } = require('mongodb');
  const { Kafka, logLevel } = require('kafkajs');
  const mongo = await MongoClient.connect(env.MONGODB_URI, { serverSelectionTimeoutMS: 10_000 });
  await mongo.db(db).dropDatabase();
  await mongo.close();
  const admin = new Kafka({ clientId: 'keyward-bench', brokers: env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`bench.${runId}.`));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
}

/** A list of judged targets and the function that adds one: `not measured` when there is no figure. */
export function targetList() {
  const targets = [];
  const add = (id, description, measured, met) =>
    targets.push({
      id,
      description,
      measured,
      status: measured === null || measured === undefined ? 'not measured' : met ? 'met' : 'missed',
    });
  return { targets, add };
}

/** Runs bench/workers/<name>.mjs in a child Node with these arguments; answers its last JSON line. */
export function runWorker(name, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(benchDir, 'workers', `${name}.mjs`), ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(lastJsonLine(out)) : reject(new Error(`${name} worker exited ${code}: ${err}`))));
  });
}
