import { randomBytes } from 'node:crypto';
import { GCM_IV_BYTES, GCM_TAG_BYTES } from '../aead/aes-gcm';
import { AuthenticationFailed } from '../errors';
import { boundFields, KEK_BYTES, type MaterialRef, newKek, unwrapKek, unwrapMaterial, wrapKek, wrapMaterial } from './key-hierarchy';

function flipped(bytes: Buffer, at: number, mask: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy.readUInt8(at) ^ mask, at);
  return copy;
}

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (err: unknown) {
    return err;
  }
  return undefined;
}

describe('boundFields', () => {
  it('length-prefixes every field with a 4-byte big-endian byte count', () => {
    expect(boundFields('ab', 'c')).toEqual(Buffer.from('00000002616200000001' + '63', 'hex'));
  });

  it('is injective for ("ab", "c") vs ("a", "bc")', () => {
    expect(boundFields('ab', 'c').equals(boundFields('a', 'bc'))).toBe(false);
  });

  it.each([
    [
      ['a', ''],
      ['', 'a'],
    ],
    [['a'], ['a', '']],
    [[''], []],
    [['', ''], ['']],
    [['abc'], ['a', 'b', 'c']],
    [
      ['k1', 2],
      ['k', 12],
    ],
    [
      ['tenant', 'key', 1],
      ['tenant', 'key1'],
    ],
  ] as const)('distinguishes %j from %j', (left, right) => {
    expect(boundFields(...left).equals(boundFields(...right))).toBe(false);
  });

  it('counts bytes, not characters, for non-ASCII strings', () => {
    expect(boundFields('é')).toEqual(Buffer.from([0, 0, 0, 2, 0xc3, 0xa9]));
  });

  it('passes Buffers through unchanged and writes numbers in decimal', () => {
    expect(boundFields(Buffer.from([0, 255]))).toEqual(Buffer.from([0, 0, 0, 2, 0, 255]));
    expect(boundFields(42)).toEqual(boundFields('42'));
  });

  it('is empty for no fields', () => {
    expect(boundFields()).toHaveLength(0);
  });
});

