import { z } from 'zod';
import { GRANT_MODES, GRANT_OPERATIONS, ID_PATTERN, ROLES, TENANT_STATUSES } from '@keyward/domain';
import { idParam } from '../platform/common.schema';
import { approvalResponse } from '../approvals/approval.schema';
import { grantResponse } from '../grants/grant.schema';
import { keyResponse } from '../keys/key.schema';
import { principalResponse } from '../principals/principal.schema';

const tenantId = idParam
  .optional()
  .describe('Provider-admins: the tenant to audit (default: the provider log). Other roles: their own tenant only (another answers 404).');
const seq = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
/** An ISO-8601 instant with a zone, normalised to UTC (the form the log stores). */
const instant = z.iso
  .datetime({ offset: true })
  // Kafka finds offsets by a timestamp from 1970 on: an earlier one is the caller's error, not a 503.
  .refine((s) => Date.parse(s) >= 0, 'must not be before 1970-01-01T00:00:00Z')
  .transform((s) => new Date(s).toISOString())
  .describe('ISO-8601 instant, e.g. 2026-03-01T00:00:00Z');
const keyId = z.string().regex(ID_PATTERN, 'not a key id');
const eventType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+){0,3}$/, 'an event type (key.rotated.v1) or a dotted prefix of one (key, key.rotated)');

const eventFilter = {
  tenantId,
  fromSeq: seq.optional().describe('First commit seq (inclusive)'),
  toSeq: seq.optional().describe('Last commit seq (inclusive)'),
  from: instant.optional().describe('Earliest event time (inclusive)'),
  to: instant.optional().describe('Latest event time (inclusive)'),
  keyId: keyId.optional().describe('Events about this key, and the approval events of requests naming it'),
  type: eventType.optional(),
};

export const auditEventsQuery = z.strictObject({
  ...eventFilter,
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}-[0-9]{1,6}$/, 'not a cursor')
    .optional()
    .describe('nextCursor of the previous page'),
});

export const auditExportQuery = z
  .strictObject({
    ...eventFilter,
    format: z
      .enum(['jsonl', 'csv', 'html'])
      .default('jsonl')
      .describe('html: the key inventory and lifecycle report of the period from..to (the other filters do not apply to it)'),
  })
  .refine(
    (q) => q.format !== 'html' || (q.fromSeq === undefined && q.toSeq === undefined && q.keyId === undefined && q.type === undefined),
    'the html report covers a period: give from and to only',
  );

export const auditVerifyQuery = z
  .strictObject({
    tenantId,
    since: seq.optional().describe('Seq of a checkpoint you hold: verify that the chain still has its hash there and only grew since'),
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash in hex')
      .optional()
      .describe('Hash of the commit at `since`, as the checkpoint says'),
  })
  .refine((q) => (q.since === undefined) === (q.hash === undefined), 'since and hash go together');

export const auditStateQuery = z.strictObject({ tenantId, at: instant.describe('The instant whose state to rebuild') });

