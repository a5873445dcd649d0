import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { ConfigModule, ConnectionsModule, HealthModule, LoggingModule, MetricsModule } from '@keyward/platform';

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
    };
  }
}
