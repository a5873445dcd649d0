import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiKeyAuthenticator, CredentialStore, newId } from '@keyward/auth';
import { quorumFor, sensitiveOperation, type DirectCommand, type Role } from '@keyward/domain';
import { Keystore } from '@keyward/crypto';
import { CommandExecutor } from '@keyward/event-log';
import { ProblemError } from '@keyward/platform';
import { KeyMaterialService } from '../crypto/key-material.service';
import { gated, pendingOf, type PendingApproval } from './approvals';
import { CreatePrincipalCommand, OnboardTenantCommand, RevokePrincipalCommand } from './commands';
import { contextOf } from './decision-context';
import { asProblem } from './domain-problem';

export interface IssuedPrincipal {
  readonly seq: number;
  readonly principalId: string;
  readonly name: string;
  readonly role: Role;
  /** Returned once, never stored in the clear. */
  readonly apiKey: string;
}

@CommandHandler(CreatePrincipalCommand)
export class CreatePrincipalHandler implements ICommandHandler<CreatePrincipalCommand, IssuedPrincipal | PendingAnswer> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
  ) {}

  async execute({ tenantId, name, role, origin }: CreatePrincipalCommand): Promise<IssuedPrincipal | PendingAnswer> {
    const principalId = newId('prn');
    const command = await gated({ kind: 'principal.create', principalId, name, role }, this.executor);
    const executed = await asProblem(() => this.executor.execute(tenantId, command, contextOf(origin)));
    const pendingApproval = pendingOf(executed);
    // A new tenant-admin under dual control: the approver who completes the quorum receives the key.
    if (pendingApproval) return { seq: executed.seq, pendingApproval };
    // The credential exists only once the principal is in the log; a crash in between leaves a
    // principal without a key (harmless), never a key without a principal.
    const apiKey = await this.credentials.issue(tenantId, principalId, role);
    return { seq: executed.seq, principalId, name, role, apiKey };
  }
}

export interface PendingAnswer extends PendingApproval {
  readonly seq: number;
}

@CommandHandler(RevokePrincipalCommand)
export class RevokePrincipalHandler implements ICommandHandler<RevokePrincipalCommand, { seq: number }> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly authenticator: ApiKeyAuthenticator,
  ) {}

  async execute({ tenantId, principalId, origin }: RevokePrincipalCommand): Promise<{ seq: number } | PendingAnswer> {
    const log = await this.executor.current(tenantId);
    const principal = log.principals.get(principalId);
    const revoke: DirectCommand = { kind: 'principal.revoke', principalId };
    const dualControlled = sensitiveOperation(revoke, log) !== undefined && quorumFor('principal.manage-admin', log) > 1;
    if (principal && principal.revokedAt === null && !dualControlled) {
      // Disable first: a crash before the event leaves the key unusable, never usable-but-revoked.
      await this.credentials.disablePrincipal(tenantId, principalId);
      this.authenticator.forgetPrincipal(principalId);
    }
    const command = await gated(revoke, this.executor);
    const executed = await asProblem(() => this.executor.execute(tenantId, command, contextOf(origin)));
    const pendingApproval = pendingOf(executed);
    return pendingApproval ? { seq: executed.seq, pendingApproval } : { seq: executed.seq };
  }
}

export interface OnboardedTenant {
  readonly seq: number;
  readonly tenantId: string;
  readonly name: string;
  readonly admin: { readonly principalId: string; readonly name: string; readonly apiKey: string };
}

@CommandHandler(OnboardTenantCommand)
export class OnboardTenantHandler implements ICommandHandler<OnboardTenantCommand, OnboardedTenant> {
  private readonly logger = new Logger('onboarding');

  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly materials: KeyMaterialService,
    private readonly keystore: Keystore,
  ) {}

  async execute({ name, firstAdminName, origin }: OnboardTenantCommand): Promise<OnboardedTenant> {
    const tenantId = newId('tnt');
    const principalId = newId('prn');
    // The tenant's own key-encrypting key exists before the tenant does (503 while sealed).
    await this.materials.ensureTenantKek(tenantId);
    const executed = await asProblem(() =>
      this.executor.execute(
        tenantId,
        { kind: 'tenant.onboard', tenantId, name, firstAdmin: { principalId, name: firstAdminName } },
        contextOf(origin),
      ),
    ).catch(async (err: unknown) => {
      // Refused (bad name): the new KEK belongs to no tenant; leave no orphan behind.
      if (err instanceof ProblemError && err.status < 500) await this.keystore.shredTenant(tenantId).catch(() => undefined);
      throw err;
    });
    const apiKey = await this.credentials.issue(tenantId, principalId, 'tenant-admin');
    this.logger.log(`onboarded tenant ${tenantId}`);
    return { seq: executed.seq, tenantId, name: executed.log.tenant?.name ?? name, admin: { principalId, name: firstAdminName, apiKey } };
  }
}
