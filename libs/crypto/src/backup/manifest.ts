import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BackupError } from './backup-error';
import { backupKeyFingerprint, manifestMacKey, PART_LABEL, type BackupPart } from './backup-keys';
import { canonicalize } from './canonical';
import { SNAPSHOT_ID } from './snapshot-id';

export const MANIFEST_FORMAT = 'keyward-backup/1';
export const MANIFEST_OBJECT = 'manifest.json';
export const partObject = (part: BackupPart): string => `${part}.kwb`;

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`));
const count = z.number().int().min(0);

const partEntrySchema = z
  .object({
    object: z.string().min(1),
    bytes: count,
    sha256: hex(32),
    contentSha256: hex(32),
    records: z.record(z.string(), count),
    keyFingerprint: hex(8),
  })
  .strict();

const manifestSchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    snapshotId: z.string().regex(SNAPSHOT_ID),
    createdAt: z.string(),
    trigger: z.enum(['api', 'schedule', 'cli']),
    /** Check value of the root key the KEKs are wrapped with (null: the keystore had none yet). */
    rootKcv: z.string().nullable(),
    /** Event-log position per tenant when the snapshot began: the last commit's seq and hash. */
    positions: z.record(z.string(), z.object({ seq: count, hash: z.string() }).strict()),
    parts: z.object({ kek: partEntrySchema, dek: partEntrySchema }).strict(),
  })
  .strict();

const signedManifestSchema = z
  .object({
    manifest: manifestSchema,
    signature: z.object({ alg: z.literal('HMAC-SHA256'), part: z.enum(['kek', 'dek']), keyFingerprint: hex(8), value: hex(32) }).strict(),
  })
  .strict();

export type PartEntry = z.infer<typeof partEntrySchema>;
export type SnapshotManifest = z.infer<typeof manifestSchema>;
export type SignedManifest = z.infer<typeof signedManifestSchema>;

function mac(manifest: SnapshotManifest, backupKey: Buffer, part: BackupPart): Buffer {
  const key = manifestMacKey(backupKey, part);
  try {
    return createHmac('sha256', key)
      .update(`keyward/backup/v1/manifest\n${canonicalize({ part, manifest })}`)
      .digest();
  } finally {
    key.fill(0);
  }
}

/**
 * Signs the manifest stored beside one part with HMAC-SHA256 under a key derived (HKDF) from that
 * part's backup key. Symmetric on purpose: only holders of the backup key can read a part anyway,
 * so they are the only verifiers, and no key pair has to be distributed or pinned.
 */
export function signManifest(manifest: SnapshotManifest, backupKey: Buffer, part: BackupPart): SignedManifest {
  return {
    manifest,
    signature: {
      alg: 'HMAC-SHA256',
      part,
      keyFingerprint: backupKeyFingerprint(backupKey),
      value: mac(manifest, backupKey, part).toString('hex'),
    },
  };
}

export function encodeSignedManifest(signed: SignedManifest): string {
  return `${JSON.stringify(signed, null, 2)}\n`;
}

/** Parses a stored manifest; anything unreadable was altered or damaged. */
export function parseSignedManifest(text: string, what: string): SignedManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BackupError('tampered', `${what} is not valid JSON: it was altered or damaged`);
  }
  const format = (json as { manifest?: { format?: unknown } } | null)?.manifest?.format;
  if (typeof format === 'string' && format !== MANIFEST_FORMAT) {
    throw new BackupError('unsupported-format', `${what} has format ${format}; this version reads ${MANIFEST_FORMAT}`);
  }
  const result = signedManifestSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new BackupError(
      'tampered',
      `${what} is not a valid manifest (${issue ? issue.path.join('.') || 'root' : '?'}): it was altered or damaged`,
    );
  }
  return result.data;
}

export interface ManifestKeys {
  /** The backup key given for this part. */
  readonly backupKey: Buffer;
  /** The backup key given for the other part, to recognise swapped keys. */
  readonly otherKey?: Buffer;
}

/** Checks the signature of the manifest stored beside `part`; refuses precisely. */
export function verifyManifest(signed: SignedManifest, part: BackupPart, keys: ManifestKeys, what: string): void {
  const label = PART_LABEL[part];
  if (signed.signature.part !== part) {
    throw new BackupError(
      'wrong-part',
      `${what} signs the ${PART_LABEL[signed.signature.part]} part, not the ${label} part: are the two destinations swapped?`,
    );
  }
  const given = backupKeyFingerprint(keys.backupKey);
  if (signed.signature.keyFingerprint !== given) {
    const other = keys.otherKey === undefined ? undefined : backupKeyFingerprint(keys.otherKey);
    if (other === signed.signature.keyFingerprint) {
      throw new BackupError(
        'swapped-keys',
        `${what} is signed with the key given as the ${label === 'KEK' ? 'DEK' : 'KEK'} backup key: the two backup keys are swapped`,
      );
    }
    throw new BackupError(
      'wrong-key',
      `${what} is signed with backup key ${signed.signature.keyFingerprint}, not with the ${label} backup key given (${given})`,
    );
  }
  const expected = mac(signed.manifest, keys.backupKey, part);
  const presented = Buffer.from(signed.signature.value, 'hex');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new BackupError('tampered', `${what} does not match its signature: it was altered`);
  }
  if (signed.manifest.parts[part].keyFingerprint !== given) {
    throw new BackupError('tampered', `${what} names backup key ${signed.manifest.parts[part].keyFingerprint} for its own part`);
  }
}

/** The two manifests must describe one snapshot, field for field. */
export function checkPair(kek: SignedManifest, dek: SignedManifest): SnapshotManifest {
  const a = kek.manifest;
  const b = dek.manifest;
  if (a.snapshotId !== b.snapshotId) {
    throw new BackupError(
      'mismatched-pair',
      `the KEK part is snapshot ${a.snapshotId} (${a.createdAt}) but the DEK part is snapshot ${b.snapshotId} (${b.createdAt}): a restore needs both parts of one snapshot`,
    );
  }
  if (canonicalize(a) !== canonicalize(b)) {
    const fields = (Object.keys(a) as (keyof SnapshotManifest)[]).filter((f) => canonicalize(a[f]) !== canonicalize(b[f]));
    throw new BackupError(
      'mismatched-pair',
      `the KEK and DEK manifests of snapshot ${a.snapshotId} differ (${fields.join(', ')}): the parts come from two different backups`,
    );
  }
  return a;
}
