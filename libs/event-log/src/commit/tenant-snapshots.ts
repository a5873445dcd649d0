import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import { Binary, type Collection, type Db } from 'mongodb';
import { restoreSnapshot, snapshotOf, TENANT_LOG_STATE_VERSION, type TenantLog, type TenantLogSnapshot } from '@keyward/domain';

/** Per tenant (`_id` = tenantId): its folded log at some seq, so a cold reader folds only the commits after it. */
export const TENANT_SNAPSHOTS = 'tenant_snapshots';

const MAC_INFO = 'keyward/tenant-snapshot-mac/v1';
/** Snapshots larger than this (compressed) are not written: the log is folded from its commits, as before. */
export const SNAPSHOT_MAX_BYTES = 8 * 2 ** 20;

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

export interface TenantSnapshotDocument {
  readonly _id: string;
  readonly seq: number;
  /** Hash of the commit at `seq`: the next commit's prevHash, and checked against the store on load. */
  readonly headHash: string;
  readonly stateVersion: number;
  /** The TenantLogSnapshot as raw-deflated JSON. */
  readonly state: Binary;
  /** HMAC-SHA256 (hex) under a key derived from the root key, over all of the above. */
  readonly mac: string;
  readonly takenAt: string;
}

/** A restored log and the hash of its newest commit. */
export interface RestoredLog {
  readonly log: TenantLog;
  readonly headHash: string;
}

/** Why a stored snapshot was not used (the log is then folded from its commits). */
export type SnapshotRejection = 'mac' | 'version' | 'malformed';

/** The snapshot MAC key, derived from the root key (32 bytes). */
export function deriveSnapshotMacKey(rootKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), MAC_INFO, 32));
}

function snapshotMac(key: Buffer, tenantId: string, seq: number, headHash: string, stateVersion: number, state: Uint8Array): string {
  const hmac = createHmac('sha256', key);
  const fields = [MAC_INFO, tenantId, String(seq), headHash, String(stateVersion), createHash('sha256').update(state).digest('hex')];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('hex');
}

function macMatches(expected: string, stored: unknown): boolean {
  if (typeof stored !== 'string' || stored.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'utf8'), Buffer.from(stored, 'utf8'));
}

/**
 * Snapshots of tenant logs in the store. A cold tenant (after a start or an eviction) costs one
 * read of its snapshot plus the commits after it, not one read per commit of its history.
 *
 * Trust: a snapshot decides like the commits it stands for (grants, principals, key states), so
 * one written by anybody but Keyward must not be used. Each carries an HMAC under a key derived from
 * the root key; a snapshot whose MAC does not verify, of another state version (older code), or
 * whose head is not the stored commit at its seq (a store restored to an earlier point) is ignored
 * and the log folded from its commits. While the service is sealed (no root key), none is read or
 * written. Snapshots hold no key material: key states carry check values only.
 *
 * One document per tenant, replaced whole (a single-document write, atomic on MongoDB and FerretDB):
 * concurrent writers may leave an older snapshot in place, which is still a correct one.
 */
export class TenantSnapshots {
  readonly collection: Collection<TenantSnapshotDocument>;

  constructor(
    db: Db,
    /** The MAC key, or undefined while sealed. */
    private readonly macKey: () => Buffer | undefined,
  ) {
    this.collection = db.collection<TenantSnapshotDocument>(TENANT_SNAPSHOTS);
  }

  /**
   * The tenant's snapshot, verified and restored, or why it was not used (`undefined`: none, or
   * sealed). The caller still checks `headHash` against the stored commit at `seq`.
   */
  async read(tenantId: string): Promise<RestoredLog | SnapshotRejection | undefined> {
    const key = this.macKey();
    if (key === undefined) return undefined;
    const doc = await this.collection.findOne({ _id: tenantId });
    if (doc === null) return undefined;
    if (doc.stateVersion !== TENANT_LOG_STATE_VERSION) return 'version';
    if (!(doc.state instanceof Binary) || typeof doc.headHash !== 'string' || !Number.isSafeInteger(doc.seq)) return 'malformed';
    const state = doc.state.buffer;
    if (!macMatches(snapshotMac(key, tenantId, doc.seq, doc.headHash, doc.stateVersion, state), doc.mac)) return 'mac';
    let snapshot: TenantLogSnapshot;
    try {
      snapshot = JSON.parse((await inflate(state)).toString('utf8')) as TenantLogSnapshot;
    } catch {
      return 'malformed';
    }
    if (snapshot.seq !== doc.seq) return 'malformed';
    const log = restoreSnapshot(tenantId, snapshot);
    return log === undefined ? 'version' : { log, headHash: doc.headHash };
  }

  /** Stores the log as it is now (its seq and head hash); false when sealed or too large. */
  async write(log: TenantLog, headHash: string, now = new Date()): Promise<boolean> {
    const key = this.macKey();
    if (key === undefined || log.seq < 1) return false;
    const seq = log.seq;
    const state = await deflate(Buffer.from(JSON.stringify(snapshotOf(log)), 'utf8'));
    if (state.length > SNAPSHOT_MAX_BYTES) return false;
    const doc: TenantSnapshotDocument = {
      _id: log.logId,
      seq,
      headHash,
      stateVersion: TENANT_LOG_STATE_VERSION,
      state: new Binary(state),
      mac: snapshotMac(key, log.logId, seq, headHash, TENANT_LOG_STATE_VERSION, state),
      takenAt: now.toISOString(),
    };
    await this.collection.replaceOne({ _id: log.logId }, doc, { upsert: true });
    return true;
  }
}
