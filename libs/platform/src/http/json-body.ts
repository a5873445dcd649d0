import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ProblemError } from '../problem/problem';

const JSON_TYPE = 'application/json';

/** Where JSON.parse stopped, without the text around it (a body may hold key material). */
function where(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const position = /position (\d+)/.exec(message);
  const line = /line (\d+) column (\d+)/.exec(message);
  if (line) return ` (line ${line[1]}, column ${line[2]})`;
  return position ? ` (at byte ${position[1]})` : '';
}

/** A request body that is not JSON, or hides a `__proto__` / `constructor.prototype`: a precise 400. */
export function malformedJson(err: unknown): ProblemError {
  const poisoned = err instanceof SyntaxError && /forbidden prototype property/i.test(err.message);
  return new ProblemError(
    400,
    'malformed-json',
    'Malformed JSON body',
    poisoned ? 'request body has a forbidden __proto__ or constructor.prototype property' : `request body is not valid JSON${where(err)}`,
  );
}

/**
 * Replaces Fastify's JSON body parser by one that takes an empty body as no body, with or without
 * `content-type: application/json` (`curl -X POST -H 'content-type: application/json'` on an action
 * such as activate): the route's schema then decides, so an optional body is accepted and a
 * required one is refused with the fields it misses. Anything else that is not JSON is a 400
 * `malformed-json` naming where parsing stopped; prototype poisoning is refused as before. Only
 * JSON bodies are parsed: a form (`application/x-www-form-urlencoded`) is a 415.
 */
export function acceptEmptyJsonBodies(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parse = fastify.getDefaultJsonParser('error', 'error');
  // Through Nest, which otherwise registers its own JSON (and form) parser when it starts.
  app.useBodyParser(JSON_TYPE, { bodyLimit: fastify.initialConfig.bodyLimit }, (request: FastifyRequest, body: Buffer, done) => {
    const text = body.toString('utf8');
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    void parse(request, text, (err: Error | null, value?: unknown) => {
      if (err === null) done(null, value);
      else done(malformedJson(parseError(text)), undefined);
    });
  });
}

/** Why Fastify's parser refused a body: JSON.parse's error (its message says where), or else poisoning. */
function parseError(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (err: unknown) {
    return err;
  }
  return new SyntaxError('Object contains forbidden prototype property');
}
