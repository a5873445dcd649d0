// key-api + projector as real processes from dist/, on a database and topics of their own, with a
// KEYWARD_DATA of their own under .keyward/bench/<run> (key-api generates its development CA, TLS
// certificate, root key and provider-admin key there; the services log there). Removed after a
// clean run, kept when something failed. Mirrors test/support/keyward-stack.ts.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { serviceNodeFlags } from '../../scripts/lib/service-node-flags.mjs';
import { freePort, JsonClient, repoRoot, sleep, uniqueName } from './util.mjs';

const SERVICES = { 'key-api': 'KEY_API_PORT', projector: 'PROJECTOR_PORT' };
/** services/projector/src/consumer/projection.consumer.ts: PROJECTOR_GROUP (not configurable). */
const PROJECTOR_GROUP = 'keyward-projector';
const require = createRequire(import.meta.url);

export class BenchStack {
  /** `dataDir`: a folder of its own that stop() leaves in place (a scale run kept for a later one). */
  constructor({ brokers, mongoUri, runId, logLevel, dataDir }) {
    this.persistent = dataDir !== undefined;
    this.dataDir = dataDir ?? join(repoRoot, '.keyward', 'bench', runId);
    mkdirSync(this.dataDir, { recursive: true });
    this.runId = runId;
    this.tls = (process.env.KEY_API_TLS ?? 'on') !== 'off';
    this.env = {
      ...process.env,
      KAFKA_BROKERS: brokers,
      MONGODB_URI: mongoUri,
      MONGODB_DB: `bench_${runId}`,
      KAFKA_TOPIC_EVENTS: `bench.${runId}.events`,
      KAFKA_TOPIC_USAGE: `bench.${runId}.usage`,
      KEYWARD_DATA: this.dataDir,
      LOG_LEVEL: logLevel,
      // The bench measures what the service can serve, not its per-principal limits (2,000 req/s by
      // default, below what one key-user drives here): the token buckets still run, they just never
      // refuse. Set them in the environment to bench with other limits.
      RATE_LIMIT_PRINCIPAL_RPS: process.env.RATE_LIMIT_PRINCIPAL_RPS ?? '1000000',
      RATE_LIMIT_PRINCIPAL_BURST: process.env.RATE_LIMIT_PRINCIPAL_BURST ?? '10000000',
      RATE_LIMIT_TENANT_RPS: process.env.RATE_LIMIT_TENANT_RPS ?? '1000000',
      RATE_LIMIT_TENANT_BURST: process.env.RATE_LIMIT_TENANT_BURST ?? '10000000',
      // Likewise the per-address budget (every bench client is 127.0.0.1) and the per-tenant commit quota.
      AUTH_ADDRESS_RPS: process.env.AUTH_ADDRESS_RPS ?? '1000000',
      AUTH_ADDRESS_BURST: process.env.AUTH_ADDRESS_BURST ?? '10000000',
      TENANT_COMMITS_PER_MINUTE: process.env.TENANT_COMMITS_PER_MINUTE ?? '100000000',
    };
    this.children = new Map();
  }

  /** Where key-api's TLS material is (generated, or configured), for the ceiling server and clients. */
  get tlsFiles() {
    if (!this.tls) return null;
    if (process.env.KEY_API_TLS_CERT && process.env.KEY_API_TLS_KEY) {
      return { cert: process.env.KEY_API_TLS_CERT, key: process.env.KEY_API_TLS_KEY, ca: process.env.KEY_API_TLS_CA ?? null };
    }
    const dir = join(this.dataDir, 'tls');
    return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') };
  }

  get apiPid() {
    return this.children.get('key-api')?.child.pid;
  }

