import { randomBytes } from 'node:crypto';
import { AuthenticationFailed, MalformedBlob } from '../errors';
import { type MaterialRef } from '../hierarchy/key-hierarchy';
import { encodeHeader, parseBlob } from './blob';
import { decryptBlob, encryptBlob, macBlob, verifyMacBlob } from './data-plane';

const MASKS = [0x01, 0x80, 0xff] as const;

function flipped(bytes: Buffer, at: number, mask: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy.readUInt8(at) ^ mask, at);
  return copy;
}

/** For failure messages: what was thrown. */
const errorName = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : `non-Error ${typeof err}`);

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (err: unknown) {
    return err;
  }
  return undefined;
}

const decrypt = (material: Buffer, tenantId: string, blob: Buffer, aad?: Buffer): Buffer =>
  decryptBlob(material, tenantId, parseBlob(blob), aad);
const verify = (material: Buffer, tenantId: string, blob: Buffer, data: Buffer): boolean =>
  verifyMacBlob(material, tenantId, parseBlob(blob), data);

describe('data plane', () => {
  const material = randomBytes(32);
  const ref: MaterialRef = { tenantId: 'tenant_a', keyId: 'orders', version: 2 };
  const header = encodeHeader({ algorithm: 'AES-256-GCM', keyId: ref.keyId, version: ref.version });

  describe('encryptBlob / decryptBlob', () => {
    const plaintext = Buffer.from('card 4111 1111 1111 1111');
    const aad = Buffer.from('order=42');

    it.each<[string, Buffer]>([
      ['empty', Buffer.alloc(0)],
      ['one byte', Buffer.from([0])],
      ['short', plaintext],
      ['64 KiB', randomBytes(64 * 1024)],
    ])('round-trips a %s plaintext without and with caller AAD', (_name, message) => {
      expect(decrypt(material, ref.tenantId, encryptBlob(material, ref, message))).toEqual(message);
      expect(decrypt(material, ref.tenantId, encryptBlob(material, ref, message, aad), aad)).toEqual(message);
    });

    it('produces a self-describing blob: header ‖ iv (12) ‖ tag (16) ‖ ciphertext', () => {
      const blob = encryptBlob(material, ref, plaintext);
      expect(blob.subarray(0, header.length)).toEqual(header);
      expect(blob).toHaveLength(header.length + 12 + 16 + plaintext.length);
      expect(parseBlob(blob)).toMatchObject({ algorithm: 'AES-256-GCM', keyId: 'orders', version: 2 });
      expect(blob.includes(plaintext)).toBe(false);
    });

    it('encrypts the same plaintext differently every time', () => {
      expect(encryptBlob(material, ref, plaintext).equals(encryptBlob(material, ref, plaintext))).toBe(false);
    });

    it('refuses a key id or version that cannot go into a header, before encrypting', () => {
      expect(() => encryptBlob(material, { ...ref, keyId: 'bad-id' }, plaintext)).toThrow(RangeError);
      expect(() => encryptBlob(material, { ...ref, version: 0 }, plaintext)).toThrow(RangeError);
    });

    it('refuses material that is not an AES key length (16, 24 or 32 bytes)', () => {
      expect(() => encryptBlob(randomBytes(20), ref, plaintext)).toThrow(RangeError);
    });

    describe('fails with AuthenticationFailed when the context differs', () => {
      const withAad = encryptBlob(material, ref, plaintext, aad);
      const withoutAad = encryptBlob(material, ref, plaintext);

      it('a different caller AAD', () => {
        expect(() => decrypt(material, ref.tenantId, withAad, Buffer.from('order=43'))).toThrow(AuthenticationFailed);
        expect(() => decrypt(material, ref.tenantId, withAad, Buffer.concat([aad, Buffer.from([0])]))).toThrow(AuthenticationFailed);
      });

      it('no AAD (or an empty one) when one was used', () => {
        expect(() => decrypt(material, ref.tenantId, withAad)).toThrow(AuthenticationFailed);
        expect(() => decrypt(material, ref.tenantId, withAad, Buffer.alloc(0))).toThrow(AuthenticationFailed);
      });

      it('an AAD when none was used', () => {
        expect(() => decrypt(material, ref.tenantId, withoutAad, aad)).toThrow(AuthenticationFailed);
      });

      it.each(['tenant_b', 'Tenant_a', 'tenant_', 'tenant_a ', ''])('a different tenant %j', (tenantId) => {
        expect(() => decrypt(material, tenantId, withAad, aad)).toThrow(AuthenticationFailed);
        expect(() => decrypt(material, tenantId, withoutAad)).toThrow(AuthenticationFailed);
      });

      it('a tenant/AAD split at another place ("ab" + "c" vs "a" + "bc")', () => {
        const blob = encryptBlob(material, { ...ref, tenantId: 'ab' }, plaintext, Buffer.from('c'));
        expect(() => decrypt(material, 'a', blob, Buffer.from('bc'))).toThrow(AuthenticationFailed);
      });

      it('different material', () => {
        expect(() => decrypt(randomBytes(32), ref.tenantId, withAad, aad)).toThrow(AuthenticationFailed);
        expect(() => decrypt(flipped(material, 31, 0x01), ref.tenantId, withoutAad)).toThrow(AuthenticationFailed);
      });

      it('the header swapped for one naming another key id or version', () => {
        const body = withAad.subarray(header.length);
        for (const other of [
          { algorithm: 'AES-256-GCM', keyId: 'invoices', version: 2 },
          { algorithm: 'AES-256-GCM', keyId: 'orders', version: 3 },
        ] as const) {
          expect(() => decrypt(material, ref.tenantId, Buffer.concat([encodeHeader(other), body]), aad)).toThrow(AuthenticationFailed);
        }
      });
    });

    it('an empty caller AAD is the same as none', () => {
      expect(decrypt(material, ref.tenantId, encryptBlob(material, ref, plaintext, Buffer.alloc(0)))).toEqual(plaintext);
      expect(decrypt(material, ref.tenantId, encryptBlob(material, ref, plaintext), Buffer.alloc(0))).toEqual(plaintext);
    });

    it.each([
      ['without', undefined],
      ['with', aad],
    ])('every single flipped byte anywhere in the blob (%s AAD) yields MalformedBlob or AuthenticationFailed', (_name, callerAad) => {
      const blob = encryptBlob(material, ref, Buffer.from('0123456789abcdef'), callerAad);
      const outcomes: string[] = [];
      for (let at = 0; at < blob.length; at++) {
        for (const mask of MASKS) {
          const error = errorOf(() => decrypt(material, ref.tenantId, flipped(blob, at, mask), callerAad));
          if (!(error instanceof MalformedBlob || error instanceof AuthenticationFailed)) {
            outcomes.push(`byte ${at} ^ 0x${mask.toString(16)}: ${error === undefined ? 'decrypted' : errorName(error)}`);
          }
        }
      }
      expect(outcomes).toEqual([]);
    });

    it('every truncation of the blob yields MalformedBlob or AuthenticationFailed; an appended byte fails', () => {
      const blob = encryptBlob(material, ref, Buffer.from('0123456789abcdef'), aad);
      for (let length = 0; length < blob.length; length++) {
        const error = errorOf(() => decrypt(material, ref.tenantId, blob.subarray(0, length), aad));
        expect(error instanceof MalformedBlob || error instanceof AuthenticationFailed).toBe(true);
      }
      expect(() => decrypt(material, ref.tenantId, Buffer.concat([blob, Buffer.from([0])]), aad)).toThrow(AuthenticationFailed);
    });

    it('a body shorter than iv + tag is MalformedBlob', () => {
      for (const length of [0, 1, 27]) {
        expect(errorOf(() => decrypt(material, ref.tenantId, Buffer.concat([header, Buffer.alloc(length)])))).toBeInstanceOf(MalformedBlob);
      }
    });

    it('decryptBlob of a MAC blob is MalformedBlob', () => {
      const mac = macBlob(material, ref, plaintext);
      expect(errorOf(() => decrypt(material, ref.tenantId, mac))).toBeInstanceOf(MalformedBlob);
    });
  });

  describe('macBlob / verifyMacBlob', () => {
    const data = Buffer.from('amount=100&to=alice');
    const mac = macBlob(material, ref, data);
    const macHeader = encodeHeader({ algorithm: 'HMAC-SHA256', keyId: ref.keyId, version: ref.version });

    it('verifies', () => {
      expect(verify(material, ref.tenantId, mac, data)).toBe(true);
    });

    it('verifies empty and large data', () => {
      for (const message of [Buffer.alloc(0), randomBytes(64 * 1024)]) {
        expect(verify(material, ref.tenantId, macBlob(material, ref, message), message)).toBe(true);
      }
    });

    it('is a header followed by a 32-byte tag, and deterministic', () => {
      expect(mac.subarray(0, macHeader.length)).toEqual(macHeader);
      expect(mac).toHaveLength(macHeader.length + 32);
      expect(macBlob(material, ref, data)).toEqual(mac);
      expect(parseBlob(mac)).toMatchObject({ algorithm: 'HMAC-SHA256', keyId: 'orders', version: 2 });
    });

    it('accepts material of any length (HMAC keys are not fixed-size)', () => {
      const short = randomBytes(16);
      expect(verify(short, ref.tenantId, macBlob(short, ref, data), data)).toBe(true);
    });

    it.each<[string, Buffer]>([
      ['different data', Buffer.from('amount=900&to=alice')],
      ['empty data', Buffer.alloc(0)],
      ['data with a byte appended', Buffer.concat([data, Buffer.from([0])])],
      ['data with the last byte dropped', data.subarray(0, data.length - 1)],
    ])('is false for %s', (_name, other) => {
      expect(verify(material, ref.tenantId, mac, other)).toBe(false);
    });

    it.each(['tenant_b', 'Tenant_a', 'tenant_', ''])('is false for tenant %j', (tenantId) => {
      expect(verify(material, tenantId, mac, data)).toBe(false);
    });

    it('is false for different material', () => {
      expect(verify(randomBytes(32), ref.tenantId, mac, data)).toBe(false);
      expect(verify(flipped(material, 0, 0x01), ref.tenantId, mac, data)).toBe(false);
    });

    it('keeps tenant and data apart ("ab" + "c" vs "a" + "bc")', () => {
      const blob = macBlob(material, { ...ref, tenantId: 'ab' }, Buffer.from('c'));
      expect(verify(material, 'a', blob, Buffer.from('bc'))).toBe(false);
    });

    it('is false when the header is swapped for one naming another key id or version', () => {
      const tag = mac.subarray(macHeader.length);
      for (const other of [
        { algorithm: 'HMAC-SHA256', keyId: 'invoices', version: 2 },
        { algorithm: 'HMAC-SHA256', keyId: 'orders', version: 1 },
      ] as const) {
        expect(verify(material, ref.tenantId, Buffer.concat([encodeHeader(other), tag]), data)).toBe(false);
      }
    });

    it('every single flipped byte anywhere in the blob yields false or MalformedBlob, never true', () => {
      const outcomes: string[] = [];
      for (let at = 0; at < mac.length; at++) {
        for (const mask of MASKS) {
          const tampered = flipped(mac, at, mask);
          let outcome: string;
          try {
            outcome = verify(material, ref.tenantId, tampered, data) ? 'verified' : 'false';
          } catch (err: unknown) {
            outcome = err instanceof MalformedBlob ? 'false' : errorName(err);
          }
          if (outcome !== 'false') outcomes.push(`byte ${at} ^ 0x${mask.toString(16)}: ${outcome}`);
        }
      }
      expect(outcomes).toEqual([]);
    });

    it('is false for every truncated tag, an over-long tag and an all-zero tag', () => {
      for (let length = macHeader.length; length < mac.length; length++) {
        expect(verify(material, ref.tenantId, mac.subarray(0, length), data)).toBe(false);
      }
      expect(verify(material, ref.tenantId, Buffer.concat([mac, Buffer.from([0])]), data)).toBe(false);
      expect(verify(material, ref.tenantId, Buffer.concat([macHeader, Buffer.alloc(32)]), data)).toBe(false);
    });

    it('verifyMacBlob of a ciphertext blob is MalformedBlob', () => {
      const ciphertext = encryptBlob(material, ref, data);
      expect(errorOf(() => verify(material, ref.tenantId, ciphertext, data))).toBeInstanceOf(MalformedBlob);
    });

    it('a MAC blob relabelled as a ciphertext (algorithm byte changed) does not decrypt', () => {
      const relabelled = Buffer.from(mac);
      relabelled.writeUInt8(1, 3);
      expect(errorOf(() => decrypt(material, ref.tenantId, relabelled))).toBeInstanceOf(AuthenticationFailed);
    });
  });
});

