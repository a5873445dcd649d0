import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { ListenSetting } from '@keyward/config';
import { MetricsController } from './metrics.controller';
import { MetricsListener } from './metrics.listener';
import { MetricsRegistry } from './metrics.registry';

@Global()
@Module({})
export class MetricsModule {
  /**
   * The service's metrics registry, scraped at /metrics: on the service's own HTTP port, or, with
   * `listen`, only on a listener of its own (key-api: its main port faces clients).
   */
  static forRoot(service: string, options: { listen?: ListenSetting } = {}): DynamicModule {
    const registry = new MetricsRegistry(service);
    const listen = options.listen;
    return {
      module: MetricsModule,
      controllers: listen ? [] : [MetricsController],
      providers: [
        { provide: MetricsRegistry, useValue: registry },
        ...(listen ? [{ provide: MetricsListener, useFactory: () => new MetricsListener(registry, listen) }] : []),
      ],
      exports: [MetricsRegistry],
    };
  }
}