  async start() {
    this.warnings = await this.sharedGroupWarnings();
    for (const w of this.warnings) console.warn(`\nbench: warning: ${w}`);
    for (const name of Object.keys(SERVICES)) await this.startService(name);
    const ca = this.tlsFiles?.ca ? readFileSync(this.tlsFiles.ca) : undefined;
    this.client = new JsonClient(this.children.get('key-api').baseUrl, { ca });
    await this.waitFor('key-api', async () => (await this.client.request('GET', '/health/ready')).status === 200, 60_000);
    const keyFile = join(this.dataDir, 'provider-admin.key');
    await this.waitFor('key-api', async () => existsSync(keyFile) && readFileSync(keyFile, 'utf8').trim().length > 0, 30_000);
    this.providerKey = readFileSync(keyFile, 'utf8').trim();
    const projector = this.children.get('projector');
    const plain = new JsonClient(projector.baseUrl);
    await this.waitFor('projector', async () => (await plain.request('GET', '/health/ready')).status === 200, 60_000);
    plain.close();
    return this;
  }

  /**
   * The projector's consumer group id is fixed, so a projector of another stack on the same broker
   * (a test run, `npm start`) shares the group with ours although it reads another topic; Kafka may
   * then hand our topic's partitions to it, and our views never catch up.
   */
  async sharedGroupWarnings() {
    const { Kafka, logLevel } = require('kafkajs');
    const admin = new Kafka({ clientId: 'keyward-bench', brokers: this.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
    try {
      await admin.connect();
      const { groups } = await admin.describeGroups([PROJECTOR_GROUP]);
      const members = groups[0]?.members.length ?? 0;
      return members === 0
        ? []
        : [
            `${members} other projector(s) are in consumer group ${PROJECTOR_GROUP} on ${this.env.KAFKA_BROKERS}; ` +
              'the bench projector shares that group and may be given no partitions (lifecycle then fails): stop them or use another broker',
          ];
    } catch {
      return [];
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async startService(name) {
    const port = await freePort();
    const logFile = join(this.dataDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const tls = name === 'key-api' && this.tls;
    const metricsPort = name === 'key-api' ? await freePort() : null;
    // The service's own Node options (as npm start runs it), then BENCH_NODE_ARGS (e.g.
    // "--cpu-prof --cpu-prof-dir=/tmp/prof") to profile the services under load.
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [...serviceNodeFlags(name), ...nodeArgs, join(repoRoot, 'dist', 'services', name, 'src', 'main.js')],
      {
        cwd: repoRoot,
        // key-api's /metrics listener on a free port too, so that a bench runs beside npm start or tests.
        env: {
          ...this.env,
          [SERVICES[name]]: String(port),
          ...(name === 'key-api' ? { KEY_API_METRICS_PORT: String(metricsPort) } : {}),
        },
        stdio: ['ignore', fd, fd],
      },
    );
    closeSync(fd);
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    const entry = {
      child,
      exited,
      logFile,
      baseUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      metricsUrl: metricsPort === null ? null : `http://127.0.0.1:${metricsPort}/metrics`,
    };
    this.children.set(name, entry);
    // Liveness only: the CA may not be written yet, so this one probe does not verify it.
    const probe = new JsonClient(entry.baseUrl, { rejectUnauthorized: false });
    await this.waitFor(name, async () => (await probe.request('GET', '/health/live', { timeoutMs: 2_000 })).status === 200, 60_000);
    probe.close();
  }

  get projectorPid() {
    return this.children.get('projector')?.child.pid;
  }

  /**
   * Stops key-api (SIGTERM) and starts it again on the same data folder; resolves the milliseconds
   * from spawning the new process to its first 200 on /health/ready.
   */
  async restartKeyApi() {
    await this.stopKeyApi();
    return this.startKeyApi();
  }

  /** Stops key-api (SIGTERM, SIGKILL after 15 s): its relay releases the lease. */
  async stopKeyApi() {
    const old = this.children.get('key-api');
    this.client?.close();
    if (old.child.exitCode === null && old.child.signalCode === null) old.child.kill('SIGTERM');
    const timer = setTimeout(() => old.child.kill('SIGKILL'), 15_000);
    await old.exited;
    clearTimeout(timer);
  }

  /** Starts key-api on the same data folder; resolves the milliseconds from spawning it to its first 200 on /health/ready. */
  async startKeyApi() {
    const spawned = performance.now();
    await this.startService('key-api');
    const ca = this.tlsFiles?.ca ? readFileSync(this.tlsFiles.ca) : undefined;
    this.client = new JsonClient(this.children.get('key-api').baseUrl, { ca });
    await this.waitFor(
      'key-api',
      async () => (await this.client.request('GET', '/health/ready', { timeoutMs: 2_000 })).status === 200,
      120_000,
    );
    return performance.now() - spawned;
  }

  /** The value of an unlabelled metric on key-api's /metrics (null when absent or unreachable). */
  keyApiMetric(name) {
    return this.serviceMetric('key-api', name);
  }

  /** The value of an unlabelled metric on a service's /metrics (key-api: its metrics port; projector: its own port). */
  async serviceMetric(service, name) {
    const entry = this.children.get(service);
    const url = entry?.metricsUrl ?? (entry ? `${entry.baseUrl}/metrics` : null);
    if (!url) return null;
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
      // `name value` or, with the service's default labels, `name{service="key-api"} value`.
      const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
    } catch {
      return null;
    }
  }

  /** Polls `check` until it holds; fails early with the service's log when it exited. */
  async waitFor(name, check, timeoutMs) {
    const started = Date.now();
    for (;;) {
      const entry = this.children.get(name);
      if (entry.child.exitCode !== null || entry.child.signalCode !== null) {
        throw new Error(`${name} exited (${entry.child.exitCode ?? entry.child.signalCode}):\n${this.logTail(name)}`);
      }
      if (await check().catch(() => false)) return;
      if (Date.now() - started > timeoutMs) throw new Error(`${name} not ready within ${timeoutMs} ms:\n${this.logTail(name)}`);
      await sleep(100);
    }
  }

  logTail(name, chars = 3000) {
    try {
      return readFileSync(this.children.get(name).logFile, 'utf8').slice(-chars);
    } catch {
      return '(no log)';
    }
  }

  /**
   * A tenant with its tenant-admin key and one key-user key. `grants: 'open'` (the default here): the
   * key-user may use every key; 'required': only the keys its grants cover (see grantUser).
   */
  async tenant(prefix = 'Bench', { grants = 'open' } = {}) {
    const name = uniqueName(prefix).replace(/[^A-Za-z0-9 ._&'-]/g, '-');
    const onboarded = await this.client.expect([201], 'POST', '/v1/tenants', { key: this.providerKey, body: { name, grants } });
    // New principals receive their API keys themselves, by redeeming their enrollment tokens.
    const enroll = (token) => this.client.expect([200], 'POST', '/v1/enroll', { body: { token } });
    const admin = await enroll(onboarded.admin.enrollment.token);
    const adminKey = admin.apiKey;
    const user = await this.client.expect([201], 'POST', '/v1/principals', {
      key: adminKey,
      body: { name: uniqueName('bench-user'), role: 'key-user' },
    });
    const userKey = (await enroll(user.enrollment.token)).apiKey;
    return { tenantId: onboarded.tenantId, adminKey, userKey, userId: user.principalId, seq: Math.max(onboarded.seq, admin.seq) };
  }

  async createKey(adminKey, keyType, activate = true) {
    const answer = await this.client.expect([200, 201], 'POST', '/v1/keys', { key: adminKey, body: { keyType, activate } });
    return answer.key.keyId;
  }

  /** SIGTERM both services (SIGKILL after a grace period), then remove the data folder unless kept. */
  async stop({ keep = false } = {}) {
    this.client?.close();
    await Promise.all(
      [...this.children.values()].map(async ({ child, exited }) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    if (this.persistent) {
      // Kept for a later run: root key, TLS, provider-admin key and logs.
    } else if (keep) {
      // Keys of a throwaway stack, but keys: only the logs stay.
      for (const f of readdirSync(this.dataDir)) if (!f.endsWith('.log')) rmSync(join(this.dataDir, f), { recursive: true, force: true });
    } else {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}
