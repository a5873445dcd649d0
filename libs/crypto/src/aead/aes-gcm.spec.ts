import { createDecipheriv, randomBytes } from 'node:crypto';
import { AuthenticationFailed } from '../errors';
import {
  aesGcmCipher,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  openAesGcm,
  openAnyAesGcm,
  packSealed,
  type Sealed,
  sealAesGcm,
  sealAnyAesGcm,
  unpackSealed,
} from './aes-gcm';

const MASKS = [0x01, 0x80, 0xff] as const;

/** A copy of `bytes` with the byte at `at` XORed with `mask`. */
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

describe('AES-256-GCM', () => {
  const key = randomBytes(32);
  const aad = Buffer.from('associated data');
  const plaintext = Buffer.from('attack at dawn!');

  describe('sealAesGcm / openAesGcm', () => {
    it('round-trips', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      expect(openAesGcm(key, sealed, aad)).toEqual(plaintext);
    });

    it.each([
      ['empty', 0],
      ['one byte', 1],
      ['one block', 16],
      ['block + 1', 17],
      ['64 KiB', 64 * 1024],
    ])('round-trips a %s plaintext, ciphertext as long as the plaintext', (_name, length) => {
      const message = randomBytes(length);
      const sealed = sealAesGcm(key, message, aad);
      expect(sealed.iv).toHaveLength(GCM_IV_BYTES);
      expect(sealed.tag).toHaveLength(GCM_TAG_BYTES);
      expect(sealed.ciphertext).toHaveLength(length);
      expect(openAesGcm(key, sealed, aad)).toEqual(message);
    });

    it('round-trips with an empty AAD', () => {
      const sealed = sealAesGcm(key, plaintext, Buffer.alloc(0));
      expect(openAesGcm(key, sealed, Buffer.alloc(0))).toEqual(plaintext);
    });

    it('does not leak the plaintext into the ciphertext', () => {
      const message = Buffer.alloc(64, 'A');
      const sealed = sealAesGcm(key, message, aad);
      expect(sealed.ciphertext.equals(message)).toBe(false);
      expect(packSealed(sealed).includes(Buffer.alloc(16, 'A'))).toBe(false);
    });

    it('is standard AES-256-GCM with a 96-bit IV and a 128-bit tag', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: 16 });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.tag);
      expect(Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()])).toEqual(plaintext);
    });

    it('uses a fresh IV for every seal (no IV repeats across many seals)', () => {
      const count = 10_000;
      const ivs = new Set<string>();
      for (let i = 0; i < count; i++) ivs.add(sealAesGcm(key, plaintext, aad).iv.toString('hex'));
      expect(ivs.size).toBe(count);
    });

    it('produces different ciphertexts and tags for the same input', () => {
      const a = sealAesGcm(key, plaintext, aad);
      const b = sealAesGcm(key, plaintext, aad);
      expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
      expect(a.tag.equals(b.tag)).toBe(false);
    });

    it('fails with a different key', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      expect(() => openAesGcm(randomBytes(32), sealed, aad)).toThrow(AuthenticationFailed);
    });

    it('fails with a key differing in a single bit', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      for (let at = 0; at < key.length; at++) {
        expect(() => openAesGcm(flipped(key, at, 0x01), sealed, aad)).toThrow(AuthenticationFailed);
      }
    });

    it.each([0, 1, 16, 24, 31, 33, 64])('refuses a %i-byte key with RangeError, sealing and opening', (length) => {
      const sealed = sealAesGcm(key, plaintext, aad);
      expect(() => sealAesGcm(Buffer.alloc(length, 1), plaintext, aad)).toThrow(RangeError);
      expect(() => openAesGcm(Buffer.alloc(length, 1), sealed, aad)).toThrow(RangeError);
    });

    describe('tampering', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      const parts = ['iv', 'tag', 'ciphertext'] as const;

      it.each(parts)('throws AuthenticationFailed for every single flipped byte of the %s', (part) => {
        for (let at = 0; at < sealed[part].length; at++) {
          for (const mask of MASKS) {
            const tampered: Sealed = { ...sealed, [part]: flipped(sealed[part], at, mask) };
            const error = errorOf(() => openAesGcm(key, tampered, aad));
            expect(error).toBeInstanceOf(AuthenticationFailed);
          }
        }
      });

      it('throws AuthenticationFailed for every single flipped byte of the AAD', () => {
        for (let at = 0; at < aad.length; at++) {
          for (const mask of MASKS) {
            expect(() => openAesGcm(key, sealed, flipped(aad, at, mask))).toThrow(AuthenticationFailed);
          }
        }
      });

      it('throws AuthenticationFailed for a truncated, extended or missing AAD', () => {
        expect(() => openAesGcm(key, sealed, aad.subarray(0, aad.length - 1))).toThrow(AuthenticationFailed);
        expect(() => openAesGcm(key, sealed, Buffer.concat([aad, Buffer.from([0])]))).toThrow(AuthenticationFailed);
        expect(() => openAesGcm(key, sealed, Buffer.alloc(0))).toThrow(AuthenticationFailed);
      });

      it('throws AuthenticationFailed for a truncated or extended ciphertext', () => {
        for (let length = 0; length < sealed.ciphertext.length; length++) {
          const tampered = { ...sealed, ciphertext: sealed.ciphertext.subarray(0, length) };
          expect(() => openAesGcm(key, tampered, aad)).toThrow(AuthenticationFailed);
        }
        const extended = { ...sealed, ciphertext: Buffer.concat([sealed.ciphertext, Buffer.from([0])]) };
        expect(() => openAesGcm(key, extended, aad)).toThrow(AuthenticationFailed);
      });

      it('throws AuthenticationFailed (not a TypeError) for a truncated tag, which GCM would otherwise accept', () => {
        for (const length of [0, 1, 4, 8, 12, 13, 15]) {
          const error = errorOf(() => openAesGcm(key, { ...sealed, tag: sealed.tag.subarray(0, length) }, aad));
          expect(error).toBeInstanceOf(AuthenticationFailed);
        }
        const longer = { ...sealed, tag: Buffer.concat([sealed.tag, Buffer.from([0])]) };
        expect(errorOf(() => openAesGcm(key, longer, aad))).toBeInstanceOf(AuthenticationFailed);
      });

      it('throws AuthenticationFailed for an IV of any other length', () => {
        for (const iv of [Buffer.alloc(0), sealed.iv.subarray(0, 11), Buffer.concat([sealed.iv, Buffer.alloc(4)]), Buffer.alloc(16)]) {
          expect(errorOf(() => openAesGcm(key, { ...sealed, iv }, aad))).toBeInstanceOf(AuthenticationFailed);
        }
      });

      it('throws AuthenticationFailed when parts are swapped between two sealed values', () => {
        const other = sealAesGcm(key, plaintext, aad);
        expect(() => openAesGcm(key, { ...sealed, iv: other.iv }, aad)).toThrow(AuthenticationFailed);
        expect(() => openAesGcm(key, { ...sealed, tag: other.tag }, aad)).toThrow(AuthenticationFailed);
        expect(() => openAesGcm(key, { ...sealed, ciphertext: other.ciphertext }, aad)).toThrow(AuthenticationFailed);
      });

      it('says nothing about what failed', () => {
        const error = errorOf(() => openAesGcm(randomBytes(32), sealed, aad));
        expect(error).toBeInstanceOf(AuthenticationFailed);
        expect((error as Error).message).toBe('authentication failed');
      });
    });
  });

  describe('packSealed / unpackSealed', () => {
    it('packs as iv ‖ tag ‖ ciphertext', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      const packed = packSealed(sealed);
      expect(packed).toEqual(Buffer.concat([sealed.iv, sealed.tag, sealed.ciphertext]));
      expect(packed).toHaveLength(GCM_IV_BYTES + GCM_TAG_BYTES + plaintext.length);
    });

    it('round-trips through pack, unpack and open', () => {
      const sealed = sealAesGcm(key, plaintext, aad);
      const unpacked = unpackSealed(packSealed(sealed));
      expect(unpacked).toEqual(sealed);
      expect(openAesGcm(key, unpacked, aad)).toEqual(plaintext);
    });

    it('round-trips an empty plaintext (packed value of exactly iv + tag)', () => {
      const packed = packSealed(sealAesGcm(key, Buffer.alloc(0), aad));
      expect(packed).toHaveLength(GCM_IV_BYTES + GCM_TAG_BYTES);
      expect(openAesGcm(key, unpackSealed(packed), aad)).toEqual(Buffer.alloc(0));
    });

    it('throws AuthenticationFailed for every truncation of a packed value', () => {
      const packed = packSealed(sealAesGcm(key, plaintext, aad));
      for (let length = 0; length < packed.length; length++) {
        const error = errorOf(() => openAesGcm(key, unpackSealed(packed.subarray(0, length)), aad));
        expect(error).toBeInstanceOf(AuthenticationFailed);
      }
    });

    it('throws AuthenticationFailed from unpackSealed itself when shorter than iv + tag', () => {
      for (let length = 0; length < GCM_IV_BYTES + GCM_TAG_BYTES; length++) {
        expect(() => unpackSealed(Buffer.alloc(length))).toThrow(AuthenticationFailed);
      }
    });

    it('throws AuthenticationFailed for every single flipped byte of a packed value', () => {
      const packed = packSealed(sealAesGcm(key, plaintext, aad));
      for (let at = 0; at < packed.length; at++) {
        for (const mask of MASKS) {
          expect(errorOf(() => openAesGcm(key, unpackSealed(flipped(packed, at, mask)), aad))).toBeInstanceOf(AuthenticationFailed);
        }
      }
    });
  });
});

describe('AES-GCM under 128-, 192- and 256-bit data keys', () => {
  it.each([16, 24, 32])('seals and opens under a %i-byte key; other lengths are RangeErrors', (bytes) => {
    const key = Buffer.alloc(bytes, 7);
    const sealed = sealAnyAesGcm(key, Buffer.from('data'), Buffer.from('aad'));
    expect(openAnyAesGcm(key, sealed, Buffer.from('aad'))).toEqual(Buffer.from('data'));
    expect(aesGcmCipher(bytes)).toBe(`aes-${bytes * 8}-gcm`);
  });

  it('refuses other key lengths', () => {
    for (const bytes of [0, 15, 20, 31, 33, 64])
      expect(() => sealAnyAesGcm(Buffer.alloc(bytes), Buffer.alloc(1), Buffer.alloc(0))).toThrow(RangeError);
  });
});
