import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CredentialStore, newId } from '@keyward/auth';
import { PROVIDER_LOG } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { RootKeyService } from '@keyward/keys';
import { EnrollmentService } from '../enrollment/enrollment.service';
import type { Caller } from '../platform/caller';

const SYSTEM: Caller = {
  principal: { principalId: 'system', tenantId: PROVIDER_LOG, role: 'provider-admin', credentialId: 'bootstrap' },
  requestId: 'bootstrap',
};

/** First start only (see ProviderAdminBootstrap): the first provider-admin; answers its API key. */
export class CreateProviderAdminCommand {
  constructor(readonly name = 'provider-admin') {}
}

/**
 * Creates the first provider-admin principal in the provider log and obtains its API key: through
 * the principal's own enrollment when unsealed, unbound (it can only unseal) when sealed.
 */
@CommandHandler(CreateProviderAdminCommand)
export class CreateProviderAdminHandler implements ICommandHandler<CreateProviderAdminCommand, string> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly credentials: CredentialStore,
    private readonly root: RootKeyService,
    private readonly enrollments: EnrollmentService,
  ) {}

  async execute({ name }: CreateProviderAdminCommand): Promise<string> {
    const principalId = newId('prn');
    await this.executor.execute(
      PROVIDER_LOG,
      { kind: 'principal.create', principalId, name, role: 'provider-admin' },
      { now: new Date(), actor: { principalId: 'system', role: 'provider-admin' }, correlationId: 'bootstrap' },
    );
    return this.firstKey(principalId);
  }

  /** The first provider-admin's API key: through its own enrollment when unsealed, unbound (unseal only) when sealed. */
  private async firstKey(principalId: string): Promise<string> {
    const sealed = await this.root.requireCredentialMacKey().then(
      () => false,
      () => true,
    );
    if (sealed) return this.credentials.issue(PROVIDER_LOG, principalId, 'provider-admin', null);
    const issued = await this.enrollments.issue(PROVIDER_LOG, principalId, SYSTEM);
    const redeemed = await this.enrollments.redeem(issued.enrollment.token, { address: 'bootstrap', requestId: 'bootstrap' });
    if (!('apiKey' in redeemed)) throw new Error('the bootstrap provider-admin has no enrollment key: its API key cannot be wrapped');
    return redeemed.apiKey;
  }
}
