import type { KeywardConfig } from '@keyward/config';
import { runService, startMain } from '@keyward/platform';
import { KMIP, KmipModule } from './kmip.module';

/** KMIP over mutual TLS on KMIP_HOST:KMIP_PORT; health and metrics over HTTP on KMIP_HTTP_HOST:KMIP_HTTP_PORT. */
async function start(config: KeywardConfig): Promise<void> {
  await runService({ name: KMIP, module: KmipModule.forRoot(config), config, listen: config.kmip.http });
}

startMain(KMIP, start);
