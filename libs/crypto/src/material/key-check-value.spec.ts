import { createHmac, randomBytes } from 'node:crypto';
import { keyCheckValue, matchesCheckValue, tenantCheckValue } from './key-check-value';

describe('keyCheckValue', () => {
  it('is 16 lowercase hex characters', () => {
    for (const length of [16, 32, 64]) expect(keyCheckValue(randomBytes(length))).toMatch(/^[0-9a-f]{16}$/);
  });

  it('is deterministic', () => {
    const material = randomBytes(32);
    expect(keyCheckValue(material)).toBe(keyCheckValue(Buffer.from(material)));
  });

  it('matches a known answer (first 8 bytes of HMAC-SHA256(material, 32 zero bytes), computed independently)', () => {
    const material = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(keyCheckValue(material)).toBe('416c5392b9f36df1');
  });

  it('differs for different material, including a single flipped bit', () => {
    const material = randomBytes(32);
    const kcv = keyCheckValue(material);
    expect(keyCheckValue(randomBytes(32))).not.toBe(kcv);
    for (let at = 0; at < material.length; at++) {
      const other = Buffer.from(material);
      other.writeUInt8(other.readUInt8(at) ^ 0x01, at);
      expect(keyCheckValue(other)).not.toBe(kcv);
    }
  });

  it('has no collisions across many random materials', () => {
    const count = 5000;
    const seen = new Set<string>();
    for (let i = 0; i < count; i++) seen.add(keyCheckValue(randomBytes(32)));
    expect(seen.size).toBe(count);
  });

  it('does not reveal the material', () => {
    const material = randomBytes(32);
    const hex = material.toString('hex');
    const kcv = keyCheckValue(material);
    expect(hex).not.toContain(kcv);
    expect(kcv).not.toBe(hex.slice(0, 16));
  });

  it('does not modify the material', () => {
    const material = randomBytes(32);
    const copy = Buffer.from(material);
    keyCheckValue(material);
    expect(material).toEqual(copy);
  });
});

describe('tenantCheckValue (SECRET keys)', () => {
  const kek = randomBytes(32);
  const password = Buffer.from('correct horse battery staple', 'utf8');

  it('is not computable from the secret alone: it differs from the plain check value and from an HMAC keyed by the secret', () => {
    const kcv = tenantCheckValue(kek, 'tnt_a', 'key_1', password);
    expect(kcv).toMatch(/^t1\.[0-9a-f]{16}$/);
    expect(kcv).not.toContain(keyCheckValue(password));
    expect(kcv).not.toContain(createHmac('sha256', password).update(Buffer.alloc(32)).digest().subarray(0, 8).toString('hex'));
  });

  it('makes equal secrets look unrelated across tenants, keys and KEKs', () => {
    const kcv = tenantCheckValue(kek, 'tnt_a', 'key_1', password);
    expect(tenantCheckValue(kek, 'tnt_a', 'key_1', Buffer.from(password))).toBe(kcv);
    expect(tenantCheckValue(kek, 'tnt_b', 'key_1', password)).not.toBe(kcv);
    expect(tenantCheckValue(kek, 'tnt_a', 'key_2', password)).not.toBe(kcv);
    expect(tenantCheckValue(randomBytes(32), 'tnt_a', 'key_1', password)).not.toBe(kcv);
  });

  it('matchesCheckValue checks either form against the material', () => {
    const keyed = { kek, tenantId: 'tnt_a', keyId: 'key_1' };
    expect(matchesCheckValue(tenantCheckValue(kek, 'tnt_a', 'key_1', password), password, keyed)).toBe(true);
    expect(matchesCheckValue(keyCheckValue(password), password, keyed)).toBe(true);
    expect(matchesCheckValue(tenantCheckValue(kek, 'tnt_a', 'key_1', password), Buffer.from('guess'), keyed)).toBe(false);
    expect(matchesCheckValue(keyCheckValue(password), Buffer.from('guess'), keyed)).toBe(false);
    expect(matchesCheckValue(tenantCheckValue(kek, 'tnt_a', 'key_1', password), password, { ...keyed, keyId: 'key_2' })).toBe(false);
    expect(matchesCheckValue('', password, keyed)).toBe(false);
  });
});
