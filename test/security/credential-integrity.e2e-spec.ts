import { createHash, randomBytes } from 'node:crypto';
import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(180_000);

interface CredentialDoc {
  _id: string;
  tenantId: string;
  principalId: string;
  role: string;
  secretHash: string;
  createdAt: string;
  disabled: boolean;
  mac?: string;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const credentialId = (): string => Array.from(randomBytes(16), (b) => ALPHANUMERIC[b % 62]).join('');

/** An API key and the credential document a database writer would insert for it. */
function forge(fields: Omit<CredentialDoc, '_id' | 'secretHash' | 'createdAt' | 'disabled'>): { apiKey: string; doc: CredentialDoc } {
  const id = credentialId();
  const secret = randomBytes(32).toString('base64url');
  const doc = {
    _id: id,
    secretHash: createHash('sha256').update(secret).digest('hex'),
    createdAt: new Date().toISOString(),
    disabled: false,
    ...fields,
  };
  return { apiKey: `kw_${id}_${secret}`, doc };
}

/**
 * Finding 1 (credentials): whoever can write to MongoDB cannot mint an API key. Every credential
 * document carries a MAC under a key derived from the root key; key-api refuses any whose MAC does
 * not verify, and says so in its log.
 */
describe('credential integrity: a credential written straight into MongoDB is refused', () => {
  const stack = new KeywardStack();
  let credentials: ReturnType<typeof stack.db.collection<CredentialDoc>>;
  let provider: CredentialDoc;

  beforeAll(async () => {
    await stack.start();
    credentials = stack.db.collection<CredentialDoc>('credentials');
    provider = (await credentials.findOne({ tenantId: 'provider', role: 'provider-admin' }))!;
  });
  afterAll(() => stack.stop());

  it('the genuine provider-admin key works; a forged provider-admin document does not', async () => {
    expect((await stack.call(stack.providerKey, 'GET', '/v1/tenants')).status).toBe(200);
    const forged = forge({ tenantId: 'provider', principalId: provider.principalId, role: 'provider-admin' });
    await credentials.insertOne(forged.doc);
    const refused = await stack.call(forged.apiKey, 'GET', '/v1/tenants');
    expect(refused.status).toBe(401);
    // Nor with the MAC of another document copied over.
    const copied = forge({ tenantId: 'provider', principalId: provider.principalId, role: 'provider-admin', mac: provider.mac });
    await credentials.insertOne(copied.doc);
    expect((await stack.call(copied.apiKey, 'GET', '/v1/tenants')).status).toBe(401);
    await stack.api.waitFor(() => Promise.resolve(stack.api.log.includes(`SECURITY: refused credential ${forged.doc._id}`)), 10_000);
    expect((await stack.call(stack.providerKey, 'GET', '/v1/tenants')).status).toBe(200);
  });

  it("raising a key-user's role, or re-enabling a revoked key, in the database is refused", async () => {
    const tenant = await stack.onboard();
    const user = await stack.principalWithId(tenant.adminKey, 'key-user');
    expect((await stack.call(user.apiKey, 'GET', '/v1/keys')).status).toBe(200);
    await credentials.updateOne({ principalId: user.principalId }, { $set: { role: 'tenant-admin' } });
    const leaver = await stack.principalWithId(tenant.adminKey, 'key-user');
    expect((await stack.call(tenant.adminKey, 'DELETE', `/v1/principals/${leaver.principalId}`)).status).toBe(200);
    expect((await stack.call(leaver.apiKey, 'GET', '/v1/keys')).status).toBe(401);
    await credentials.updateOne({ principalId: leaver.principalId }, { $set: { disabled: false } });
    // A fresh instance reads the altered documents (no cached copy of the genuine ones).
    const fresh = await stack.startApi();
    try {
      expect((await stack.callOn(fresh, user.apiKey, 'POST', '/v1/keys', {})).status).toBe(401);
      expect((await stack.callOn(fresh, user.apiKey, 'GET', '/v1/keys')).status).toBe(401);
      expect((await stack.callOn(fresh, leaver.apiKey, 'GET', '/v1/keys')).status).toBe(401);
      expect((await stack.callOn(fresh, tenant.adminKey, 'GET', '/v1/keys')).status).toBe(200);
    } finally {
      await fresh.stop();
    }
  });
});
