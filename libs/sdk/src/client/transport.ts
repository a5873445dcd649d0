import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { KeywardTransportError } from './problem';

/** TLS settings: the CA to trust, and a client certificate for mutual TLS. */
export interface TlsOptions {
  /** CA certificate(s) (PEM) to trust instead of the system's, e.g. `.keyward/tls/ca.crt`. */
  readonly ca?: string | Buffer;
  /** Client certificate (PEM) for mutual TLS; needs `key`. */
  readonly cert?: string | Buffer;
  /** Private key (PEM) of `cert`. */
  readonly key?: string | Buffer;
  readonly passphrase?: string;
  /** Server name to check the certificate against, when it differs from the URL's host. */
  readonly servername?: string;
}

/** One HTTP answer, read whole. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RawRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

/** Sends one request; a test can put its own in the client's place. */
export type Transport = (request: RawRequest) => Promise<RawAnswer>;

/** The node:http(s) transport: keep-alive connections, the TLS options, a timeout per request. */
export function nodeTransport(tls: TlsOptions = {}, timeoutMs = 30_000): Transport & { close(): void } {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError('tls.cert and tls.key go together');
  const https = new HttpsAgent({ keepAlive: true, ...tls });
  const http = new HttpAgent({ keepAlive: true });
  const send: Transport = ({ method, url, headers, body }) =>
    new Promise<RawAnswer>((resolve, reject) => {
      const isTls = url.protocol === 'https:';
      const req = (isTls ? httpsRequest : httpRequest)(
        url,
        {
          method,
          headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(body.length) }) },
          agent: isTls ? https : http,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (err) => reject(new KeywardTransportError(`${method} ${url.pathname}: ${err.message}`, { cause: err })));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => reject(new KeywardTransportError(`cannot reach ${url.origin}: ${err.message}`, { cause: err })));
      req.end(body);
    });
  return Object.assign(send, {
    close: () => {
      https.destroy();
      http.destroy();
    },
  });
}
