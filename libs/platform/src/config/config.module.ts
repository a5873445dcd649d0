import { Global, Module } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import { KEYWARD_CONFIG } from './config.token';

/** Makes the validated configuration injectable (`@Inject(KEYWARD_CONFIG)`). */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: KeywardConfig) {
    return {
      module: ConfigModule,
      providers: [{ provide: KEYWARD_CONFIG, useValue: config }],
      exports: [KEYWARD_CONFIG],
    };
  }
}
