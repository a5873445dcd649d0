import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { PassportModule } from '@nestjs/passport';
import type { KeywardConfig } from '@keyward/config';
import { ConfigModule, ConnectionsModule, HealthModule, KEYWARD_CONFIG, LoggingModule, MetricsModule } from '@keyward/platform';
import { ApiKeyStrategy } from './auth/api-key.strategy';
import { AuthenticationGuard } from './auth/auth.guard';
import { RequestAuthenticator } from './auth/request-authenticator';
import { CertificateBindings } from './auth/certificate-bindings';
import { OidcJwtStrategy } from './auth/oidc-jwt.strategy';
import { ProviderAdminBootstrap } from './bootstrap/provider-admin.bootstrap';
import { CreateKeyHandler, RotateKeyHandler } from './commands/create-key.handler';
import { EventLogModule } from './commands/event-log.module';
import { LifecycleHandler } from './commands/lifecycle.handler';
import { CreatePrincipalHandler, OnboardTenantHandler, RevokePrincipalHandler } from './commands/principal.handlers';
import { AuditModule } from './audit/audit.module';
import { CryptoModule } from './crypto/crypto.module';
import { DataPlaneServer } from './http/data-plane/data-plane.server';
import { ApprovalsController } from './http/approvals.controller';
import { KeysController } from './http/keys.controller';
import { AbuseLimits } from './http/limits/abuse-limits';
import { MutualTlsCheck } from './http/mutual-tls.check';
import { DecideApprovalHandler } from './commands/approval.handler';
import { SysController } from './http/sys.controller';
import { PrincipalsController } from './http/principals.controller';
import { TenantsController } from './http/tenants.controller';
import { ViewReader } from './queries/view-reader';
import { CredentialIntegrity } from './auth/credential-integrity';
import { EnrollmentController } from './enrollment/enrollment.controller';
import { EnrollmentService } from './enrollment/enrollment.service';
import { LifecycleScheduler } from './scheduler/lifecycle.scheduler';

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
      controllers: [TenantsController, PrincipalsController, KeysController, SysController, ApprovalsController, EnrollmentController],
      providers: [
        ApiKeyStrategy,
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
        ProviderAdminBootstrap,
        LifecycleScheduler,
        EnrollmentService,
        CredentialIntegrity,
      ],
    };
  }
}
