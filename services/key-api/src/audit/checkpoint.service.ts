import { createPublicKey } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Collection } from 'mongodb';
import { Counter, Gauge } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import {
  ChainWalker,
  checkpointPayload,
  CommitStore,
  Lease,
  ViewCollections,
  signCheckpoint,
  verifyCheckpoint,
  type AuditProblem,
  type SignedCheckpoint,
  type StoredLink,
} from '@keyward/event-log';
import { KEYWARD_CONFIG, MetricsRegistry, MongoConnection, retryUntilDone } from '@keyward/platform';
import { EventStreamListener } from '@keyward/keys';
import { readCommits } from './commit-reader';
import { loadSigningKey, type CheckpointSigningKey } from './signing-key';

export const CHECKPOINTS = 'checkpoints';
export const CHECKPOINT_KEYS = 'checkpoint_keys';
/** Per tenant (`_id`: tenantId), the seq of its newest checkpoint: found by `_id`, never by a query over every checkpoint. */
export const CHECKPOINT_HEADS = 'checkpoint_heads';
/** The document in CHECKPOINT_HEADS that says every checkpoint written before heads and links existed has them. */
const LINKED = '~linked';

/** `_id`: `<tenantId>:<seq>`; `prevSeq`: the tenant's previous checkpoint (null: its first), so a tenant's checkpoints are walked by `_id`. */
export type CheckpointDocument = SignedCheckpoint & { readonly _id: string; readonly prevSeq?: number | null };

interface CheckpointHeadDocument {
  readonly _id: string;
  readonly seq: number;
}

const checkpointId = (tenantId: string, seq: number): string => `${tenantId}:${seq}`;

/** A public key that signed (or signs) checkpoints. Public keys only: the private key never reaches MongoDB. */
export interface CheckpointKeyDocument {
  readonly _id: string;
  readonly alg: 'Ed25519';
  readonly publicKeyPem: string;
  readonly createdAt: string;
}

export interface PublishedKey {
  readonly keyId: string;
  readonly alg: 'Ed25519';
  readonly pem: string;
  readonly jwk: Record<string, unknown>;
  readonly createdAt: string;
}

/** A checkpoint as answered: the signed claim, plus the exact payload the signature covers. */
export type CheckpointAnswer = SignedCheckpoint & { readonly payload: string };

export const answerCheckpoint = (doc: SignedCheckpoint): CheckpointAnswer => ({
  tenantId: doc.tenantId,
  seq: doc.seq,
  hash: doc.hash,
  at: doc.at,
  alg: doc.alg,
  keyId: doc.keyId,
  signature: doc.signature,
  payload: checkpointPayload(doc),
});

/**
 * Signs the head of every tenant's chain now and then (AUDIT_CHECKPOINT_INTERVAL_MS), one key-api
 * at a time (lease), only where the head moved, and only after checking that the chain since the
 * previous checkpoint is intact: a checkpoint never vouches for a rewritten history. An auditor who
 * keeps a checkpoint can later prove that the history up to it is unchanged and has only grown
 * (GET /v1/audit/verify?since=<seq>&hash=<hash>).
 */
