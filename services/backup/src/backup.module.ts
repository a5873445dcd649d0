import { Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { KeywardConfig } from '@keyward/config';
import { ConfigModule, ConnectionsModule, HealthModule, LoggingModule, MetricsModule } from '@keyward/platform';
import { BackupService } from './backup.service';
import { BackupsController } from './http/backups.controller';
import { ProviderAdminGuard } from './http/provider-admin.guard';
import { VerificationWorker } from './verification.worker';

export const BACKUP = 'backup';

@Module({})
export class BackupModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: BackupModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, BACKUP),
        MetricsModule.forRoot(BACKUP),
        ConnectionsModule,
        HealthModule,
      ],
      controllers: [BackupsController],
      providers: [BackupService, VerificationWorker, { provide: APP_GUARD, useClass: ProviderAdminGuard }],
    };
  }
}
