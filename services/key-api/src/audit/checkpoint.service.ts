import { createPublicKey } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Collection } from 'mongodb';
import { Counter } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import {
  ChainWalker,
  checkpointPayload,
  CommitStore,
  Lease,
  signCheckpoint,
  verifyCheckpoint,
  type AuditProblem,
  type SignedCheckpoint,
  type StoredLink,
} from '@keyward/event-log';
import { KEYWARD_CONFIG, MetricsRegistry, MongoConnection, retryUntilDone } from '@keyward/platform';
import { readCommits } from './commit-reader';
import { loadSigningKey, type CheckpointSigningKey } from './signing-key';

export const CHECKPOINTS = 'checkpoints';
export const CHECKPOINT_KEYS = 'checkpoint_keys';

export type CheckpointDocument = SignedCheckpoint & { readonly _id: string };

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
  ) {
    this.checkpoints = mongo.db.collection<CheckpointDocument>(CHECKPOINTS);
    this.keys = mongo.db.collection<CheckpointKeyDocument>(CHECKPOINT_KEYS);
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
    void retryUntilDone(
      async () => {
        await this.checkpoints.createIndex({ tenantId: 1, seq: -1 }, { name: 'tenant_seq' }, undefined);
        await this.publishKey(key);
      },
      (reason) => this.logger.warn(`waiting for MongoDB to publish the checkpoint key (${reason})`),
    ).then(() => {
      if (this.stopped || audit.checkpointIntervalMs === 0) return;
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
  }

  /** One pass (lease holder only): a new checkpoint for every tenant whose head moved. Returns how many. */
  async tick(): Promise<number> {
    const key = this.signingKey;
    if (key === null) return 0;
    try {
      if (!(await this.lease.acquire())) return 0;
      const tenants: string[] = await this.store.commits.distinct('tenantId');
      let made = 0;
      for (const tenantId of tenants) {
        if (this.stopped) break;
        if (await this.checkpointTenant(tenantId, key)) made += 1;
      }
      return made;
    } catch (err: unknown) {
      this.logger.warn(`checkpoint pass failed: ${err instanceof Error ? err.message : String(err)}`);
      return 0;
    }
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
      await this.checkpoints.insertOne({ _id: `${tenantId}:${head.seq}`, ...signed });
    } catch (err: unknown) {
      if ((err as { code?: number }).code === 11000) return false; // signed already (a previous holder of the lease)
      throw err;
    }
    this.signed.inc();
    return true;
  }

  private refuse(tenantId: string, why: string): false {
    this.refused.inc();
    this.logger.error(`not signing a checkpoint of ${tenantId}: ${why}; run GET /v1/audit/verify`);
    return false;
  }

  latest(tenantId: string): Promise<CheckpointDocument | null> {
    return this.checkpoints.find({ tenantId }).sort({ seq: -1 }).limit(1).next();
  }

  /** Checkpoints of a tenant, newest first, with seq below `beforeSeq`. */
  async list(tenantId: string, limit: number, beforeSeq?: number): Promise<{ items: CheckpointAnswer[]; nextCursor: string | null }> {
    const docs = await this.checkpoints
      .find(beforeSeq === undefined ? { tenantId } : { tenantId, seq: { $lt: beforeSeq } })
      .sort({ seq: -1 })
      .limit(limit + 1)
      .toArray();
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
    const docs = await this.checkpoints
      .find({ tenantId, seq: { $gte: fromSeq } })
      .sort({ seq: 1 })
      .toArray();
    if (docs.length === 0) return { checked: 0 };
    const keys = new Map((await this.keys.find({}).toArray()).map((k) => [k._id, k.publicKeyPem]));
    for (const doc of docs) {
      const pem = keys.get(doc.keyId);
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
