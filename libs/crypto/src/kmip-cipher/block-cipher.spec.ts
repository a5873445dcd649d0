import { AuthenticationFailed } from '../errors';
import { blockDecrypt, blockEncrypt, BlockCipherParameterError, type BlockCipherRequest } from './block-cipher';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

// NIST SP 800-38A, appendix F: AES-128 key and the first two plaintext blocks.
const SP800_38A_KEY = hex('2b7e151628aed2a6abf7158809cf4f3c');
const SP800_38A_PLAIN = hex('6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51');

const aes = (mode: BlockCipherRequest['mode'], extra: Partial<BlockCipherRequest> = {}): BlockCipherRequest => ({
  algorithm: 'AES',
  mode,
  padding: 'none',
  key: SP800_38A_KEY,
  ...extra,
});

describe('KMIP block ciphers: known answers', () => {
  it('AES-128-ECB (SP 800-38A F.1.1/F.1.2)', () => {
    const expected = hex('3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf');
    expect(blockEncrypt(aes('ECB'), SP800_38A_PLAIN).data).toEqual(expected);
    expect(blockDecrypt(aes('ECB'), expected)).toEqual(SP800_38A_PLAIN);
  });

  it('AES-128-CBC (SP 800-38A F.2.1/F.2.2)', () => {
    const request = aes('CBC', { iv: hex('000102030405060708090a0b0c0d0e0f') });
    const expected = hex('7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2');
    expect(blockEncrypt(request, SP800_38A_PLAIN).data).toEqual(expected);
    expect(blockDecrypt(request, expected)).toEqual(SP800_38A_PLAIN);
  });

  it('AES-128-CTR (SP 800-38A F.5.1/F.5.2)', () => {
    const request = aes('CTR', { iv: hex('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff') });
    const expected = hex('874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff');
    expect(blockEncrypt(request, SP800_38A_PLAIN).data).toEqual(expected);
    expect(blockDecrypt(request, expected)).toEqual(SP800_38A_PLAIN);
  });

  it('AES-128-ECB with PKCS#5 padding (OASIS CS-BC-M-9-14)', () => {
    const request: BlockCipherRequest = { algorithm: 'AES', mode: 'ECB', padding: 'pkcs5', key: hex('0123456789abcdef0123456789abcdef') };
    const plain = hex('010203040506070809101112131415160102030405060708091011121314151601');
    const expected = hex('d9bcce11b0b437b90239552df3a360c9d9bcce11b0b437b90239552df3a360c9be261a7bd1371bb738fe004d500381d0');
    expect(blockEncrypt(request, plain).data).toEqual(expected);
    expect(blockDecrypt(request, expected)).toEqual(plain);
  });

  // GCM spec test vectors (McGrew and Viega), test cases 2, 5 (8-byte IV) and 6 (60-byte IV).
  it('AES-128-GCM with a 12-byte IV (test case 2, OASIS CS-BC-M-GCM-1-14)', () => {
    const request = aes('GCM', { key: Buffer.alloc(16), iv: Buffer.alloc(12) });
    const out = blockEncrypt(request, Buffer.alloc(16));
    expect(out.data).toEqual(hex('0388dace60b6a392f328c2b971b2fe78'));
    expect(out.tag).toEqual(hex('ab6e47d42cec13bdf53a67b21257bddf'));
    // A truncated tag with Tag Length 12 verifies (the OASIS case expects it to).
    expect(blockDecrypt({ ...request, tagLength: 12 }, out.data, out.tag?.subarray(0, 12))).toEqual(Buffer.alloc(16));
  });

  const GCM_KEY = hex('feffe9928665731c6d6a8f9467308308');
  const GCM_PLAIN = hex(
    'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
  );
  const GCM_AAD = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');

  it.each([
    {
      name: 'test case 5, 8-byte IV',
      iv: 'cafebabefacedbad',
      data: '61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c742373806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598',
      tag: '3612d2e79e3b0785561be14aaca2fccb',
    },
    {
      name: 'test case 6, 60-byte IV',
      iv: '9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b',
      data: '8ce24998625615b603a033aca13fb894be9112a5c3a211a8ba262a3cca7e2ca701e4a9a4fba43c90ccdcb281d48c7c6fd62875d2aca417034c34aee5',
      tag: '619cc5aefffe0bfa462af43c1699d050',
    },
  ])('AES-128-GCM, $name', ({ iv, data, tag }) => {
    const request = aes('GCM', { key: GCM_KEY, iv: hex(iv), aad: GCM_AAD });
    const out = blockEncrypt(request, GCM_PLAIN);
    expect(out.data).toEqual(hex(data));
    expect(out.tag).toEqual(hex(tag));
    expect(blockDecrypt(request, hex(data), hex(tag))).toEqual(GCM_PLAIN);
  });

  it('three-key Triple DES in ECB (SP 800-67 example)', () => {
    const request: BlockCipherRequest = {
      algorithm: 'TDES',
      mode: 'ECB',
      padding: 'none',
      key: hex('0123456789abcdef 23456789abcdef01 456789abcdef0123'),
    };
    const plain = Buffer.from('The qufck brown fox jump', 'latin1');
    const expected = hex('a826fd8ce53b855f cce21c8112256fe6 68d5c05dd9b6b900');
    expect(blockEncrypt(request, plain).data).toEqual(expected);
    expect(blockDecrypt(request, expected)).toEqual(plain);
  });

  it('three-key Triple DES in CBC round-trips with PKCS#5 padding', () => {
    const request: BlockCipherRequest = {
      algorithm: 'TDES',
      mode: 'CBC',
      padding: 'pkcs5',
      key: Buffer.alloc(24, 7),
      iv: Buffer.alloc(8, 1),
    };
    const out = blockEncrypt(request, Buffer.from('eleven byte'));
    expect(out.data).toHaveLength(16);
    expect(blockDecrypt(request, out.data).toString()).toBe('eleven byte');
  });
});

