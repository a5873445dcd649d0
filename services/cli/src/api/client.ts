import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Refused } from '@keyward/cli-kit';
import type { Target } from './connection';

/** A whole answer: `json` is undefined when the body is not JSON. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly json: unknown;
  readonly text: string;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

type OnResponse<T> = (res: IncomingMessage, resolve: (value: T) => void, reject: (err: Error) => void) => void;

const TIMEOUT_MS = 300_000;

function send<T>(target: Target, method: string, path: string, options: RequestOptions, onResponse: OnResponse<T>): Promise<T> {
  const url = new URL(path, target.base);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers = {
    accept: 'application/json',
    ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    ...(target.apiKey === undefined ? {} : { authorization: `Bearer ${target.apiKey}` }),
    ...options.headers,
  };
  const tls = {
    ...(target.ca === undefined ? {} : { ca: target.ca }),
    ...(target.cert === undefined ? {} : { cert: target.cert, key: target.certKey }),
  };
  const transport = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<T>((resolve, reject) => {
    const req = transport(url, { method, headers, timeout: TIMEOUT_MS, ...tls }, (res) => {
      onResponse(res, resolve, reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => {
      reject(new Error(`cannot reach ${url.origin}: ${err.message}`));
    });
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const readWhole: OnResponse<Answer> = (res, resolve, reject) => {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('error', reject);
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      json = undefined;
    }
    resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
  });
};

/** One request; the whole answer in memory. */
export function call(target: Target, method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  return send(target, method, path, options, readWhole);
}

/** A 2xx answer whose body is handed over as a stream (exports), or any other answer read whole. */
export type Streamed =
  { readonly ok: true; readonly headers: IncomingHttpHeaders; readonly body: IncomingMessage } | (Answer & { readonly ok: false });

export function stream(target: Target, method: string, path: string): Promise<Streamed> {
  return send<Streamed>(target, method, path, { headers: { accept: '*/*' } }, (res, resolve, reject) => {
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      resolve({ ok: true, headers: res.headers, body: res });
      return;
    }
    readWhole(res, (answer) => resolve({ ...answer, ok: false }), reject);
  });
}

/** The error for a refused request: status, problem slug and detail. */
export function refused(answer: Answer): Refused {
  const doc = (typeof answer.json === 'object' && answer.json !== null ? answer.json : {}) as {
    type?: unknown;
    detail?: unknown;
    title?: unknown;
  };
  const slug = typeof doc.type === 'string' ? doc.type.replace('urn:keyward:problem:', '') : 'error';
  const detail = typeof doc.detail === 'string' ? doc.detail : typeof doc.title === 'string' ? doc.title : answer.text;
  return new Refused(`${answer.status} ${slug}`, detail);
}

/** Calls and insists on a 2xx answer; answers its JSON, as the key-api documents it. */
export async function expectOk<T>(target: Target, method: string, path: string, options?: RequestOptions): Promise<T> {
  const answer = await call(target, method, path, options);
  if (answer.status < 200 || answer.status >= 300) throw refused(answer);
  return answer.json as T;
}

/** A query string from the defined entries (undefined, null and false are left out). */
export function query(params: Readonly<Record<string, string | number | boolean | null | undefined>>): string {
  const entries = Object.entries(params).flatMap(([k, v]) =>
    v === undefined || v === null || v === false ? [] : [[k, String(v)] as [string, string]],
  );
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

/** A key id or `alias/<name>`, as one path segment. */
export const segment = (ref: string): string => encodeURIComponent(ref);

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

/** Follows nextCursor pages while `all` asks for them. */
export async function pages<T>(
  target: Target,
  path: string,
  params: Readonly<Record<string, string | undefined>>,
  all: boolean | undefined,
): Promise<Page<T>> {
  const items: T[] = [];
  let cursor = params.cursor;
  for (;;) {
    const page = await expectOk<{ items: T[]; nextCursor?: string | null }>(target, 'GET', `${path}${query({ ...params, cursor })}`);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
    if (all !== true || cursor === undefined || cursor === '') return { items, nextCursor: cursor ?? null };
  }
}
