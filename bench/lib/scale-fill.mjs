// The scale scenario's fill: tenants and keys written through the real write path (the command
// executor, key material wrapped into the keystore, the commit log, the relay to Kafka, the
// projector's views), many tenants at once. Each tenant is onboarded through key-api's HTTP API
// by the provider-admin and its first admin enrolls; then it gets `keysPerTenant` AES-256-GCM
// keys, each created active and rotated once, every other key rotated twice (2.5 commits a key).
// The keys' commands go either through key-api's HTTP API (method `api`: authentication and
// all, about 50-65 commits/s on two cores) or through the same libraries in this process
// (method `direct`, bench/lib/scale-direct.mjs: no HTTP, key-api stopped meanwhile).
import { createRequire } from 'node:module';
import { cpuMs } from './load.mjs';
import { DirectWriter } from './scale-direct.mjs';
import { latencySummary, round, sleep, uniqueName } from './util.mjs';

const require = createRequire(import.meta.url);
/** Answers that mean "later": rate limits and a store that is not ready. */
const RETRY = new Set([429, 503]);
const MAX_TRIES = 20;
/** How often a fill hands its state to `onSave` (so that an interrupted fill can resume). */
const SAVE_EVERY_MS = 30_000;
export const FILL_METHODS = ['direct', 'api'];

