import { NestFactory } from '@nestjs/core';
import type { KeywardConfig } from '@keyward/config';
import { setBusinessClockOffset, startMain } from '@keyward/platform';
import { KMIP, KmipModule } from './kmip.module';

async function start(config: KeywardConfig): Promise<void> {
  setBusinessClockOffset(config.clockOffsetMs);
  const app = await NestFactory.createApplicationContext(KmipModule.forRoot(config), {
    logger:
      config.logLevel === 'silent'
        ? false
        : ['log', 'warn', 'error', ...(config.logLevel === 'debug' || config.logLevel === 'trace' ? (['debug'] as const) : [])],
  });
  app.enableShutdownHooks();
  await app.init();
}

startMain(KMIP, start);
