import { issueApiKey } from '../api-key/api-key';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import type { CredentialDocument, CredentialStore } from './credential-store';

/** The credential store's reads and issue notifications in memory (unit tier: the real one runs end to end). */
class MemoryCredentials {
  readonly docs = new Map<string, CredentialDocument>();
  reads = 0;
  private readonly listeners: ((credentialId: string) => void)[] = [];

  find(credentialId: string): Promise<CredentialDocument | null> {
    this.reads++;
    return Promise.resolve(this.docs.get(credentialId) ?? null);
  }

  onIssued(listener: (credentialId: string) => void): void {
    this.listeners.push(listener);
  }

  /** Stores a key the way CredentialStore.issue does, and tells the listeners. */
  issueWithId(credentialId: string): string {
    const issued = issueApiKey();
    const apiKey = issued.apiKey.replace(issued.credentialId, credentialId);
    this.docs.set(credentialId, {
      _id: credentialId,
      tenantId: 'tnt_a',
      principalId: 'prn_a',
      role: 'key-user',
      secretHash: issued.secretHash,
      createdAt: new Date(0).toISOString(),
      disabled: false,
    });
    for (const listener of this.listeners) listener(credentialId);
    return apiKey;
  }
}

const unknownKey = (id: string): string => `kw_${id}_${'s'.repeat(43)}`;

describe('ApiKeyAuthenticator: unknown key ids', () => {
  it('reads the store once for an unknown id within the TTL, and counts the answers it gave from memory', async () => {
    const store = new MemoryCredentials();
    let hits = 0;
    const authenticator = new ApiKeyAuthenticator(store as unknown as CredentialStore, 5_000, 100, {
      ttlMs: 60_000,
      maxEntries: 100,
      onUnknownHit: () => hits++,
    });
    for (let i = 0; i < 5; i++) expect(await authenticator.authenticate(unknownKey('UnknownUnknown01'))).toBeUndefined();
    expect([store.reads, hits]).toEqual([1, 4]);
  });

  it('a key issued by this process authenticates at once, although its id was just looked up and not found', async () => {
    const store = new MemoryCredentials();
    const authenticator = new ApiKeyAuthenticator(store as unknown as CredentialStore, 5_000, 100, { ttlMs: 60_000, maxEntries: 100 });
    expect(await authenticator.authenticate(unknownKey('SoonIssued000001'))).toBeUndefined();
    const apiKey = store.issueWithId('SoonIssued000001');
    expect(await authenticator.authenticate(apiKey)).toMatchObject({ principalId: 'prn_a', role: 'key-user' });
  });

  it('is bounded: beyond maxEntries the oldest unknown ids are forgotten (and read again)', async () => {
    const store = new MemoryCredentials();
    const authenticator = new ApiKeyAuthenticator(store as unknown as CredentialStore, 5_000, 100, { ttlMs: 60_000, maxEntries: 3 });
    const ids = ['Unknown000000001', 'Unknown000000002', 'Unknown000000003', 'Unknown000000004'];
    for (const id of ids) await authenticator.authenticate(unknownKey(id));
    expect(authenticator.unknownSize).toBe(3);
    store.reads = 0;
    await authenticator.authenticate(unknownKey(ids[3]!)); // remembered
    await authenticator.authenticate(unknownKey(ids[0]!)); // forgotten: read again
    expect(store.reads).toBe(1);
  });

  it('a TTL of 0 remembers nothing', async () => {
    const store = new MemoryCredentials();
    const authenticator = new ApiKeyAuthenticator(store as unknown as CredentialStore, 5_000, 100, { ttlMs: 0, maxEntries: 3 });
    for (let i = 0; i < 3; i++) await authenticator.authenticate(unknownKey('UnknownUnknown02'));
    expect([store.reads, authenticator.unknownSize]).toEqual([3, 0]);
  });

  it('a miss read while this process issued a key is not remembered (the read may predate the issue)', async () => {
    const store = new MemoryCredentials();
    const authenticator = new ApiKeyAuthenticator(store as unknown as CredentialStore, 5_000, 100, { ttlMs: 60_000, maxEntries: 100 });
    const find = store.find.bind(store);
    let apiKey = '';
    store.find = async (id: string) => {
      const found = await find(id); // the read answers "absent"...
      apiKey = store.issueWithId(id); // ...and the key is issued before the answer arrives
      return found;
    };
    expect(await authenticator.authenticate(unknownKey('RacingIssue00001'))).toBeUndefined();
    store.find = find;
    expect(authenticator.unknownSize).toBe(0);
    expect(await authenticator.authenticate(apiKey)).toMatchObject({ principalId: 'prn_a' });
  });
});

describe('ApiKeyAuthenticator.reauthenticate: a console session re-checks the credential that opened it', () => {
  it('answers the principal while the credential is enabled, and nothing once it is disabled, deleted or its MAC fails', async () => {
    const store = new MemoryCredentials();
    const authenticator = new ApiKeyAuthenticator(store as unknown as CredentialStore, 0);
    store.issueWithId('cred0000000000a1');
    expect(await authenticator.reauthenticate('cred0000000000a1')).toMatchObject({
      principalId: 'prn_a',
      tenantId: 'tnt_a',
      role: 'key-user',
    });

    const doc = store.docs.get('cred0000000000a1')!;
    store.docs.set('cred0000000000a1', { ...doc, disabled: true });
    expect(await authenticator.reauthenticate('cred0000000000a1')).toBeUndefined();
    store.docs.delete('cred0000000000a1');
    expect(await authenticator.reauthenticate('cred0000000000a1')).toBeUndefined();

    store.issueWithId('cred0000000000a2');
    const refused: string[] = [];
    authenticator.useIntegrity(
      () => Buffer.alloc(32, 1),
      (d) => refused.push(d._id),
    );
    expect(await authenticator.reauthenticate('cred0000000000a2')).toBeUndefined();
    expect(refused).toEqual(['cred0000000000a2']);
  });

  it('never needs the secret, and a made-up id is not a principal', async () => {
    const authenticator = new ApiKeyAuthenticator(new MemoryCredentials() as unknown as CredentialStore);
    expect(await authenticator.reauthenticate('nosuchcredential')).toBeUndefined();
  });
});
