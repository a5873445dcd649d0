import { readFileSync } from 'node:fs';
import { UsageError, type ValuesOf } from '@keyward/cli-kit';

/** Options every verb that talks to key-api takes. */
export const CONNECTION_OPTIONS = {
  url: { type: 'string', value: 'URL', description: 'key-api base URL, e.g. https://127.0.0.1:8443 (or KEYWARD_URL)' },
  'api-key': { type: 'string', value: 'KEY', description: 'API key of the principal to act as (or KEYWARD_API_KEY)' },
  ca: { type: 'string', value: 'FILE', description: 'CA certificate to trust for https, e.g. .keyward/tls/ca.crt (or KEYWARD_CA)' },
  cert: { type: 'string', value: 'FILE', description: 'client certificate (PEM) for mutual TLS (or KEYWARD_CERT)' },
  'cert-key': { type: 'string', value: 'FILE', description: 'private key of --cert (or KEYWARD_CERT_KEY)' },
  json: { type: 'boolean', description: "print the key-api's JSON answer (for scripts)" },
} as const;

export type ConnectionValues = ValuesOf<typeof CONNECTION_OPTIONS>;

/** The key-api to talk to, and as whom. */
export interface Target {
  readonly base: URL;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly certKey?: Buffer;
  readonly apiKey?: string;
}

const given = (value: string | undefined): value is string => value !== undefined && value !== '';

/** The key-api to talk to, from the options or the environment (an API key is required unless `apiKey` is false). */
export function connection(values: ConnectionValues, env: NodeJS.ProcessEnv, { apiKey = true }: { apiKey?: boolean } = {}): Target {
  const url = values.url ?? env.KEYWARD_URL;
  if (!given(url)) throw new UsageError('--url is required (the key-api base URL, e.g. https://127.0.0.1:8443)');
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`--url is not a URL: ${url}`);
  }
  const caFile = values.ca ?? env.KEYWARD_CA;
  const certFile = values.cert ?? env.KEYWARD_CERT;
  const certKeyFile = values['cert-key'] ?? env.KEYWARD_CERT_KEY;
  if (given(certFile) !== given(certKeyFile)) throw new UsageError('--cert and --cert-key go together');
  const key = values['api-key'] ?? env.KEYWARD_API_KEY;
  if (apiKey && !given(key)) throw new UsageError('--api-key is required (or set KEYWARD_API_KEY)');
  return {
    base,
    ...(given(caFile) ? { ca: readFileSync(caFile) } : {}),
    ...(given(certFile) && given(certKeyFile) ? { cert: readFileSync(certFile), certKey: readFileSync(certKeyFile) } : {}),
    ...(given(key) ? { apiKey: key } : {}),
  };
}

/** The same key-api, without credentials (public endpoints). */
export const anonymous = (target: Target): Target => {
  const { apiKey: _apiKey, ...rest } = target;
  return rest;
};
