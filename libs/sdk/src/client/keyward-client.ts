import type { paths } from '../generated/openapi';
import { KeywardProblemError, type ProblemDocument } from './problem';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, RETRIED_STATUSES, retryDelay, type RetryPolicy } from './retry';
import { nodeTransport, type RawAnswer, type TlsOptions, type Transport } from './transport';

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';
/** The operation of a path and method in the generated OpenAPI types. */
export type Operation<P extends keyof paths, M extends HttpMethod> = M extends keyof paths[P] ? paths[P][M] : never;
/** The paths that have an operation for method M. */
export type PathsOf<M extends HttpMethod> = { [P in keyof paths]: M extends keyof paths[P] ? P : never }[keyof paths];

type Part<O, K extends string> = O extends { parameters: Record<K, infer T> } ? T : never;
type BodyOf<O> = O extends { requestBody: infer B } ? B : never;
/** What a request of an operation takes: path parameters, query, JSON body (each only where the operation has it). */
export type RequestOptions<O> = ([Part<O, 'path'>] extends [never] ? { readonly path?: undefined } : { readonly path: Part<O, 'path'> }) &
  ([Part<O, 'query'>] extends [never] ? { readonly query?: undefined } : { readonly query?: Part<O, 'query'> }) &
  ([BodyOf<O>] extends [never]
    ? { readonly body?: undefined }
    : undefined extends BodyOf<O>
      ? { readonly body?: BodyOf<O> }
      : { readonly body: BodyOf<O> });
/** The JSON of an operation's 2xx answers. */
export type SuccessOf<O> = O extends { responses: infer R } ? R[Extract<keyof R, '200' | '201' | '202'>] : never;
type Args<O> = object extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];

export interface KeywardClientOptions {
  /** key-api's base URL, e.g. https://127.0.0.1:8443. */
  readonly baseUrl: string | URL;
  /** An API key (`kw_…`) or a JWT: sent as `Authorization: Bearer`. */
  readonly apiKey?: string;
  /** CA to trust, and a client certificate for mutual TLS. */
  readonly tls?: TlsOptions;
  /** Retries of 429 and 503 answers (Retry-After honoured, bounded). */
  readonly retry?: Partial<RetryPolicy>;
  /** Per request. Default 30 s. */
  readonly timeoutMs?: number;
  /** Replaces the node:https transport (tests). */
  readonly transport?: Transport;
  /** Replaces the timer between retries (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** A key id or `alias/<name>`. */
export type KeyRef = string;

export interface Encrypted {
  readonly ciphertext: Buffer;
  readonly keyId: string;
  readonly version: number;
}
export interface Decrypted {
  readonly plaintext: Buffer;
  readonly keyId: string;
  readonly version: number;
}
export interface DataKey {
  /** The data key itself (absent with `withoutPlaintext`): use it, zero it, never store it. */
  readonly plaintext?: Buffer;
  /** The data key encrypted under the key (a Keyward ciphertext): store it with the data. */
  readonly ciphertext: Buffer;
  readonly keyId: string;
  readonly version: number;
}

const b64 = (bytes: Buffer): string => bytes.toString('base64');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');
const aadField = (aad: Buffer | undefined): { aad?: string } => (aad === undefined ? {} : { aad: b64(aad) });
const sleeper = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A typed client of key-api. `request` reaches every route of the served OpenAPI document with
 * its generated types; the data-plane methods take and give Buffers (base64 is handled here).
 * 429 and 503 answers are retried (Retry-After honoured, bounded by the retry policy); any other
 * refusal throws a KeywardProblemError carrying the RFC 9457 problem document.
 */
export class KeywardClient {
  private readonly base: URL;
  private readonly transport: Transport & { close?: () => void };
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: KeywardClientOptions) {
    this.base = new URL(options.baseUrl);
    this.transport = options.transport ?? nodeTransport(options.tls, options.timeoutMs);
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (!Number.isInteger(this.retry.maxAttempts) || this.retry.maxAttempts < 1)
      throw new RangeError('retry.maxAttempts must be at least 1');
    this.sleep = options.sleep ?? sleeper;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.transport.close?.();
  }

