import { digestAvailable, hashOf, hmacOf, DIGESTS, type DigestName } from './digests';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

describe('KMIP digests: known answers', () => {
  // RFC 4231 test case 1 (and RFC 2202 test case 1 for SHA-1): key 0x0b x 20, data "Hi There".
  it.each<[DigestName, string]>([
    ['SHA-1', 'b617318655057264e28bc0b6fb378c8ef146be00'],
    ['SHA-224', '896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22'],
    ['SHA-256', 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    ['SHA-384', 'afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6'],
    [
      'SHA-512',
      '87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854',
    ],
  ])('HMAC-%s (RFC 4231 / RFC 2202 test case 1)', (digest, expected) => {
    expect(hmacOf(digest, Buffer.alloc(20, 0x0b), Buffer.from('Hi There')).toString('hex')).toBe(expected);
  });

  it('HMAC-SHA-256 with a key shorter than the hash (RFC 4231 test case 2)', () => {
    expect(hmacOf('SHA-256', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'))).toEqual(
      hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'),
    );
  });

  it('SHA-256("abc") and SHA3-256("") (FIPS 180-4 / FIPS 202 examples)', () => {
    expect(hashOf('SHA-256', Buffer.from('abc')).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashOf('SHA3-256', Buffer.alloc(0)).toString('hex')).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  });

  it("every listed digest is available in this process's OpenSSL", () => {
    for (const name of Object.keys(DIGESTS) as DigestName[]) expect(digestAvailable(name)).toBe(true);
  });
});