export const auditUsageQuery = z.strictObject({
  tenantId,
  keyId: keyId.optional(),
  from: instant.optional().describe('Earliest record time; the scan starts at the topic offsets of this time'),
  to: instant.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

export const auditCheckpointsQuery = z.strictObject({
  tenantId,
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'not a cursor')
    .optional()
    .describe('nextCursor of the previous page (checkpoints come newest first)'),
});

const actor = z.object({ principalId: z.string(), role: z.enum(ROLES) });

export const auditEventResponse = z.object({
  tenantId: z.string(),
  seq: z.number().int().describe('Seq of the commit holding the event'),
  index: z.number().int().describe('Position of the event in its commit'),
  type: z.string(),
  actor,
  at: z.string(),
  correlationId: z.string().describe('Request id of the command'),
  commitHash: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export const auditEventsResponse = z.object({
  items: z.array(auditEventResponse),
  nextCursor: z.string().nullable().describe('Pass back as cursor for more; null at the end. A page may hold fewer than limit items.'),
});

const problemKind = z.enum([
  'missing-commit',
  'hash-mismatch',
  'broken-link',
  'kafka-mismatch',
  'kafka-missing',
  'kafka-invalid',
  'checkpoint-mismatch',
  'checkpoint-signature',
]);
const auditProblem = z.object({ seq: z.number().int(), problem: problemKind, detail: z.string() });
export const auditVerifyResponse = z.object({
  ok: z.boolean(),
  tenantId: z.string(),
  fromSeq: z.number().int(),
  headSeq: z.number().int(),
  headHash: z.string(),
  verifiedThroughSeq: z.number().int(),
  kafka: z.object({ topic: z.string(), messages: z.number().int(), publishedThroughSeq: z.number().int() }),
  checkpoints: z.object({ checked: z.number().int() }),
  firstBadSeq: z.number().int().optional(),
  problem: problemKind.optional(),
  detail: z.string().optional(),
  problems: z.array(auditProblem).optional(),
});

export const auditStateResponse = z.object({
  tenantId: z.string(),
  at: z.string(),
  seq: z.number().int().describe('The last commit included (0: none)'),
  hash: z.string(),
  committedAt: z.string().nullable(),
  tenant: z
    .object({
      tenantId: z.string(),
      name: z.string(),
      status: z.enum(TENANT_STATUSES),
      policy: z.record(z.string(), z.unknown()),
      onboardedAt: z.string(),
      updatedAt: z.string(),
    })
    .nullable(),
  keys: z.array(keyResponse),
  principals: z.array(
    principalResponse.extend({
      enrollmentKey: z.record(z.string(), z.unknown()).optional().describe('The public key its API key was to be wrapped under'),
      enrollment: z.record(z.string(), z.unknown()).optional().describe('The enrollment token in force: its SHA-256 and dates only'),
      enrolledAt: z.string().optional(),
    }),
  ),
  approvals: z.array(approvalResponse),
  grantMode: z.enum(GRANT_MODES).describe('required: key-users needed grants; open: every key-user could use every key'),
  grants: z.array(grantResponse).describe('Every grant of the log then, revoked ones with revokedAt'),
});

export const auditAccessQuery = z.strictObject({
  tenantId,
  keyId,
  at: instant.describe('The instant whose access to answer'),
});
export const auditAccessResponse = z.object({
  tenantId: z.string(),
  keyId: z.string(),
  at: z.string(),
  seq: z.number().int().describe('The last commit included (0: none)'),
  hash: z.string(),
  committedAt: z.string().nullable(),
  mode: z.enum(GRANT_MODES),
  access: z.array(
    z.object({
      principalId: z.string(),
      role: z.enum(ROLES),
      grantId: z.string().nullable().describe('null in an open tenant'),
      operations: z.array(z.enum(GRANT_OPERATIONS)),
      conditions: z.record(z.string(), z.unknown()),
      inForce: z.boolean().describe("Whether the grant's validity window includes the instant"),
    }),
  ),
});

export const auditUsageResponse = z.object({
  items: z.array(
    z.object({
      v: z.number().int(),
      tenantId: z.string(),
      principalId: z.string(),
      role: z.string(),
      operation: z.string(),
      keyId: z.string().nullable(),
      version: z.number().int().nullable(),
      grantId: z.string().optional().describe('The grant that allowed the operation (grants-required tenants)'),
      outcome: z.string(),
      requestId: z.string(),
      at: z.string(),
    }),
  ),
  scanned: z.number().int(),
  truncated: z.boolean(),
});

export const checkpointResponse = z.object({
  tenantId: z.string(),
  seq: z.number().int(),
  hash: z.string(),
  at: z.string(),
  alg: z.literal('Ed25519'),
  keyId: z.string(),
  signature: z.string().describe('Ed25519 over the UTF-8 bytes of payload, base64url'),
  payload: z.string().describe('Canonical JSON of {at, hash, seq, tenantId, v: 1}: exactly what was signed'),
});
export const checkpointListResponse = z.object({ items: z.array(checkpointResponse), nextCursor: z.string().nullable() });

export const publicKeyResponse = z.object({
  current: z.string().nullable().describe('keyId this key-api signs with (null: it does not sign)'),
  keys: z.array(
    z.object({
      keyId: z.string(),
      alg: z.literal('Ed25519'),
      pem: z.string().describe('SubjectPublicKeyInfo, PEM'),
      jwk: z.record(z.string(), z.unknown()),
      createdAt: z.string(),
    }),
  ),
});
