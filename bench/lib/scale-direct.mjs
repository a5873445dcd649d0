// The scale fill's fast writer: key commands through the real write path in this process, as a
// second key-api instance would run them, without HTTP. The same libraries key-api runs (dist/,
// after `npm run build`): the configuration key-api loads from the same environment, its
// CommandExecutor (decide, seal, append to the commit log, executor limits and tenant quotas) on
// a CommitStore, and a Relay (lease `relay`, commits handed over as they are stored) publishing
// to the stack's events topic, which the stack's projector consumes into the views. Key material
// is made as key-api's create and rotate handlers make it (services/key-api/src/commands/
// create-key.handler.ts, crypto/key-material.service.ts): fresh bytes from the CSPRNG, the check
// value in the command, wrapped under the tenant KEK (unwrapped with the root key key-api uses,
// checked against the keystore's root check value) and stored in the keystore before the commit.
// Only one relay publishes at a time (the lease): the scale scenario stops key-api while this
// writer runs and starts it again afterwards.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from './util.mjs';

/** Resolves @keyward/* in dist/ (scripts/link-libs.mjs links them into dist/node_modules). */
const requireDist = createRequire(join(repoRoot, 'dist', 'bench-direct-fill.js'));

const KEY_TYPE = 'AES-256-GCM';
/** Longest wait for the relay lease (terms of 5 s; key-api releases it when it stops). */
const LEASE_WAIT_MS = 60_000;
/** Longest wait for the relay to publish what was written before stopping it. */
const DRAIN_WAIT_MS = 600_000;
/**
 * Back-pressure: new commands wait while the oldest unpublished commit is older than this, until
 * it is younger than RELAY_LAG_RESUME_SEC. Without it a writer outruns the relay (seen at ~100
 * commits/s on a loaded machine: 65,000 commits stored but unpublished, which key-api's sweeps then
 * publish at ~70/s), and the fill's rate says nothing about when the views will have it.
 */
const RELAY_LAG_PAUSE_SEC = 20;
const RELAY_LAG_RESUME_SEC = 5;
const RELAY_LAG_POLL_MS = 2_000;

