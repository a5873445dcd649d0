import { logOutput } from './log-format';

const pretty = '/somewhere/node_modules/pino-pretty/index.js';

describe('logOutput', () => {
  it('auto: readable lines on a terminal in development and test', () => {
    for (const env of ['development', 'test'] as const) {
      const out = logOutput({ env, logFormat: 'auto' }, { tty: true, pretty });
      expect(out).toMatchObject({ format: 'pretty', transport: { target: pretty, options: { colorize: true, singleLine: true } } });
    }
  });

  it('auto: JSON when the output is not a terminal, and always in production', () => {
    expect(logOutput({ env: 'development', logFormat: 'auto' }, { tty: false, pretty })).toEqual({ format: 'json' });
    expect(logOutput({ env: 'production', logFormat: 'auto' }, { tty: true, pretty })).toEqual({ format: 'json' });
  });

  it('json and pretty are taken as asked; pretty into a pipe is not coloured', () => {
    expect(logOutput({ env: 'development', logFormat: 'json' }, { tty: true, pretty })).toEqual({ format: 'json' });
    expect(logOutput({ env: 'production', logFormat: 'pretty' }, { tty: false, pretty })).toMatchObject({
      format: 'pretty',
      transport: { options: { colorize: false } },
    });
  });

  it('falls back to JSON when pino-pretty is not installed', () => {
    expect(logOutput({ env: 'development', logFormat: 'auto' }, { tty: true, pretty: null })).toEqual({ format: 'json' });
    expect(logOutput({ env: 'development', logFormat: 'pretty' }, { tty: true, pretty: null })).toEqual({ format: 'json' });
  });
});
