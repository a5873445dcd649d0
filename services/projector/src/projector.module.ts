import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { ProjectionConsumer } from './consumer/projection.consumer';
import { ConfigModule, ConnectionsModule, HealthModule, LoggingModule, MetricsModule } from '@keyward/platform';

export const PROJECTOR = 'projector';

@Module({})
export class ProjectorModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: ProjectorModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, PROJECTOR),
        MetricsModule.forRoot(PROJECTOR),
        ConnectionsModule,
        HealthModule,
      ],
      providers: [ProjectionConsumer],
    };
  }
}
