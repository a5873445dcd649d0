/** The shapes of the public API answers the console reads (a subset of the OpenAPI document at /docs/json). */
export const KEY_STATES = ['PreActive', 'Active', 'Deactivated', 'Compromised', 'Destroyed', 'DestroyedCompromised'] as const;
/** The key types the REST API creates (GET /v1/keys also lists KMIP-created types; filter by those through the API). */
export const KEY_TYPES = [
  'AES-256-GCM',
  'AES-192-GCM',
  'AES-128-GCM',
  'HMAC-SHA256',
  'SECRET',
  'RSA-2048',
  'RSA-3072',
  'RSA-4096',
  'EC-P256',
  'EC-P384',
  'ED25519',
] as const;

export interface Actor {
  readonly principalId: string;
  readonly role: string;
}

export interface KeySummary {
  readonly keyId: string;
  readonly keyType: string;
  readonly state: string;
  readonly alias: string | null;
  readonly latestVersion: number;
  readonly createdAt: string;
  readonly destroyAfter: string | null;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface Key extends KeySummary {
  readonly description: string;
  readonly exportable: boolean;
  readonly exportEnabled: boolean;
  readonly versions: readonly { version: number; kcv: string; createdAt: string; destroyed: boolean }[];
  readonly minDecryptionVersion: number;
  readonly activationDate: string | null;
  readonly deactivationDate: string | null;
  readonly destroyedAt: string | null;
  readonly updatedAt: string;
  readonly history: readonly { at: string; from: string | null; to: string; event: string; actor?: Actor; reason?: string }[];
}

export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface Approval {
  readonly approvalId: string;
  readonly operation: string;
  readonly status: string;
  readonly quorum: number;
  readonly approvals: number;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly expiresAt: string;
  readonly approvedBy: readonly Actor[];
  readonly outcome: string | null;
  readonly command: Record<string, unknown>;
}

export interface PendingAnswer {
  readonly seq: number;
  readonly pendingApproval: Approval;
}

export interface AuditEvent {
  readonly seq: number;
  readonly index: number;
  readonly type: string;
  readonly actor: Actor;
  readonly at: string;
  readonly data: Record<string, unknown>;
}

export interface Verification {
  readonly ok: boolean;
  readonly headSeq: number;
  readonly headHash: string;
  readonly verifiedThroughSeq: number;
  readonly firstBadSeq?: number;
  readonly problem?: string;
  readonly detail?: string;
}

export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
  readonly keyId: string;
}

export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly status: string;
  readonly keyCount: number;
  readonly principalCount: number;
  readonly updatedAt: string;
}

export const TENANT_ROLES = ['tenant-admin', 'key-user', 'auditor', 'kmip-client'] as const;

export interface Principal {
  readonly principalId: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface IssuedPrincipal {
  readonly seq: number;
  readonly principalId: string;
  readonly name: string;
  readonly role: string;
  readonly enrollment: { readonly token: string; readonly expiresAt: string };
}

/** The operations a grant may allow (GRANT_OPERATIONS of the domain). */
export const GRANT_OPERATIONS = [
  'encrypt',
  'decrypt',
  'data-key',
  'rewrap',
  'mac',
  'verify-mac',
  'sign',
  'verify',
  'export',
  'read',
] as const;

export interface Grant {
  readonly grantId: string;
  readonly principalId: string;
  readonly operations: readonly string[];
  readonly keys: Readonly<Record<string, unknown>>;
  readonly conditions: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly revokedAt: string | null;
  readonly revokedBy: Actor | null;
}

export interface GrantList {
  readonly mode: 'required' | 'open';
  readonly items: readonly Grant[];
}

/** Operations a tenant may put under dual control (tenant.offboard is the provider's). */
export const DUAL_CONTROL_OPERATIONS = [
  'key.schedule-destruction',
  'key.lower-min-decryption-version',
  'tenant.set-policy',
  'principal.manage-admin',
  'key.enable-export',
  'key.assign-owner',
  'grant.create',
] as const;

export interface TenantPolicy {
  readonly allowCompromisedDecrypt: boolean;
  readonly allowLegacyEncryption?: boolean;
  readonly dualControl: { readonly quorum: number | null; readonly operations: readonly string[] };
  readonly kmipDestroy?: 'pending' | 'immediate-for-owner';
  readonly grants?: 'required' | 'open';
}

export interface OwnTenant extends Tenant {
  readonly dualControl: { readonly quorum: number; readonly activeAdmins: number; readonly warning?: string };
}

export interface UsageRecord {
  readonly principalId: string;
  readonly role: string;
  readonly operation: string;
  readonly keyId: string | null;
  readonly outcome: string;
  readonly at: string;
}

export interface UsageAnswer {
  readonly items: readonly UsageRecord[];
  readonly scanned: number;
  readonly truncated: boolean;
}
