import { randomBytes } from 'node:crypto';
import { credentialMac, credentialMacMatches, deriveCredentialMacKey, type MacFields } from './credential-mac';

const doc: MacFields = {
  _id: 'AbCdEfGhIjKlMnOp',
  tenantId: 'tnt_acme0001',
  principalId: 'prn_user0001',
  role: 'key-user',
  secretHash: 'ab'.repeat(32),
  createdAt: '2030-06-15T12:00:00.000Z',
};

describe('credential MAC', () => {
  const root = randomBytes(32);
  const key = deriveCredentialMacKey(root);

  it('verifies the document it was made for', () => {
    expect(credentialMacMatches(key, { ...doc, mac: credentialMac(key, doc) })).toBe(true);
  });

  it.each(Object.keys(doc) as (keyof MacFields)[])('does not verify once %s changed', (field) => {
    const mac = credentialMac(key, doc);
    const altered = { ...doc, [field]: field === 'role' ? 'provider-admin' : `${doc[field]}x`, mac };
    expect(credentialMacMatches(key, altered)).toBe(false);
  });

  it('does not verify without a MAC, with a malformed one, or under another root key', () => {
    expect(credentialMacMatches(key, doc)).toBe(false);
    expect(credentialMacMatches(key, { ...doc, mac: 'zz' })).toBe(false);
    expect(credentialMacMatches(deriveCredentialMacKey(randomBytes(32)), { ...doc, mac: credentialMac(key, doc) })).toBe(false);
  });

  it('is not the root key, and fields cannot be shifted into each other', () => {
    expect(key.equals(root)).toBe(false);
    const shifted = { ...doc, tenantId: `${doc.tenantId}prn`, principalId: doc.principalId.slice(3) };
    expect(credentialMac(key, shifted)).not.toBe(credentialMac(key, doc));
  });
});
