import type { KeywardConfig } from '@keyward/config';
import { ensureServerTls } from '@keyward/crypto';
import { runService, startMain } from '@keyward/platform';
import { KeyApiProblemFilter } from './errors/problem.filter';
import { MAX_BODY_BYTES } from './crypto/crypto.schema';
import { DataPlaneServer } from './crypto/data-plane.server';
import { setupOpenApi } from './openapi';
import { ConsoleAssets } from './console/console-assets';
import { KEY_API, KeyApiModule } from './key-api.module';

async function start(config: KeywardConfig): Promise<void> {
  const tls = config.keyApi.tls;
  let https: { key: Buffer; cert: Buffer } | undefined;
  const startupWarnings: string[] = [];
  if (tls.enabled && 'generated' in tls) {
    const material = await ensureServerTls(tls.generated, config.keyApi.host);
    https = { key: material.key, cert: material.cert };
    if (material.created) startupWarnings.push(`generated a development TLS certificate; trust ${material.files.caCert}`);
  } else if (tls.enabled) {
    const { readFileSync } = await import('node:fs');
    https = { key: readFileSync(tls.keyFile), cert: readFileSync(tls.certFile) };
  }
  const mtls = config.auth.mtls;
  let clientAuth: { ca: Buffer; clientCertificates: 'optional' | 'required' } | undefined;
  if (https && mtls.mode !== 'off') {
    const { readFileSync } = await import('node:fs');
    clientAuth = { ca: readFileSync(mtls.clientCaFile), clientCertificates: mtls.mode };
  } else if (mtls.mode === 'off' && mtls.reason !== undefined) {
    startupWarnings.push(`mutual TLS is off (${mtls.reason}); principals bound to a client certificate are refused`);
  }
  await runService({
    name: KEY_API,
    module: KeyApiModule.forRoot(config),
    config,
    listen: config.keyApi,
    startupWarnings,
    bodyLimit: MAX_BODY_BYTES,
    exceptionFilter: new KeyApiProblemFilter(),
    configure: (app) => {
      app.get(DataPlaneServer).register(app.getHttpAdapter().getInstance());
      ConsoleAssets.load().register(app.getHttpAdapter().getInstance());
      setupOpenApi(app);
    },
    ...(https ? { https: { ...https, ...clientAuth } } : {}),
  });
}

startMain(KEY_API, start);