/** A progress bar on a terminal (cli-progress), one plain line every 10 s otherwise. */
function progress(label, total) {
  if (process.stderr.isTTY) {
    const { SingleBar, Presets } = require('cli-progress');
    const bar = new SingleBar(
      {
        format: `bench: ${label} [{bar}] {value}/{total} commits | {rate}/s | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 200,
        fps: 4,
      },
      Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '0' });
    const started = performance.now();
    return {
      update: (n) => bar.update(n, { rate: (n / ((performance.now() - started) / 1000)).toFixed(1) }),
      stop: () => bar.stop(),
    };
  }
  const started = performance.now();
  let last = started;
  return {
    update: (n) => {
      const now = performance.now();
      if (now - last < 10_000) return;
      last = now;
      const rate = n / ((now - started) / 1000);
      console.log(`bench: ${label}: ${n}/${total} commits, ${rate.toFixed(1)}/s, ~${Math.round((total - n) / rate)} s left`);
    },
    stop: () => undefined,
  };
}

export class ScaleFill {
  /**
   * @param stack a started BenchStack
   * @param keysPerTenant keys each fill tenant holds when full
   * @param concurrency requests in flight (API), commands in flight (direct)
   * @param pids processes whose CPU is counted per commit ({ name: pid })
   * @param method 'direct' or 'api': how the keys' commands are written (onboarding is always the API)
   * @param onSave called with toJSON() every SAVE_EVERY_MS while filling
   */
  constructor(stack, { keysPerTenant, concurrency, pids, method = 'api', onSave }) {
    if (!FILL_METHODS.includes(method)) throw new Error(`fill method ${method}: one of ${FILL_METHODS.join(', ')}`);
    this.stack = stack;
    this.keysPerTenant = keysPerTenant;
    this.concurrency = concurrency;
    this.pids = pids;
    this.method = method;
    this.onSave = onSave;
    /** { tenantId, adminKey, adminPrincipalId, keys: [{ keyId, versions }], lastSeq } */
    this.tenants = [];
    this.commits = 0;
    this.keys = 0;
    this.retries = 0;
    this.seconds = 0;
  }

  /** What a later run needs to go on filling, or to measure, on the same store. */
  toJSON() {
    return {
      method: this.method,
      keysPerTenant: this.keysPerTenant,
      commits: this.commits,
      keys: this.keys,
      seconds: round(this.seconds, 1),
      tenants: this.tenants.filter(Boolean).map(({ tenantId, adminKey, adminPrincipalId, keys, lastSeq }) => ({
        tenantId,
        adminKey,
        adminPrincipalId,
        lastSeq,
        keys: keys.map(({ keyId, versions }) => ({ keyId, versions })),
      })),
    };
  }

  /** Takes back what toJSON() saved (keys of a chain cut short are not in it: the store has a few more). */
  restore(saved) {
    if (saved.keysPerTenant !== this.keysPerTenant) {
      throw new Error(
        `the saved fill has ${saved.keysPerTenant} keys a tenant, this run ${this.keysPerTenant}: use the same --scale-keys and --scale-tenants`,
      );
    }
    this.tenants = saved.tenants.map((t) => ({ ...t, keys: [...t.keys] }));
    this.commits = saved.commits;
    this.keys = this.tenants.reduce((n, t) => n + t.keys.length, 0);
    this.seconds = saved.seconds ?? 0;
    return this;
  }

  /** The key commands of the API fill: POST /v1/keys and /rotate as the tenant-admin. */
  apiWriter() {
    return {
      createKey: async (tenant) => {
        const created = await this.command('POST', '/v1/keys', {
          key: tenant.adminKey,
          body: { keyType: 'AES-256-GCM', activate: true },
          expect: [201],
        });
        return { keyId: created.key.keyId, seq: created.seq };
      },
      rotateKey: async (tenant, keyId) => {
        const rotated = await this.command('POST', `/v1/keys/${keyId}/rotate`, { key: tenant.adminKey, body: {}, expect: [200] });
        return { seq: rotated.seq };
      },
      stop: async () => undefined,
    };
  }

  /** The direct fill's writer, with key-api stopped while it holds the relay (DirectWriter). */
  async directWriter() {
    await this.stack.stopKeyApi();
    // The fill touches every tenant in turn (chains interleaved across all of them): with key-api's
    // default bound (TENANT_LOG_CACHE_MAX_BYTES, some 300 tenants of 100 keys) every command would
    // reload its tenant's whole log from the store. The writer is a bench tool, not key-api: it
    // holds every tenant's log (~200 MiB at 100,000 keys).
    const writer = new DirectWriter({ ...this.stack.env, TENANT_LOG_CACHE_MAX: '100000', TENANT_LOG_CACHE_MAX_BYTES: String(2 ** 31) });
    const timed =
      (fn) =>
      async (...args) => {
        const started = performance.now();
        const answer = await fn(...args);
        this.latencies.push(performance.now() - started);
        return answer;
      };
    try {
      await writer.start();
    } catch (err) {
      await writer.stop().catch(() => undefined);
      await this.stack.startKeyApi();
      throw err;
    }
    return {
      createKey: timed((tenant) => writer.createKey(tenant)),
      rotateKey: timed((tenant, keyId) => writer.rotateKey(tenant, keyId)),
      pausedSeconds: () => writer.pausedSeconds,
      stop: async () => {
        try {
          await writer.stop();
        } finally {
          // Not for a fill that was asked to stop: the run is ending.
          if (!this.stopping) await this.stack.startKeyApi();
        }
      },
    };
  }

  /** Commits a fill of `keys` keys (from nothing) writes, onboarding included. */
  static commitsFor(keys, keysPerTenant) {
    const tenants = Math.ceil(keys / keysPerTenant);
    return tenants * 2 + Math.floor(keys * 2.5);
  }

  /** One command with retries on 429/503; returns the parsed answer. */
  async command(method, path, { key, body, expect }) {
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const answer = await this.stack.client
        .request(method, path, { key, body, timeoutMs: 60_000 })
        .catch((e) => ({ status: 0, text: e.message }));
      if (expect.includes(answer.status)) {
        this.latencies.push(performance.now() - started);
        return answer.body;
      }
      if ((RETRY.has(answer.status) || answer.status === 0) && attempt < MAX_TRIES) {
        this.retries += 1;
        const after = Number(answer.body?.retryAfterSeconds ?? 1);
        await sleep(Math.min(5, Number.isFinite(after) ? after : 1) * 1000);
        continue;
      }
      throw new Error(`${method} ${path.replace(/key_\w+/, '{id}')}: ${answer.status} ${String(answer.text).slice(0, 300)}`);
    }
  }

  /** Grows the store to `targetKeys` keys (in full tenants of keysPerTenant); resolves what this step did. */
  async growTo(targetKeys) {
    const started = performance.now();
    const secondsBefore = this.seconds;
    try {
      return await this.grow(targetKeys);
    } finally {
      // A fill that failed still spent its time (stepSummary counts it when the step completes).
      if (this.seconds === secondsBefore) this.seconds += (performance.now() - started) / 1000;
      this.onSave?.(this.toJSON());
    }
  }

  async grow(targetKeys) {
    const before = { commits: this.commits, keys: this.keys, tenants: this.tenants.length };
    const tenantsNeeded = Math.ceil(targetKeys / this.keysPerTenant);
    const expected = ScaleFill.commitsFor(targetKeys, this.keysPerTenant) - ScaleFill.commitsFor(this.keys, this.keysPerTenant);
    const bar = progress(`fill to ${targetKeys} keys`, Math.max(1, expected));
    this.latencies = [];
    const cpuBefore = Object.fromEntries(Object.entries(this.pids).map(([n, pid]) => [n, cpuMs(pid)]));
    const started = performance.now();
    let savedAt = performance.now();
    const tick = () => {
      bar.update(this.commits - before.commits);
      if (this.onSave && performance.now() - savedAt >= SAVE_EVERY_MS) {
        savedAt = performance.now();
        this.onSave(this.toJSON());
      }
    };
    const timer = setInterval(tick, 1_000);
    let writer = null;
    try {
      // Onboarding: provider-admin onboards, the first admin redeems its enrollment token.
      const fresh = [];
      for (let i = this.tenants.length; i < tenantsNeeded; i++) fresh.push(i);
      await this.pool(fresh, async (i) => {
        const onboarded = await this.command('POST', '/v1/tenants', {
          key: this.stack.providerKey,
          body: { name: uniqueName(`Scale ${i}`).replace(/[^A-Za-z0-9 ._&'-]/g, '-'), grants: 'open' },
          expect: [201],
        });
        const enrolled = await this.command('POST', '/v1/enroll', { body: { token: onboarded.admin.enrollment.token }, expect: [200] });
        this.commits += 2;
        this.tenants[i] = {
          tenantId: onboarded.tenantId,
          adminKey: enrolled.apiKey,
          adminPrincipalId: onboarded.admin.principalId,
          keys: [],
          lastSeq: Math.max(onboarded.seq, enrolled.seq ?? 0),
        };
      });
      // Keys: one chain (create active, rotate, every other key rotate again) per key, interleaved
      // across tenants like live traffic; a tenant's chains may overlap (key-api serialises them).
      const chains = [];
      let remaining = targetKeys - this.keys;
      for (let round = 0; remaining > 0; round++) {
        let added = false;
        for (const tenant of this.tenants.slice(0, tenantsNeeded)) {
          const planned = tenant.planned ?? tenant.keys.length;
          if (remaining === 0 || planned >= this.keysPerTenant) continue;
          tenant.planned = planned + 1;
          chains.push({ tenant, rotations: (this.keys + chains.length) % 2 === 0 ? 1 : 2 });
          remaining -= 1;
          added = true;
        }
        if (!added) break;
      }
      if (chains.length === 0) return this.stepSummary(before, started, cpuBefore);
      writer = this.method === 'direct' ? await this.directWriter() : this.apiWriter();
      await this.pool(chains, async ({ tenant, rotations }) => {
        const created = await writer.createKey(tenant);
        this.commits += 1;
        const key = { keyId: created.keyId, versions: 1 };
        tenant.lastSeq = Math.max(tenant.lastSeq, created.seq);
        for (let r = 0; r < rotations; r++) {
          const rotated = await writer.rotateKey(tenant, key.keyId);
          this.commits += 1;
          key.versions += 1;
          tenant.lastSeq = Math.max(tenant.lastSeq, rotated.seq);
        }
        tenant.keys.push(key);
        this.keys += 1;
      });
    } finally {
      clearInterval(timer);
      tick();
      bar.stop();
      for (const t of this.tenants) delete t.planned;
      // The direct writer publishes what it wrote before key-api starts again.
      this.relayPausedSeconds = writer?.pausedSeconds?.() ?? 0;
      if (writer) await writer.stop();
    }
    return this.stepSummary(before, started, cpuBefore);
  }

  /** What one growTo did. */
  stepSummary(before, started, cpuBefore) {
    const seconds = (performance.now() - started) / 1000;
    this.seconds += seconds;
    const commits = this.commits - before.commits;
    const cpuMsPerCommit = Object.fromEntries(
      Object.entries(this.pids).map(([n, pid]) => {
        const after = cpuMs(pid);
        return [n, after === null || cpuBefore[n] === null || commits === 0 ? null : round((after - cpuBefore[n]) / commits, 2)];
      }),
    );
    return {
      method: this.method,
      concurrency: this.concurrency,
      tenantsAdded: this.tenants.length - before.tenants,
      keysAdded: this.keys - before.keys,
      commits,
      seconds: round(seconds, 1),
      commitsPerSec: round(commits / seconds, 1),
      commandLatency: latencySummary(this.latencies),
      retries: this.retries,
      // Direct fill: time new commands waited for the relay to catch up (back-pressure).
      ...(this.method === 'direct' ? { relayPausedSeconds: round(this.relayPausedSeconds ?? 0, 1) } : {}),
      cpuMsPerCommit,
    };
  }

  /**
   * Asks a fill under way to stop: no new tenant or key is started, those in flight finish, the
   * direct writer publishes what it wrote, and the state is saved (so that a later run resumes).
   */
  stop() {
    this.stopping = true;
  }

  /** Runs `work` on every item, `concurrency` at a time; the first failure, or stop(), stops the rest. */
  async pool(items, work) {
    let next = 0;
    let failed = null;
    const runner = async () => {
      while (failed === null && !this.stopping && next < items.length) {
        const item = items[next++];
        try {
          await work(item);
        } catch (err) {
          failed ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, runner));
    if (failed) throw failed;
  }

  /**
   * Waits until the views of every fill tenant include its last commit (`GET /v1/tenant?minSeq`,
   * a view read, answered 503 while the projection is behind); resolves the seconds it took.
   */
  async waitForViews(timeoutSec) {
    const started = performance.now();
    const deadline = started + timeoutSec * 1000;
    await this.pool(this.tenants, async (tenant) => {
      for (;;) {
        const read = await this.stack.client
          .request('GET', `/v1/tenant?minSeq=${tenant.lastSeq}`, { key: tenant.adminKey, timeoutMs: 30_000 })
          .catch((e) => ({ status: 0, text: e.message }));
        if (read.status === 200) return;
        if (performance.now() > deadline) {
          throw new Error(`the views of ${tenant.tenantId} did not reach seq ${tenant.lastSeq} within ${timeoutSec} s (${read.status})`);
        }
        await sleep(read.status === 503 ? 100 : 500);
      }
    });
    return round((performance.now() - started) / 1000, 1);
  }
}