@Injectable()
export class CheckpointService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit-checkpoints');
  readonly checkpoints: Collection<CheckpointDocument>;
  private readonly keys: Collection<CheckpointKeyDocument>;
  private readonly heads: Collection<CheckpointHeadDocument>;
  /** Public keys read so far, by id (a published key never changes). */
  private readonly publicKeys = new Map<string, string>();
  /** Tenants whose log grew since their last checkpoint pass (from keyward.events; at start, those whose head moved since their last checkpoint). */
  private readonly changed = new Set<string>();
  private linked = false;
  private readonly lease: Lease;
  private signingKey: CheckpointSigningKey | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;
  private readonly signed: Counter;
  private readonly refused: Counter;

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly store: CommitStore,
    mongo: MongoConnection,
    metrics: MetricsRegistry,
    private readonly views: ViewCollections,
    private readonly stream: EventStreamListener,
  ) {
    this.checkpoints = mongo.db.collection<CheckpointDocument>(CHECKPOINTS);
    this.keys = mongo.db.collection<CheckpointKeyDocument>(CHECKPOINT_KEYS);
    this.heads = mongo.db.collection<CheckpointHeadDocument>(CHECKPOINT_HEADS);
    const interval = config.audit.checkpointIntervalMs;
    this.lease = new Lease(mongo.db, 'audit-checkpoints', Math.max(10_000, interval * 3));
    this.signed = new Counter({
      name: 'keyward_audit_checkpoints_signed_total',
      help: 'Signed checkpoints of tenant chains',
      registers: [metrics.registry],
    });
    this.refused = new Counter({
      name: 'keyward_audit_checkpoints_refused_total',
      help: 'Checkpoints not signed because the chain since the previous checkpoint did not verify',
      registers: [metrics.registry],
    });
    const changed = this.changed;
    new Gauge({
      name: 'keyward_audit_checkpoint_pending_tenants',
      help: 'Tenants whose log grew since their last checkpoint pass (at start, those whose head moved since their last checkpoint): the next passes read their new commits',
      registers: [metrics.registry],
      collect() {
        this.set(changed.size);
      },
    });
  }

  /** The public key of this instance's signing key, if it signs. */
  get currentKeyId(): string | null {
    return this.signingKey?.keyId ?? null;
  }

  onApplicationBootstrap(): void {
    const { audit } = this.config;
    // A configured key that cannot be read stops the start: signing with nothing would go unnoticed.
    this.signingKey = loadSigningKey(audit.signingKey);
    if (this.signingKey === null) {
      this.logger.warn('checkpoints are not signed: set AUDIT_SIGNING_KEY_FILE to an Ed25519 private key (PEM, PKCS#8)');
      return;
    }
    if (this.signingKey.created) this.logger.warn(`generated a checkpoint signing key into ${this.signingKey.path} (development)`);
    if (this.signingKey.loosePermissions) this.logger.warn(`${this.signingKey.path} was readable by others; its mode is now 0600`);
    const key = this.signingKey;
    this.stream.onCommit((commit) => this.changed.add(commit.tenantId));
    void retryUntilDone(
      async () => {
        await this.checkpoints.createIndex({ tenantId: 1, seq: -1 }, { name: 'tenant_seq' }, undefined);
        await this.publishKey(key);
        await this.linkOnce();
      },
      (reason) => this.logger.warn(`waiting for MongoDB to publish the checkpoint key (${reason})`),
    ).then(() => {
      if (this.stopped || audit.checkpointIntervalMs === 0) return;
      void this.noteTenantsBehindOnceFollowing().catch((err: unknown) =>
        this.logger.warn(`cannot list the tenants to checkpoint: ${err instanceof Error ? err.message : String(err)}`),
      );
      this.timer = setInterval(() => {
        this.running ??= this.tick().finally(() => (this.running = undefined));
      }, audit.checkpointIntervalMs);
      this.timer.unref();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    // Hand the lease over at once (as the relay does): the next instance signs at its first pass,
    // not a lease term (three intervals) later.
    await this.lease.release().catch(() => undefined);
  }

  /**
   * One pass (lease holder only): a new checkpoint for every tenant whose log grew since the last
   * pass (keyward.events says which; after start, also those whose head moved since their last
   * checkpoint). Returns how many. A pass with
   * no such tenant reads nothing.
   */
  async tick(): Promise<number> {
    const key = this.signingKey;
    if (key === null || this.changed.size === 0) return 0;
    try {
      if (!(await this.lease.acquire())) return 0;
      let made = 0;
      for (const tenantId of [...this.changed]) {
        if (this.stopped) break;
        this.changed.delete(tenantId); // before the pass: a commit streamed meanwhile adds it again
        try {
          if (await this.checkpointTenant(tenantId, key)) made += 1;
        } catch (err: unknown) {
          this.changed.add(tenantId);
          throw err;
        }
      }
      return made;
    } catch (err: unknown) {
      this.logger.warn(`checkpoint pass failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
  }

  /** Tenants a pass would look at (for tests and metrics). */
  get pendingTenants(): number {
    return this.changed.size;
  }

  /**
   * Once the stream is followed (commits from then on reach `changed`), the tenants whose log grew
   * while no key-api followed it: those whose head hint is not the seq of their newest checkpoint.
   * Two reads of one small document per tenant, not the per-tenant head probes a pass makes, so a
   * restart checkpoints what changed, not every tenant. A hint lags its tenant's head only after an
   * append stopped between its commit and its hint; the relay's sweep raises the hints of the
   * commits it publishes before publishing them, so such a commit is in the hints read here or on
   * the stream. A store without complete hints (written before they existed) has every tenant
   * looked at once.
   */
  private async noteTenantsBehindOnceFollowing(): Promise<void> {
    while (!this.stream.joined && !this.stopped) await new Promise((r) => setTimeout(r, 500).unref());
    const hints = await this.store.headHints();
    if (hints === null) {
      for await (const tenant of this.views.tenants.find({}, { projection: { tenantId: 1 }, batchSize: 1_000 })) {
        this.changed.add(tenant.tenantId);
      }
      return;
    }
    const checkpointed = new Map<string, number>();
    for await (const head of this.heads.find({}, { batchSize: 1_000 })) checkpointed.set(head._id, head.seq);
    for (const [tenantId, seq] of hints) if (seq > 0 && checkpointed.get(tenantId) !== seq) this.changed.add(tenantId);
  }

  /**
   * Gives checkpoints written before heads and links existed their `prevSeq` and each tenant its
   * head document: one pass over the checkpoints, once per deployment (then marked done).
   */
  private async linkOnce(): Promise<void> {
    if (await this.isLinked()) return;
    const last = new Map<string, number>();
    for await (const doc of this.checkpoints.find({}).sort({ tenantId: 1, seq: 1 }).batchSize(1_000)) {
      const prevSeq = last.get(doc.tenantId) ?? null;
      if (doc.prevSeq === undefined) await this.checkpoints.updateOne({ _id: doc._id }, { $set: { prevSeq } });
      last.set(doc.tenantId, doc.seq);
    }
    for (const [tenantId, seq] of last) {
      const head = await this.heads.findOne({ _id: tenantId });
      if (head === null || head.seq < seq) await this.heads.replaceOne({ _id: tenantId }, { seq }, { upsert: true });
    }
    await this.heads.insertOne({ _id: LINKED, seq: 0 }).catch(() => undefined);
    this.linked = true;
  }

  private async checkpointTenant(tenantId: string, key: CheckpointSigningKey): Promise<boolean> {
    const head = await this.store.head(tenantId);
    if (!head) return false;
    const last = await this.latest(tenantId);
    if (last && last.seq === head.seq && last.hash === head.hash) return false;
    // Vouch only for a chain that extends the previous checkpoint intact.
    let walker = new ChainWalker();
    if (last) {
      const anchor = await this.store.get(tenantId, last.seq);
      if (!anchor || anchor.hash !== last.hash)
        return this.refuse(tenantId, `commit ${last.seq} no longer has the hash checkpointed at ${last.at}`);
      walker = new ChainWalker(last.seq + 1, last.hash);
    }
    for await (const commit of readCommits(this.store, tenantId, { afterSeq: last?.seq ?? 0, toSeq: head.seq })) {
      if (walker.accept(commit)) break;
    }
    if (walker.problem) return this.refuse(tenantId, walker.problem.detail);
    if (walker.verifiedThroughSeq !== head.seq)
      return this.refuse(tenantId, `the chain ends at ${walker.verifiedThroughSeq}, not at ${head.seq}`);
    const signed = signCheckpoint({ tenantId, seq: head.seq, hash: head.hash, at: new Date().toISOString() }, key.privateKey);
    try {
      await this.checkpoints.insertOne({ _id: checkpointId(tenantId, head.seq), ...signed, prevSeq: last?.seq ?? null });
    } catch (err: unknown) {
      if ((err as { code?: number }).code === 11000) return false; // signed already (a previous holder of the lease)
      throw err;
    }
    // Only the lease holder writes heads; two overlapping holders at worst leave an older head, re-checked and re-signed next time.
    await this.heads.replaceOne({ _id: tenantId }, { seq: head.seq }, { upsert: true });
    this.signed.inc();
    return true;
  }

  private refuse(tenantId: string, why: string): false {
    this.refused.inc();
    this.logger.error(`not signing a checkpoint of ${tenantId}: ${why}; run GET /v1/audit/verify`);
    return false;
  }

  /** Whether heads and links exist for every checkpoint (read by `_id` until it is true). */
  private async isLinked(): Promise<boolean> {
    if (!this.linked) this.linked = (await this.heads.findOne({ _id: LINKED })) !== null;
    return this.linked;
  }

  /** The tenant's newest checkpoint: two reads by `_id` (its head, then the checkpoint). */
  async latest(tenantId: string): Promise<CheckpointDocument | null> {
    if (!(await this.isLinked())) return this.checkpoints.find({ tenantId }).sort({ seq: -1 }).limit(1).next();
    const head = await this.heads.findOne({ _id: tenantId });
    return head === null ? null : this.checkpoints.findOne({ _id: checkpointId(tenantId, head.seq) });
  }

  /**
   * The tenant's checkpoints, newest first, from its newest (or the one before `beforeSeq`), for as
   * long as the caller reads: each by `_id`, following `prevSeq`. A checkpoint without a link (written
   * before links, while linkOnce has not run) ends the walk through the query it replaces.
   */
  private async *walk(tenantId: string, beforeSeq?: number): AsyncGenerator<CheckpointDocument> {
    let doc: CheckpointDocument | null = null;
    if (beforeSeq !== undefined) {
      const at = await this.checkpoints.findOne({ _id: checkpointId(tenantId, beforeSeq) });
      if (at?.prevSeq === null) return;
      if (at?.prevSeq !== undefined) doc = await this.checkpoints.findOne({ _id: checkpointId(tenantId, at.prevSeq) });
      else if (at === null) {
        // Not a checkpoint's seq: from the newest, skipping those at or above it.
        for await (const older of this.walk(tenantId)) if (older.seq < beforeSeq) yield older;
        return;
      } else {
        yield* this.queried(tenantId, beforeSeq);
        return;
      }
    } else {
      doc = await this.latest(tenantId);
    }
    while (doc !== null) {
      yield doc;
      if (doc.prevSeq === null) return;
      if (doc.prevSeq === undefined) {
        yield* this.queried(tenantId, doc.seq);
        return;
      }
      doc = await this.checkpoints.findOne({ _id: checkpointId(tenantId, doc.prevSeq) });
    }
  }

  private async *queried(tenantId: string, beforeSeq: number): AsyncGenerator<CheckpointDocument> {
    yield* await this.checkpoints
      .find({ tenantId, seq: { $lt: beforeSeq } })
      .sort({ seq: -1 })
      .toArray();
  }

  /** Checkpoints of a tenant, newest first, with seq below `beforeSeq`. */
  async list(tenantId: string, limit: number, beforeSeq?: number): Promise<{ items: CheckpointAnswer[]; nextCursor: string | null }> {
    const docs: CheckpointDocument[] = [];
    for await (const doc of this.walk(tenantId, beforeSeq)) {
      docs.push(doc);
      if (docs.length > limit) break;
    }
    const page = docs.slice(0, limit);
    return { items: page.map(answerCheckpoint), nextCursor: docs.length > limit ? String(page.at(-1)?.seq) : null };
  }

  async publishedKeys(): Promise<PublishedKey[]> {
    const docs = await this.keys.find({}).sort({ createdAt: 1 }).toArray();
    return docs.map((doc) => ({
      keyId: doc._id,
      alg: doc.alg,
      pem: doc.publicKeyPem,
      jwk: { ...createPublicKey(doc.publicKeyPem).export({ format: 'jwk' }), kid: doc._id, alg: 'EdDSA', use: 'sig' },
      createdAt: doc.createdAt,
    }));
  }

  /**
   * Checks the tenant's stored checkpoints from `fromSeq` on against the store: each signature
   * verifies with a published key, and the commit it vouches for still has that hash. Returns the
   * problem with the lowest seq, if any.
   */
  async check(
    tenantId: string,
    store: ReadonlyMap<number, StoredLink>,
    fromSeq: number,
  ): Promise<{ checked: number; problem?: AuditProblem }> {
    const docs: CheckpointDocument[] = [];
    for await (const doc of this.walk(tenantId)) {
      if (doc.seq < fromSeq) break;
      docs.unshift(doc);
    }
    if (docs.length === 0) return { checked: 0 };
    for (const doc of docs) {
      const pem = await this.publicKey(doc.keyId);
      if (pem === undefined || !verifyCheckpoint(doc, pem)) {
        return {
          checked: docs.length,
          problem: {
            seq: doc.seq,
            problem: 'checkpoint-signature',
            detail: `the checkpoint of commit ${doc.seq} does not verify with a published key`,
          },
        };
      }
      // A checkpoint newer than the walk vouches for a commit written since: read it now.
      const link = store.get(doc.seq) ?? (await this.store.get(tenantId, doc.seq)) ?? undefined;
      if (link === undefined) {
        return {
          checked: docs.length,
          problem: {
            seq: doc.seq,
            problem: 'missing-commit',
            detail: `commit ${doc.seq}, signed in a checkpoint at ${doc.at}, is missing from the store`,
          },
        };
      }
      if (link.hash !== doc.hash) {
        return {
          checked: docs.length,
          problem: {
            seq: doc.seq,
            problem: 'checkpoint-mismatch',
            detail: `commit ${doc.seq} no longer has the hash signed in the checkpoint of ${doc.at}`,
          },
        };
      }
    }
    return { checked: docs.length };
  }

  /** A published public key by its id (read once by `_id`, then remembered). */
  private async publicKey(keyId: string): Promise<string | undefined> {
    const known = this.publicKeys.get(keyId);
    if (known !== undefined) return known;
    const doc = await this.keys.findOne({ _id: keyId });
    if (doc !== null) this.publicKeys.set(keyId, doc.publicKeyPem);
    return doc?.publicKeyPem;
  }

  private async publishKey(key: CheckpointSigningKey): Promise<void> {
    const doc: CheckpointKeyDocument = {
      _id: key.keyId,
      alg: 'Ed25519',
      publicKeyPem: key.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      createdAt: new Date().toISOString(),
    };
    try {
      await this.keys.insertOne(doc);
    } catch (err: unknown) {
      if ((err as { code?: number }).code !== 11000) throw err;
    }
  }
}