  /** Any route, typed from the OpenAPI document: `client.request('get', '/v1/keys/{id}', { path: { id } })`. */
  async request<M extends HttpMethod, P extends PathsOf<M>>(
    method: M,
    path: P,
    ...[options]: Args<Operation<P, M>>
  ): Promise<SuccessOf<Operation<P, M>>> {
    const opts = (options ?? {}) as {
      path?: Record<string, string>;
      query?: Record<string, string | number | boolean | null | undefined>;
      body?: unknown;
    };
    const url = new URL(
      (path as string).replace(/\{([^}]+)\}/g, (_, name: string) => {
        const value = opts.path?.[name];
        if (value === undefined) throw new TypeError(`path parameter ${name} is missing`);
        return encodeURIComponent(value);
      }),
      this.base,
    );
    for (const [name, value] of Object.entries(opts.query ?? {}))
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body), 'utf8');
    const answer = await this.send(method.toUpperCase(), url, body);
    const text = answer.body.toString('utf8');
    return (text === '' ? undefined : JSON.parse(text)) as SuccessOf<Operation<P, M>>;
  }

  private async send(method: string, url: URL, body: Buffer | undefined): Promise<RawAnswer> {
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(this.options.apiKey === undefined ? {} : { authorization: `Bearer ${this.options.apiKey}` }),
    };
    for (let attempt = 1; ; attempt += 1) {
      const answer = await this.transport({ method, url, headers, ...(body === undefined ? {} : { body }) });
      if (answer.status >= 200 && answer.status < 300) return answer;
      const retryAfterMs = parseRetryAfter(answer.headers['retry-after']);
      const wait = RETRIED_STATUSES.has(answer.status) ? retryDelay(this.retry, attempt, retryAfterMs) : undefined;
      if (wait === undefined) throw new KeywardProblemError(answer.status, problemOf(answer), retryAfterMs);
      await this.sleep(wait);
    }
  }

  /** Encrypts up to 64 KiB with the key's latest version (a self-describing ciphertext). */
  async encrypt(key: KeyRef, plaintext: Buffer, aad?: Buffer): Promise<Encrypted> {
    const r = await this.request('post', '/v1/keys/{id}/encrypt', {
      path: { id: key },
      body: { plaintext: b64(plaintext), ...aadField(aad) },
    });
    return { ciphertext: unb64(r.ciphertext), keyId: r.keyId, version: r.version };
  }

  /** Decrypts a Keyward ciphertext (the key and version come from it). */
  async decrypt(ciphertext: Buffer, aad?: Buffer): Promise<Decrypted> {
    const r = await this.request('post', '/v1/decrypt', { body: { ciphertext: b64(ciphertext), ...aadField(aad) } });
    return { plaintext: unb64(r.plaintext), keyId: r.keyId, version: r.version };
  }

  /** A new data key (16, 24 or 32 bytes), with its plaintext unless `withoutPlaintext`. */
  async generateDataKey(key: KeyRef, options: { bytes?: 16 | 24 | 32; aad?: Buffer; withoutPlaintext?: boolean } = {}): Promise<DataKey> {
    const body = { bytes: options.bytes ?? 32, ...aadField(options.aad) };
    const r =
      options.withoutPlaintext === true
        ? await this.request('post', '/v1/keys/{id}/data-key/without-plaintext', { path: { id: key }, body })
        : await this.request('post', '/v1/keys/{id}/data-key', { path: { id: key }, body });
    return {
      ...(r.plaintext === undefined ? {} : { plaintext: unb64(r.plaintext) }),
      ciphertext: unb64(r.ciphertext),
      keyId: r.keyId,
      version: r.version,
    };
  }

  /** Re-encrypts a ciphertext under its key's latest version; the plaintext never leaves key-api. */
  async rewrap(ciphertext: Buffer, aad?: Buffer): Promise<Encrypted & { readonly previousVersion: number }> {
    const r = await this.request('post', '/v1/rewrap', { body: { ciphertext: b64(ciphertext), ...aadField(aad) } });
    return { ciphertext: unb64(r.ciphertext), keyId: r.keyId, version: r.version, previousVersion: r.previousVersion };
  }

  /** HMAC-SHA256 of up to 64 KiB (a self-describing MAC). */
  async mac(key: KeyRef, data: Buffer): Promise<{ readonly mac: Buffer; readonly keyId: string; readonly version: number }> {
    const r = await this.request('post', '/v1/keys/{id}/mac', { path: { id: key }, body: { data: b64(data) } });
    return { mac: unb64(r.mac), keyId: r.keyId, version: r.version };
  }

  /** Whether `mac` is a valid MAC of `data` under the key (checked in constant time by key-api). */
  async verifyMac(key: KeyRef, data: Buffer, mac: Buffer): Promise<boolean> {
    const r = await this.request('post', '/v1/keys/{id}/verify-mac', { path: { id: key }, body: { data: b64(data), mac: b64(mac) } });
    return r.valid;
  }
}

function problemOf(answer: RawAnswer): Partial<ProblemDocument> | undefined {
  try {
    const parsed: unknown = JSON.parse(answer.body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
  } catch {
    const text = answer.body.toString('utf8').slice(0, 200);
    return text === '' ? undefined : { detail: text };
  }
}
