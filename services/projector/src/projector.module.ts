import { Module, type DynamicModule } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { ProjectionConsumer } from './consumer/projection.consumer';
import { ConfigModule, ConnectionsModule, EXTRA_READINESS_CHECKS, HealthModule, LoggingModule, MetricsModule } from '@keyward/platform';

export const PROJECTOR = 'projector';

@Module({})
export class ProjectorModule {
  static forRoot(config: KeywardConfig): DynamicModule {
    return {
      module: ProjectorModule,
      // Global so that the platform's HealthController sees the readiness check below.
      global: true,
      exports: [EXTRA_READINESS_CHECKS],
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, PROJECTOR),
        MetricsModule.forRoot(PROJECTOR),
        ConnectionsModule,
        HealthModule,
      ],
      providers: [
        ProjectionConsumer,
        {
          provide: EXTRA_READINESS_CHECKS,
          inject: [ProjectionConsumer],
          useFactory: (consumer: ProjectionConsumer) => [() => Promise.resolve(consumer.health())],
        },
      ],
    };
  }
}
