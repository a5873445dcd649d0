import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { ConfigModule, ConnectionsModule, HealthModule, LoggingModule, MetricsModule } from '@keyward/platform';

export const KEY_API = 'key-api';

@Module({})
export class KeyApiModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: KeyApiModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, KEY_API),
        MetricsModule.forRoot(KEY_API),
        ConnectionsModule,
        HealthModule,
      ],
    };
  }
}
