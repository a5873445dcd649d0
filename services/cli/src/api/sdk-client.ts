import { KeywardClient } from '@keyward/sdk';
import type { Target } from './connection';

/** The SDK's client for a key-api target (CA, client certificate and API key as the options gave them). */
export function sdkClient(target: Target): KeywardClient {
  return new KeywardClient({
    baseUrl: target.base,
    ...(target.apiKey === undefined ? {} : { apiKey: target.apiKey }),
    tls: {
      ...(target.ca === undefined ? {} : { ca: target.ca }),
      ...(target.cert === undefined || target.certKey === undefined ? {} : { cert: target.cert, key: target.certKey }),
    },
  });
}

/** Runs `work` with an SDK client for the target, closed afterwards. */
export async function withClient<T>(target: Target, work: (client: KeywardClient) => Promise<T>): Promise<T> {
  const client = sdkClient(target);
  try {
    return await work(client);
  } finally {
    client.close();
  }
}
