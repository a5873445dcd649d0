import { createHash, createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
}

/** A fresh RSA (RS256) or P-256 (ES256) signing key. */
export function signingKey(alg: 'RS256' | 'ES256', kid: string): SigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

const b64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

/** A compact JWS signed with node:crypto; `header` overrides the protected header. */
export function signJwt(payload: Record<string, unknown>, key: SigningKey, header: Record<string, unknown> = {}): string {
  const input = `${b64url(JSON.stringify({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header }))}.${b64url(JSON.stringify(payload))}`;
  const signature = createSign('SHA256')
    .update(input)
    .sign(key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' } : key.privateKey);
  return `${input}.${b64url(signature)}`;
}

/** An unsigned (`alg: none`) or HMAC-signed token, which key-api must refuse. */
export function forgedJwt(payload: Record<string, unknown>, how: { alg: 'none' } | { alg: 'HS256'; secret: string }): string {
  const input = `${b64url(JSON.stringify({ alg: how.alg, typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  if (how.alg === 'none') return `${input}.`;
  return `${input}.${b64url(createHmac('sha256', how.secret).update(input).digest())}`;
}

/** RFC 8705 `x5t#S256` of a PEM certificate. */
export function certificateThumbprint(certPem: string): string {
  const der = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('base64url');
}

/** The identity provider's JWKS endpoint, served by the test itself on 127.0.0.1. */
export class JwksServer {
  readonly keys: SigningKey[] = [];
  fetches = 0;
  /** While set, the endpoint answers 500 (identity provider down). */
  failing = false;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      this.fetches += 1;
      if (this.failing) {
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