describe('data plane with AES-128 and AES-192 keys', () => {
  const ref: MaterialRef = { tenantId: 'tenant_a', keyId: 'short', version: 1 };
  const plaintext = Buffer.from('sized by the key');

  it.each([
    [16, 'AES-128-GCM'],
    [24, 'AES-192-GCM'],
    [32, 'AES-256-GCM'],
  ] as const)('a %i-byte key makes %s blobs that round-trip with AAD', (bytes, algorithm) => {
    const material = randomBytes(bytes);
    const blob = encryptBlob(material, ref, plaintext, Buffer.from('aad'));
    expect(parseBlob(blob).algorithm).toBe(algorithm);
    expect(decrypt(material, ref.tenantId, blob, Buffer.from('aad'))).toEqual(plaintext);
    expect(errorOf(() => decrypt(material, ref.tenantId, blob, Buffer.from('other')))).toBeInstanceOf(AuthenticationFailed);
  });

  it('refuses a key of another length than the blob says, and keys that are not AES lengths', () => {
    const blob = encryptBlob(randomBytes(16), ref, plaintext);
    expect(errorOf(() => decrypt(randomBytes(32), ref.tenantId, blob))).toBeInstanceOf(AuthenticationFailed);
    expect(errorOf(() => decrypt(randomBytes(24), ref.tenantId, blob))).toBeInstanceOf(AuthenticationFailed);
    expect(() => encryptBlob(randomBytes(20), ref, plaintext)).toThrow(RangeError);
    expect(errorOf(() => decrypt(randomBytes(32), ref.tenantId, macBlob(randomBytes(32), ref, plaintext)))).toBeInstanceOf(MalformedBlob);
  });
});
