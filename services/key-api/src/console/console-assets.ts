import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The console's headers: scripts and styles only from this origin (no inline script or style, no
 * eval), calls only to this origin, no framing, no referrer.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Where `npm run build` puts the console (dist/console), from dist/services/key-api/src/console/. */
export const CONSOLE_DIR = join(__dirname, '..', '..', '..', '..', 'console');

/**
 * The web console's static files, served by key-api itself at /console/ (same origin and TLS as the
 * API, no second server): read once at start into memory, answered with a strict CSP. The console
 * calls the public API like any client (docs/console.md).
 */
export class ConsoleAssets {
  private constructor(private readonly files: ReadonlyMap<string, { body: Buffer; type: string }>) {}

  /** The files of `dir` (none when the console was not built: /console answers 404). */
  static load(dir = CONSOLE_DIR): ConsoleAssets {
    const files = new Map<string, { body: Buffer; type: string }>();
    const walk = (at: string): void => {
      for (const name of readdirSync(at)) {
        const path = join(at, name);
        if (statSync(path).isDirectory()) walk(path);
        else {
          const type = TYPES[extname(name)];
          if (type !== undefined) files.set(relative(dir, path).split('\\').join('/'), { body: readFileSync(path), type });
        }
      }
    };
    if (existsSync(dir)) walk(dir);
    return new ConsoleAssets(files);
  }

  get size(): number {
    return this.files.size;
  }

  register(fastify: FastifyInstance): void {
    fastify.get('/console', (_request, reply) => reply.redirect('/console/', 302));
    fastify.get('/console/*', (request, reply) => {
      const path = (request.params as { '*'?: string })['*'] ?? '';
      const file = this.files.get(path === '' ? 'index.html' : path);
      if (!file) return notFound(reply);
      return reply.headers(HEADERS).type(file.type).send(file.body);
    });
  }
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply
    .headers(HEADERS)
    .code(404)
    .type('application/problem+json')
    .send({ type: 'urn:keyward:problem:not-found', title: 'Not found', status: 404, detail: 'no such console file' });
}
