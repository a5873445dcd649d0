import { Global, Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics.registry';

@Global()
@Module({})
export class MetricsModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: MetricsRegistry, useValue: new MetricsRegistry(service) }],
      exports: [MetricsRegistry],
    };
  }
}