describe('key hierarchy', () => {
  const rootKey = randomBytes(KEK_BYTES);

  it('newKek returns fresh 32-byte keys', () => {
    const a = newKek();
    const b = newKek();
    expect(a).toHaveLength(KEK_BYTES);
    expect(a.equals(b)).toBe(false);
  });

  describe('wrapKek / unwrapKek', () => {
    const kek = newKek();

    it('round-trips', () => {
      const wrapped = wrapKek(rootKey, 'tenant_a', kek);
      expect(wrapped).toHaveLength(GCM_IV_BYTES + GCM_TAG_BYTES + KEK_BYTES);
      expect(unwrapKek(rootKey, 'tenant_a', wrapped)).toEqual(kek);
    });

    it('wraps the same KEK differently every time and does not contain it', () => {
      const a = wrapKek(rootKey, 'tenant_a', kek);
      const b = wrapKek(rootKey, 'tenant_a', kek);
      expect(a.equals(b)).toBe(false);
      expect(a.includes(kek)).toBe(false);
    });

    it.each(['tenant_b', 'Tenant_a', 'tenant_a ', 'tenant_', '', 'tenant_aa'])(
      'a KEK wrapped for tenant_a does not unwrap as %j',
      (other) => {
        const wrapped = wrapKek(rootKey, 'tenant_a', kek);
        expect(() => unwrapKek(rootKey, other, wrapped)).toThrow(AuthenticationFailed);
      },
    );

    it('does not unwrap under another root key', () => {
      const wrapped = wrapKek(rootKey, 'tenant_a', kek);
      expect(() => unwrapKek(randomBytes(KEK_BYTES), 'tenant_a', wrapped)).toThrow(AuthenticationFailed);
    });

    it('refuses a root key of the wrong length with RangeError', () => {
      expect(() => wrapKek(randomBytes(16), 'tenant_a', kek)).toThrow(RangeError);
      expect(() => unwrapKek(randomBytes(16), 'tenant_a', wrapKek(rootKey, 'tenant_a', kek))).toThrow(RangeError);
    });

    it('throws AuthenticationFailed for every flipped byte and every truncation', () => {
      const wrapped = wrapKek(rootKey, 'tenant_a', kek);
      for (let at = 0; at < wrapped.length; at++) {
        expect(errorOf(() => unwrapKek(rootKey, 'tenant_a', flipped(wrapped, at, 0x01)))).toBeInstanceOf(AuthenticationFailed);
      }
      for (let length = 0; length < wrapped.length; length++) {
        expect(errorOf(() => unwrapKek(rootKey, 'tenant_a', wrapped.subarray(0, length)))).toBeInstanceOf(AuthenticationFailed);
      }
    });
  });

  describe('wrapMaterial / unwrapMaterial', () => {
    const kek = newKek();
    const ref: MaterialRef = { tenantId: 'tenant_a', keyId: 'orders', version: 3 };
    const material = randomBytes(32);

    it('round-trips', () => {
      expect(unwrapMaterial(kek, ref, wrapMaterial(kek, ref, material))).toEqual(material);
    });

    it.each([0, 1, 16, 64, 1000])('round-trips %i bytes of material', (length) => {
      const bytes = randomBytes(length);
      expect(unwrapMaterial(kek, ref, wrapMaterial(kek, ref, bytes))).toEqual(bytes);
    });

    it.each<[string, MaterialRef]>([
      ['tenantId', { ...ref, tenantId: 'tenant_b' }],
      ['keyId', { ...ref, keyId: 'invoices' }],
      ['version', { ...ref, version: 4 }],
      ['version (off by a factor)', { ...ref, version: 30 }],
    ])('binds the %s: changing only it fails', (_field, other) => {
      const wrapped = wrapMaterial(kek, ref, material);
      expect(() => unwrapMaterial(kek, other, wrapped)).toThrow(AuthenticationFailed);
    });

    it('keeps fields apart: tenant "ab"/key "c" is not tenant "a"/key "bc"', () => {
      const wrapped = wrapMaterial(kek, { tenantId: 'ab', keyId: 'c', version: 1 }, material);
      expect(() => unwrapMaterial(kek, { tenantId: 'a', keyId: 'bc', version: 1 }, wrapped)).toThrow(AuthenticationFailed);
    });

    it('keeps fields apart: key "k1" version 2 is not key "k" version 12', () => {
      const wrapped = wrapMaterial(kek, { tenantId: 't', keyId: 'k1', version: 2 }, material);
      expect(() => unwrapMaterial(kek, { tenantId: 't', keyId: 'k', version: 12 }, wrapped)).toThrow(AuthenticationFailed);
    });

    it('does not unwrap under another KEK', () => {
      expect(() => unwrapMaterial(newKek(), ref, wrapMaterial(kek, ref, material))).toThrow(AuthenticationFailed);
    });

    it('throws AuthenticationFailed for every flipped byte and every truncation', () => {
      const wrapped = wrapMaterial(kek, ref, material);
      for (let at = 0; at < wrapped.length; at++) {
        expect(errorOf(() => unwrapMaterial(kek, ref, flipped(wrapped, at, 0x80)))).toBeInstanceOf(AuthenticationFailed);
      }
      for (let length = 0; length < wrapped.length; length++) {
        expect(errorOf(() => unwrapMaterial(kek, ref, wrapped.subarray(0, length)))).toBeInstanceOf(AuthenticationFailed);
      }
    });
  });

  describe('domain separation', () => {
    it('a wrapped KEK cannot be unwrapped as material, nor material as a KEK', () => {
      const kek = newKek();
      const wrappedKek = wrapKek(rootKey, 'tenant_a', kek);
      expect(() => unwrapMaterial(rootKey, { tenantId: 'tenant_a', keyId: 'k', version: 1 }, wrappedKek)).toThrow(AuthenticationFailed);
      const wrappedMaterial = wrapMaterial(rootKey, { tenantId: 'tenant_a', keyId: 'k', version: 1 }, kek);
      expect(() => unwrapKek(rootKey, 'tenant_a', wrappedMaterial)).toThrow(AuthenticationFailed);
    });
  });
});
