import { z } from 'zod';
import { SNAPSHOT_ID } from '@keyward/crypto';

export const snapshotIdParam = z.string().regex(SNAPSHOT_ID, 'not a snapshot id (bk-<time>-<8 hex>)');
export const verificationIdParam = z.string().regex(/^vf-[0-9a-f-]{36}$/, 'not a verification id (vf-<uuid>)');
export const backupsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

const counts = z.record(z.string(), z.number().int()).describe('Records by kind (root, kek, material, credential)');
const partFacts = z.object({
  destination: z.string().describe('Where the part is: a directory, or s3://bucket/prefix [at endpoint] (never credentials)'),
  bytes: z.number().int().nullable().describe('Size of the encrypted file'),
  sha256: z.string().nullable().describe('SHA-256 of the encrypted file, as its signed manifest records it'),
  records: counts,
});

export const verificationResponse = z
  .object({
    verificationId: z.string(),
    snapshotId: z.string(),
    status: z
      .enum(['pending', 'running', 'verified', 'failed'])
      .describe('pending until the backup service (which holds the backup keys) takes it; verified or failed once done'),
    requestedAt: z.string(),
    requestedBy: z.string().describe('The principal that asked'),
    finishedAt: z.string().nullable(),
    seconds: z.number().nullable(),
    code: z
      .string()
      .nullable()
      .describe('Why it failed: tampered, truncated, missing-part, digest-mismatch, wrong-key, mismatched-pair, … or error'),
    detail: z.string().nullable().describe('What failed and where (never key material)'),
    parts: z
      .object({
        kek: z.object({ bytes: z.number().int(), sha256: z.string(), records: counts }),
        dek: z.object({ bytes: z.number().int(), sha256: z.string(), records: counts }),
      })
      .nullable()
      .describe('What the verification read, once verified'),
  })
  .describe(
    'A verification of one snapshot: both manifests verify under their backup keys and describe one snapshot, both parts exist, ' +
      'every chunk authenticates up to the final one, and sizes, digests and record counts match the manifest',
  );

export const backupRunResponse = z.object({
  runId: z.string().describe('The snapshot id, or failed-<time>-<random> for a backup that wrote no snapshot'),
  snapshotId: z.string().nullable(),
  at: z.string().describe('When the snapshot was taken (or the failed backup began)'),
  trigger: z.string().nullable().describe('schedule, api or cli'),
  outcome: z.enum(['success', 'failed', 'incomplete']),
  seconds: z.number().nullable(),
  tenants: z.number().int().nullable(),
  parts: z.object({ kek: partFacts, dek: partFacts }).nullable(),
  problem: z.string().nullable(),
  lastVerification: verificationResponse.nullable(),
});

export const backupListResponse = z.object({
  lastSuccess: backupRunResponse.nullable().describe('The newest snapshot written completely'),
  items: z.array(backupRunResponse).describe('Newest first: snapshots kept (retention deletes older ones) and failed runs'),
});

export const backupDetailResponse = backupRunResponse.extend({
  verifications: z.array(verificationResponse).describe('Newest first (the last 10)'),
});
