import type { AuthenticatedPrincipal } from '@keyward/auth';
import type { DirectCommand, EnrollmentKey, KeyCommand, KeyType, TenantRole } from '@keyward/domain';

/** Who asked and under which request id: becomes the actor and correlation id of the events. */
export interface Origin {
  readonly principal: AuthenticatedPrincipal;
  readonly requestId: string;
}

export class ExecuteLifecycleCommand {
  constructor(
    readonly tenantId: string,
    readonly command: Exclude<
      DirectCommand,
      { kind: 'key.create' | 'key.rotate' | 'principal.create' | 'principal.revoke' | 'tenant.onboard' }
    >,
    readonly origin: Origin,
  ) {}
}

export class OnboardTenantCommand {
  constructor(
    readonly name: string,
    readonly firstAdminName: string,
    readonly origin: Origin,
    /** The first admin's public key: its API key is then wrapped under it at enrollment. */
    readonly adminEnrollmentKey?: EnrollmentKey,
  ) {}
}

export class CreatePrincipalCommand {
  constructor(
    readonly tenantId: string,
    readonly name: string,
    readonly role: TenantRole | 'provider-admin',
    readonly origin: Origin,
    readonly enrollmentKey?: EnrollmentKey,
  ) {}
}

export class RevokePrincipalCommand {
  constructor(
    readonly tenantId: string,
    readonly principalId: string,
    readonly origin: Origin,
  ) {}
}

export type CreateKeyRequest = Omit<Extract<KeyCommand, { kind: 'key.create' }>, 'kind' | 'keyId' | 'kcv'>;

export class CreateKeyCommand {
  constructor(
    readonly tenantId: string,
    readonly request: CreateKeyRequest & { readonly keyType: KeyType },
    readonly origin: Origin,
  ) {}
}

export class RotateKeyCommand {
  constructor(
    readonly tenantId: string,
    readonly keyId: string,
    readonly keyType: KeyType,
    readonly origin: Origin,
  ) {}
}

export class DecideApprovalCommand {
  constructor(
    readonly tenantId: string,
    readonly approvalId: string,
    readonly decision: 'approve' | 'reject',
    readonly reason: string | undefined,
    readonly origin: Origin,
  ) {}
}