describe('KMIP block ciphers: refusals and tampering', () => {
  const gcm = aes('GCM', { key: Buffer.alloc(32, 3), iv: Buffer.alloc(12, 9), aad: Buffer.from('aad') });

  it('a changed GCM tag, IV, ciphertext byte or AAD is an authentication failure', () => {
    const out = blockEncrypt(gcm, Buffer.from('attack at dawn'));
    const tag = out.tag ?? Buffer.alloc(0);
    const flip = (b: Buffer): Buffer => Buffer.concat([Buffer.from([(b[0] ?? 0) ^ 1]), b.subarray(1)]);
    expect(() => blockDecrypt(gcm, out.data, flip(tag))).toThrow(AuthenticationFailed);
    expect(() => blockDecrypt({ ...gcm, iv: flip(Buffer.alloc(12, 9)) }, out.data, tag)).toThrow(AuthenticationFailed);
    expect(() => blockDecrypt(gcm, flip(out.data), tag)).toThrow(AuthenticationFailed);
    expect(() => blockDecrypt({ ...gcm, aad: Buffer.from('aaD') }, out.data, tag)).toThrow(AuthenticationFailed);
  });

  it('GCM takes IVs of 1-128 bytes and tags of 12-16 bytes, nothing else', () => {
    for (const iv of [1, 12, 13, 64, 128]) expect(() => blockEncrypt({ ...gcm, iv: Buffer.alloc(iv) }, Buffer.alloc(3))).not.toThrow();
    for (const iv of [0, 129])
      expect(() => blockEncrypt({ ...gcm, iv: Buffer.alloc(iv) }, Buffer.alloc(3))).toThrow(BlockCipherParameterError);
    for (const tagLength of [12, 13, 14, 15, 16]) expect(blockEncrypt({ ...gcm, tagLength }, Buffer.alloc(3)).tag).toHaveLength(tagLength);
    for (const tagLength of [1, 4, 8, 11, 17, 32])
      expect(() => blockEncrypt({ ...gcm, tagLength }, Buffer.alloc(3))).toThrow(BlockCipherParameterError);
    expect(() => blockDecrypt(gcm, Buffer.alloc(3))).toThrow(BlockCipherParameterError);
  });

  it('refuses what a mode cannot take instead of substituting', () => {
    expect(() => blockEncrypt(aes('ECB', { iv: Buffer.alloc(16) }), Buffer.alloc(16))).toThrow('ECB takes no IV');
    expect(() => blockEncrypt(aes('CBC', { iv: Buffer.alloc(12) }), Buffer.alloc(16))).toThrow('16 bytes');
    expect(() => blockEncrypt(aes('ECB'), Buffer.alloc(17))).toThrow('multiple of 16');
    expect(() => blockEncrypt(aes('CTR', { iv: Buffer.alloc(16), padding: 'pkcs5' }), Buffer.alloc(3))).toThrow('no padding');
    expect(() => blockEncrypt(aes('CBC', { iv: Buffer.alloc(16), tagLength: 16 }), Buffer.alloc(16))).toThrow('no additional data or tag');
    const tdes: BlockCipherRequest = { algorithm: 'TDES', mode: 'CTR', padding: 'none', key: Buffer.alloc(24), iv: Buffer.alloc(8) };
    let kind: string | undefined;
    try {
      blockEncrypt(tdes, Buffer.alloc(8));
    } catch (err: unknown) {
      kind = err instanceof BlockCipherParameterError ? err.kind : undefined;
    }
    expect(kind).toBe('unsupported');
  });

  it('bad PKCS#5 padding is an authentication failure, not a padding oracle message', () => {
    const request = aes('CBC', { iv: Buffer.alloc(16), padding: 'pkcs5' });
    const out = blockEncrypt(request, Buffer.from('hello'));
    const tampered = Buffer.from(out.data);
    tampered.writeUInt8(tampered.readUInt8(15) ^ 0x55, 15);
    expect(() => blockDecrypt(request, tampered)).toThrow(AuthenticationFailed);
  });
});