async function until(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`direct fill: waited ${timeoutMs / 1000} s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export class DirectWriter {
  /** @param env the environment key-api runs with (BenchStack.env). */
  constructor(env) {
    this.env = env;
  }

  /** Connects to the store and the broker, checks the root key, starts the relay. */
  async start() {
    const { loadConfig } = requireDist('@keyward/config');
    const { CommandExecutor, CommitStore, Lease, Relay, ensureTopics, executorLimitsOf } = requireDist('@keyward/event-log');
    const { Keystore, keyCheckValue, loadRootKey } = requireDist('@keyward/crypto');
    const { KafkaConnection, MongoConnection, businessNow } = requireDist('@keyward/platform');
    const { KEY_TYPES } = requireDist('@keyward/domain');
    const { newId } = requireDist('@keyward/auth');
    const crypto = requireDist('@keyward/crypto');
    this.lib = { crypto, keyCheckValue, businessNow, newId, materialBytes: KEY_TYPES[KEY_TYPE].materialBytes };
    const config = loadConfig(this.env, repoRoot);
    this.mongo = new MongoConnection(config);
    this.kafka = new KafkaConnection(config);
    await this.mongo.client.connect();
    const loaded = loadRootKey(config.rootKey);
    if (loaded.key === null) throw new Error(`direct fill: no root key (${loaded.reason})`);
    this.rootKey = loaded.key;
    this.keystore = new Keystore(this.mongo.db);
    const inForce = await this.keystore.rootCheck();
    if (inForce !== keyCheckValue(this.rootKey)) {
      throw new Error(`direct fill: the root key in ${JSON.stringify(config.rootKey)} is not the keystore's (${inForce})`);
    }
    await ensureTopics(this.kafka.kafka, config.kafka);
    const store = new CommitStore(this.mongo.db);
    const quiet = { warn: (m) => console.warn(`bench: direct fill relay: ${m}`), log: () => undefined };
    // As key-api's EventLogModule builds them (services/key-api/src/commands/event-log.module.ts).
    this.store = store;
    this.lease = new Lease(this.mongo.db, 'relay');
    this.relay = new Relay(this.kafka.kafka, store, this.lease, { topic: config.kafka.topics.events, idleMs: 100 }, quiet);
    this.executor = new CommandExecutor(store, (commit) => this.relay.nudge(commit), undefined, executorLimitsOf(config.limits));
    this.relay.start();
    /** Unwrapped tenant KEKs, zeroed by stop(). */
    this.keks = new Map();
    // A relay without the lease drops what it is handed (the holder's sweeps would publish it):
    // start writing once this one holds it (key-api's relay released it on stopping, or it lapsed).
    await until(() => this.lease.heldTerm !== undefined, LEASE_WAIT_MS, 'the relay lease');
    this.lagSeconds = 0;
    this.pausedSeconds = 0;
    this.lagTimer = setInterval(() => void this.pollLag(), RELAY_LAG_POLL_MS);
    return this;
  }

  /** The age of the oldest unpublished commit (0 when none), for admit(). */
  async pollLag() {
    if (this.polling) return;
    this.polling = true;
    try {
      const oldest = await this.store.oldestUnpublished();
      this.lagSeconds = oldest ? Math.max(0, (Date.now() - Date.parse(oldest.committedAt)) / 1000) : 0;
    } catch {
      // the next poll tells
    } finally {
      this.polling = false;
    }
  }

  /** Waits while the relay is too far behind (RELAY_LAG_PAUSE_SEC), until it caught up (RELAY_LAG_RESUME_SEC). */
  async admit() {
    if (this.lagSeconds <= RELAY_LAG_PAUSE_SEC && !this.paused) return;
    if (!this.paused) {
      this.paused = (async () => {
        const started = performance.now();
        console.log(
          `bench: direct fill: relay ${Math.round(this.lagSeconds)} s behind; pausing until it is within ${RELAY_LAG_RESUME_SEC} s`,
        );
        while (this.lagSeconds > RELAY_LAG_RESUME_SEC && this.lagTimer)
          await new Promise((resolve) => setTimeout(resolve, RELAY_LAG_POLL_MS));
        this.pausedSeconds += (performance.now() - started) / 1000;
        this.paused = null;
      })();
    }
    await this.paused;
  }

  /** The tenant's KEK: made at onboarding; made here, as key-api would, for a tenant without one. */
  async kek(tenantId) {
    const cached = this.keks.get(tenantId);
    if (cached) return cached;
    const { crypto, keyCheckValue } = this.lib;
    let stored = await this.keystore.kek(tenantId);
    if (stored === null) {
      const fresh = crypto.newKek();
      stored = await this.keystore.putKekIfAbsent(tenantId, crypto.wrapKek(this.rootKey, tenantId, fresh), keyCheckValue(this.rootKey));
      fresh.fill(0);
    }
    const kek = crypto.unwrapKek(this.rootKey, tenantId, stored.sealed);
    this.keks.set(tenantId, kek);
    return kek;
  }

  /**
   * One command that introduces a key version (key.create or key.rotate), as key-api's
   * withNewVersion runs it; resolves the executor's answer.
   */
  async newVersion(tenant, keyId, build) {
    await this.admit();
    const { crypto, keyCheckValue, businessNow, materialBytes } = this.lib;
    const material = randomBytes(materialBytes);
    try {
      const kcv = keyCheckValue(material);
      const kek = await this.kek(tenant.tenantId);
      const ctx = {
        now: businessNow(),
        actor: { principalId: tenant.adminPrincipalId, role: 'tenant-admin' },
        correlationId: randomUUID(),
      };
      return await this.executor.execute(tenant.tenantId, build(kcv), ctx, async (events) => {
        const created = events.find((e) => (e.type === 'key.created.v1' || e.type === 'key.rotated.v1') && e.data.keyId === keyId);
        if (created === undefined) return;
        const ref = { tenantId: tenant.tenantId, keyId, version: created.data.version.version };
        if (!crypto.matchesCheckValue(created.data.version.kcv, material, { kek, tenantId: ref.tenantId, keyId })) {
          throw new Error(`check value ${created.data.version.kcv} does not match the new material of ${keyId} v${ref.version}`);
        }
        await this.keystore.putMaterial(ref, created.data.version.kcv, crypto.wrapMaterial(kek, ref, material));
      });
    } finally {
      material.fill(0);
    }
  }

  /** key.create, active at once (the API fill's `{ keyType, activate: true }`); resolves { keyId, seq }. */
  async createKey(tenant) {
    const keyId = this.lib.newId('key');
    const { seq } = await this.newVersion(tenant, keyId, (kcv) => ({ kind: 'key.create', keyId, kcv, keyType: KEY_TYPE, activate: true }));
    return { keyId, seq };
  }

  /** key.rotate; resolves { seq }. */
  async rotateKey(tenant, keyId) {
    const { seq } = await this.newVersion(tenant, keyId, (kcv) => ({ kind: 'key.rotate', keyId, kcv }));
    return { seq };
  }

  /** Waits until the relay published every commit (the outbox is empty); false when it timed out. */
  async drain(timeoutMs = DRAIN_WAIT_MS) {
    return until(async () => (await this.store.oldestUnpublished()) === null, timeoutMs, 'the relay').then(
      () => true,
      () => false,
    );
  }

  /** Publishes what the relay was handed, releases the lease, closes the connections, zeroes the keys. */
  async stop() {
    clearInterval(this.lagTimer);
    this.lagTimer = undefined;
    if (this.relay && !(await this.drain())) console.warn("bench: direct fill: commits left unpublished (key-api's relay sweeps them)");
    await this.relay?.stop();
    await this.kafka?.onApplicationShutdown();
    await this.mongo?.client.close();
    for (const kek of this.keks?.values() ?? []) kek.fill(0);
    this.keks?.clear();
    this.rootKey?.fill(0);
  }
}
