import type { LoggerService } from '@nestjs/common';
import { quietNestBoot } from './nest-boot-logger';

function recorder(): { logger: LoggerService; lines: string[] } {
  const lines: string[] = [];
  const at =
    (level: string) =>
    (message: unknown, ...params: unknown[]): void => {
      lines.push(`${level} ${String(params.at(-1))} ${String(message)}`);
    };
  return {
    lines,
    logger: { log: at('info'), error: at('error'), warn: at('warn'), debug: at('debug'), verbose: at('trace'), fatal: at('fatal') },
  };
}

describe('quietNestBoot', () => {
  it("moves Nest's start-up lines (module wiring, the route table) to debug", () => {
    const { logger, lines } = recorder();
    const quiet = quietNestBoot(logger);
    quiet.log('Mapped {/v1/keys, POST} route', 'RouterExplorer');
    quiet.log('KeysController {/v1/keys}:', 'RoutesResolver');
    quiet.log('ConfigModule dependencies initialized', 'InstanceLoader');
    quiet.log('Nest application successfully started', 'NestApplication');
    expect(lines).toEqual([
      'debug RouterExplorer Mapped {/v1/keys, POST} route',
      'debug RoutesResolver KeysController {/v1/keys}:',
      'debug InstanceLoader ConfigModule dependencies initialized',
      'debug NestApplication Nest application successfully started',
    ]);
  });

  it("keeps the service's own lines, and every warning and error, at their level", () => {
    const { logger, lines } = recorder();
    const quiet = quietNestBoot(logger);
    quiet.log('key-api listening on https://127.0.0.1:8443', 'key-api');
    quiet.warn('generated a development TLS certificate', 'key-api');
    quiet.error('boom', 'RouterExplorer');
    expect(lines).toEqual([
      'info key-api key-api listening on https://127.0.0.1:8443',
      'warn key-api generated a development TLS certificate',
      'error RouterExplorer boom',
    ]);
  });
});
