import { randomBytes } from 'node:crypto';
import type { RawAnswer, RawRequest, Transport } from '../client/transport';

const json = (status: number, body: unknown, headers: Record<string, string> = {}): RawAnswer => ({
  status,
  headers: { 'content-type': status < 300 ? 'application/json' : 'application/problem+json', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});

/**
 * A stand-in for key-api's data-key, decrypt and rewrap routes (unit specs only): a "wrapped"
 * data key is a random handle it remembers, bound to the AAD it was made with.
 */
export class FakeKeyApi {
  readonly calls: string[] = [];
  private readonly keys = new Map<string, { plaintext: Buffer; aad: string }>();
  /** Answers to give before the real ones (status and headers), one per request. */
  readonly queued: { status: number; headers?: Record<string, string> }[] = [];

  readonly transport: Transport = (request: RawRequest) => Promise.resolve(this.answer(request));

  private answer({ method, url, body }: RawRequest): RawAnswer {
    this.calls.push(`${method} ${url.pathname}`);
    const next = this.queued.shift();
    if (next !== undefined)
      return json(next.status, { type: 'urn:keyward:problem:sealed', title: 'Busy', status: next.status }, next.headers);
    const input = JSON.parse(body?.toString('utf8') ?? '{}') as { bytes?: number; aad?: string; ciphertext?: string };
    if (url.pathname.endsWith('/data-key')) {
      const plaintext = randomBytes(input.bytes ?? 32);
      const handle = Buffer.concat([Buffer.from('kw'), randomBytes(16)]).toString('base64');
      this.keys.set(handle, { plaintext, aad: input.aad ?? '' });
      return json(200, { plaintext: plaintext.toString('base64'), ciphertext: handle, keyId: 'key_fake', version: 1 });
    }
    if (url.pathname === '/v1/decrypt' || url.pathname === '/v1/rewrap') {
      const known = this.keys.get(input.ciphertext ?? '');
      if (known === undefined || known.aad !== (input.aad ?? ''))
        return json(422, { type: 'urn:keyward:problem:authentication-failed', title: 'Authentication failed', status: 422 });
      if (url.pathname === '/v1/decrypt')
        return json(200, { plaintext: known.plaintext.toString('base64'), keyId: 'key_fake', version: 1 });
      const handle = Buffer.concat([Buffer.from('kw'), randomBytes(16)]).toString('base64');
      this.keys.set(handle, known);
      return json(200, { ciphertext: handle, keyId: 'key_fake', version: 2, previousVersion: 1 });
    }
    return json(404, { type: 'urn:keyward:problem:not-found', title: 'Not found', status: 404 });
  }
}
