import { createHmac } from 'node:crypto';
import { encryptBlob, decryptBlob } from '../envelope/data-plane';
import { parseBlob } from '../envelope/blob';
import { AuthenticationFailed } from '../errors';
import { kmipSubkeyInfo, withKmipAesGcmKey } from './kmip-subkey';

const ref = { tenantId: 'ten_alpha0001', keyId: 'key_abc', version: 2 };

/** RFC 5869 by hand (HMAC-SHA256, zero salt), to pin the derivation clients can reproduce. */
function hkdf(ikm: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac('sha256', Buffer.alloc(32)).update(ikm).digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = createHmac('sha256', prk)
      .update(Buffer.concat([previous, info, Buffer.from([i])]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

describe('the KMIP AES-GCM subkey (finding 6: key separation from REST)', () => {
  it.each([16, 24, 32])(
    'is HKDF-SHA256 of %i-byte material with the KMIP label, tenant, key and version, as long as the material',
    (bytes) => {
      const material = Buffer.alloc(bytes, 7);
      const subkey = withKmipAesGcmKey(material, ref, (k) => Buffer.from(k));
      expect(subkey).toEqual(hkdf(material, kmipSubkeyInfo(ref), bytes));
      expect(subkey.equals(material)).toBe(false);
      expect(kmipSubkeyInfo(ref).toString('hex')).toBe(
        Buffer.concat([
          Buffer.from([0, 0, 0, 23]),
          Buffer.from('keyward/kmip/aes-gcm/v1'),
          Buffer.from([0, 0, 0, 13]),
          Buffer.from('ten_alpha0001'),
          Buffer.from([0, 0, 0, 7]),
          Buffer.from('key_abc'),
          Buffer.from([0, 0, 0, 1]),
          Buffer.from('2'),
        ]).toString('hex'),
      );
    },
  );

  it('differs per tenant, key and version, and is zeroed after use', () => {
    const material = Buffer.alloc(32, 9);
    const keys = [ref, { ...ref, tenantId: 'ten_bravo0001' }, { ...ref, keyId: 'key_abd' }, { ...ref, version: 3 }].map((r) =>
      withKmipAesGcmKey(material, r, (k) => k.toString('hex')),
    );
    expect(new Set(keys).size).toBe(4);
    let seen: Buffer | undefined;
    withKmipAesGcmKey(material, ref, (k) => (seen = k));
    expect(seen?.equals(Buffer.alloc(32))).toBe(true);
  });

  it('never opens a REST blob of the same version', () => {
    const material = Buffer.alloc(32, 5);
    const blob = parseBlob(encryptBlob(material, ref, Buffer.from('secret')));
    expect(decryptBlob(material, ref.tenantId, blob).toString()).toBe('secret');
    expect(() => withKmipAesGcmKey(material, ref, (k) => decryptBlob(k, ref.tenantId, blob))).toThrow(AuthenticationFailed);
  });
});
