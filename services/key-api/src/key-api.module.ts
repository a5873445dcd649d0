import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { PassportModule } from '@nestjs/passport';
import type { KeywardConfig } from '@keyward/config';
import { BackupRecords } from '@keyward/backup-records';
import {
  ConfigModule,
  ConnectionsModule,
  HealthModule,
  KEYWARD_CONFIG,
  LoggingModule,
  MetricsModule,
  MongoConnection,
} from '@keyward/platform';
import { EventLogModule } from './platform/event-log.module';
import { ViewReader } from './platform/view-reader';
import { AbuseLimits } from './auth/abuse-limits';
import { ApiKeyStrategy } from './auth/api-key.strategy';
import { AuthenticationGuard } from './auth/auth.guard';
import { CertificateBindings } from './auth/certificate-bindings';
import { CredentialIntegrity } from './auth/credential-integrity';
import { MutualTlsCheck } from './auth/mutual-tls.check';
import { OidcJwtStrategy } from './auth/oidc-jwt.strategy';
import { RequestAuthenticator } from './auth/request-authenticator';
import { CryptoModule } from './crypto/crypto.module';
import { DataPlaneServer } from './crypto/data-plane.server';
import { LifecycleHandler } from './dual-control/lifecycle.handler';
import { ApplyDueChangeHandler } from './keys/apply-due-change.handler';
import { CreateKeyHandler } from './keys/create-key.handler';
import { KeysController } from './keys/keys.controller';
import { PublicKeyController } from './keys/public-key.controller';
import { LifecycleScheduler } from './keys/lifecycle.scheduler';
import { RotateKeyHandler } from './keys/rotate-key.handler';
import { OnboardTenantHandler } from './tenants/onboard-tenant.handler';
import { TenantsController } from './tenants/tenants.controller';
import { BindCertificateHandler } from './principals/bind-certificate.handler';
import { CreatePrincipalHandler } from './principals/create-principal.handler';
import { CreateProviderAdminHandler } from './principals/create-provider-admin.handler';
import { PrincipalsController } from './principals/principals.controller';
import { GrantsController } from './grants/grants.controller';
import { ProviderAdminBootstrap } from './principals/provider-admin.bootstrap';
import { RevokePrincipalHandler } from './principals/revoke-principal.handler';
import { EnrollmentController } from './enrollment/enrollment.controller';
import { EnrollmentService } from './enrollment/enrollment.service';
import { RedeemEnrollmentHandler } from './enrollment/redeem-enrollment.handler';
import { ReissueEnrollmentHandler } from './enrollment/reissue-enrollment.handler';
import { ApprovalsController } from './approvals/approvals.controller';
import { DecideApprovalHandler } from './approvals/decide-approval.handler';
import { AuditModule } from './audit/audit.module';
import { SysController } from './sys/sys.controller';
import { BackupsController } from './sys/backups.controller';
import { ConsoleSessionStrategy } from './auth/console-session.strategy';
import { SessionController } from './session/session.controller';

export const KEY_API = 'key-api';

@Module({})
export class KeyApiModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: KeyApiModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, KEY_API),
        MetricsModule.forRoot(KEY_API, { listen: config.keyApi.metrics }),
        ConnectionsModule,
        HealthModule,
        CqrsModule.forRoot(),
        PassportModule,
        EventLogModule,
        CryptoModule,
        AuditModule,
      ],
      controllers: [
        TenantsController,
        PrincipalsController,
        GrantsController,
        KeysController,
        PublicKeyController,
        SysController,
        BackupsController,
        ApprovalsController,
        EnrollmentController,
        SessionController,
      ],
      providers: [
        ApiKeyStrategy,
        ConsoleSessionStrategy,
        {
          provide: OidcJwtStrategy,
          inject: [KEYWARD_CONFIG],
          useFactory: (c: KeywardConfig) => (c.auth.oidc ? new OidcJwtStrategy(c.auth.oidc) : null),
        },
        AbuseLimits,
        RequestAuthenticator,
        DataPlaneServer,
        CertificateBindings,
        { provide: APP_GUARD, useClass: AuthenticationGuard },
        DecideApprovalHandler,
        MutualTlsCheck,
        ViewReader,
        LifecycleHandler,
        CreateKeyHandler,
        RotateKeyHandler,
        CreatePrincipalHandler,
        RevokePrincipalHandler,
        OnboardTenantHandler,
        BindCertificateHandler,
        ReissueEnrollmentHandler,
        RedeemEnrollmentHandler,
        CreateProviderAdminHandler,
        ApplyDueChangeHandler,
        ProviderAdminBootstrap,
        LifecycleScheduler,
        EnrollmentService,
        CredentialIntegrity,
        { provide: BackupRecords, inject: [MongoConnection], useFactory: (m: MongoConnection) => new BackupRecords(m.db) },
      ],
    };
  }
}
