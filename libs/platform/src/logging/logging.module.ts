import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { KeywardConfig } from '@keyward/config';
import { requestContext } from './request-context';

/**
 * Structured JSON logs (pino). A request line carries the request id, route, status, time,
 * tenant and principal; never headers, query strings or bodies (they may hold key material).
 */
@Module({})
export class LoggingModule {
  /**
   * `unloggedPosts`: POST routes (Fastify paths) whose requests get no request line from here,
   * because their server logs its own (failures only: the data plane).
   */
  static forRoot(config: KeywardConfig, service: string, unloggedPosts: readonly string[] = []): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          ...(unloggedPosts.length > 0 ? { exclude: unloggedPosts.map((path) => ({ method: RequestMethod.POST, path })) } : {}),
          pinoHttp: {
            level: config.logLevel,
            base: { service, pid: process.pid },
            messageKey: 'msg',
            autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') },
            customProps: (req) => requestContext(req),
            serializers: {
              req: (req: { id: string; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                path: req.url.split('?')[0],
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              err: (err: Error) => ({ type: err.name, message: err.message }),
            },
            redact: { paths: ['req.headers', 'req.body', 'res.headers'], remove: true },
          },
        }),
      ],
    };
  }
}
