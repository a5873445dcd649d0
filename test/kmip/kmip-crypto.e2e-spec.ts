import { createCipheriv } from 'node:crypto';
import { join } from 'node:path';
import { parseBlob } from '@keyward/crypto';
import {
  asBytes,
  asEnum,
  asText,
  BlockCipherMode,
  child,
  children,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
  ttlv,
  UsageLimitsUnit,
  type TtlvItem,
} from '@keyward/kmip';
import { KeywardStack } from '../support/keyward-stack';
import { freePort } from '../support/ports';
import { KmipService } from './kmip-service';
import { TtlvClient } from './ttlv-client';
import { boundCertificate } from './bound-certificate';

jest.setTimeout(300_000);

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

interface Item {
  status?: number;
  reason?: number;
  payload?: TtlvItem;
}

/**
 * KMIP's crypto services against the real kmip service, Kafka and FerretDB: a tenant-admin
 * registers and creates keys over KMIP, a key-user uses them (the OASIS 1.4 mandatory cases' known
 * answers), REST refuses KMIP keys, and a REST ciphertext stays out of reach of every KMIP mode.
 */
describe('KMIP crypto services: modes, parameters, MAC, 3DES, RNG, Hash and KMIP/REST key separation', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let ca: string;
  let tenantId: string;
  let admin: string;
  let restUser: string;
  let adminCert: [string, string];
  let userCert: [string, string];
  let adminClient: TtlvClient;
  let userClient: TtlvClient;

  const send = async (client: TtlvClient, op: number, payload: TtlvItem[]): Promise<Item> => {
    const response = await client.request([1, 4], [[op, payload]]);
    const item = children(response ?? undefined, Tag.BatchItem)[0];
    return {
      status: asEnum(child(item, Tag.ResultStatus)),
      reason: asEnum(child(item, Tag.ResultReason)),
      payload: child(item, Tag.ResponsePayload),
    };
  };
  const ok = (item: Item): Item => {
    expect([item.status, item.reason]).toEqual([ResultStatus.Success, undefined]);
    return item;
  };
  const uid = (id: string): TtlvItem => ttlv.text(Tag.UniqueIdentifier, id);
  const data = (d: Buffer): TtlvItem => ttlv.bytes(Tag.Data, d);
  const params = (...items: TtlvItem[]): TtlvItem => ttlv.struct(Tag.CryptographicParameters, items);
  const mode = (m: number): TtlvItem => ttlv.enum(Tag.BlockCipherMode, m);
  const bytesOf = (item: Item, tag: number = Tag.Data): Buffer | undefined => asBytes(child(ok(item).payload, tag));

  const attribute = (name: string, value: TtlvItem): TtlvItem =>
    ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue }]);

  /** Register (as the tenant-admin, over KMIP) and activate a symmetric key; its id. */
  async function register(material: Buffer, algorithm: number, bits: number, attributes: TtlvItem[] = []): Promise<string> {
    const registered = ok(
      await send(adminClient, Operation.Register, [
        ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        ttlv.struct(Tag.TemplateAttribute, attributes),
        ttlv.struct(Tag.SymmetricKey, [
          ttlv.struct(Tag.KeyBlock, [
            ttlv.enum(Tag.KeyFormatType, KeyFormatType.Raw),
            ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, material)]),
            ttlv.enum(Tag.CryptographicAlgorithm, algorithm),
            ttlv.int(Tag.CryptographicLength, bits),
          ]),
        ]),
      ]),
    );
    const id = asText(child(registered.payload, Tag.UniqueIdentifier)) ?? '';
    ok(await send(adminClient, Operation.Activate, [uid(id)]));
    return id;
  }

  beforeAll(async () => {
    await stack.start();
    ({ tenantId, adminKey: admin } = await stack.onboard());
    // No dual control in this tenant: the legacy-encryption policy switch below is a single call.
    expect((await stack.call(admin, 'PUT', '/v1/tenant/policy', { dualControl: { quorum: 1, operations: [] } })).status).toBe(200);
    restUser = await stack.principal(admin, 'key-user');
    adminCert = await boundCertificate(stack, admin, tenantId, 'tenant-admin');
    userCert = await boundCertificate(stack, admin, tenantId, 'key-user');
    ca = join(stack.dataDir, 'tls', 'ca.crt');
    kmip = await KmipService.start(stack.env, await freePort());
    adminClient = await TtlvClient.open(kmip.port, ca, adminCert);
    userClient = await TtlvClient.open(kmip.port, ca, userCert);
  });

  afterAll(async () => {
    adminClient.close();
    userClient.close();
    await kmip.stop();
    await stack.stop();
  });

  it('CS-BC-M-4/9-14 and CS-BC-M-GCM-1-14 known answers; tampered tag, IV and data are Cryptographic Failures', async () => {
    const ecbKey = await register(hex('0123456789abcdef0123456789abcdef'), CryptographicAlgorithm.AES, 128);
    const ecb = await send(userClient, Operation.Encrypt, [
      uid(ecbKey),
      params(mode(BlockCipherMode.ECB)),
      data(hex('01020304050607080910111213141516')),
    ]);
    expect(bytesOf(ecb)).toEqual(hex('d9bcce11b0b437b90239552df3a360c9'));
    expect(child(ecb.payload, Tag.IvCounterNonce)).toBeUndefined();
    const pkcs5 = params(mode(BlockCipherMode.ECB), ttlv.enum(Tag.PaddingMethod, 3));
    const padded = await send(userClient, Operation.Encrypt, [
      uid(ecbKey),
      pkcs5,
      data(hex('010203040506070809101112131415160102030405060708091011121314151601')),
    ]);
    expect(bytesOf(padded)?.toString('hex')).toBe(
      'd9bcce11b0b437b90239552df3a360c9d9bcce11b0b437b90239552df3a360c9be261a7bd1371bb738fe004d500381d0',
    );

    const gcmKey = await register(Buffer.alloc(16), CryptographicAlgorithm.AES, 128);
    const gcm = (tag = 16): TtlvItem => params(mode(BlockCipherMode.GCM), ttlv.int(Tag.TagLength, tag));
    const iv = (b: Buffer = Buffer.alloc(12)): TtlvItem => ttlv.bytes(Tag.IvCounterNonce, b);
    const enc = await send(userClient, Operation.Encrypt, [uid(gcmKey), gcm(), data(Buffer.alloc(16)), iv()]);
    expect(bytesOf(enc)).toEqual(hex('0388dace60b6a392f328c2b971b2fe78'));
    expect(bytesOf(enc, Tag.AuthenticatedEncryptionTag)).toEqual(hex('ab6e47d42cec13bdf53a67b21257bddf'));
    const tag = (t: string): TtlvItem => ttlv.bytes(Tag.AuthenticatedEncryptionTag, hex(t));
    const cipher = data(hex('0388dace60b6a392f328c2b971b2fe78'));
    expect(
      bytesOf(await send(userClient, Operation.Decrypt, [uid(gcmKey), gcm(), cipher, iv(), tag('ab6e47d42cec13bdf53a67b21257bddf')])),
    ).toEqual(Buffer.alloc(16));
    for (const tampered of [
      [uid(gcmKey), gcm(), cipher, iv(), tag('006e47d42cec13bdf53a67b21257bddf')],
      [uid(gcmKey), gcm(), cipher, iv(hex('ff0000000000000000000000')), tag('ab6e47d42cec13bdf53a67b21257bddf')],
      [uid(gcmKey), gcm(), data(hex('ff88dace60b6a392f328c2b971b2fe78')), iv(), tag('ab6e47d42cec13bdf53a67b21257bddf')],
    ]) {
      expect((await send(userClient, Operation.Decrypt, tampered)).reason).toBe(ResultReason.CryptographicFailure);
    }
    expect(
      bytesOf(await send(userClient, Operation.Decrypt, [uid(gcmKey), gcm(12), cipher, iv(), tag('ab6e47d42cec13bdf53a67b2')])),
    ).toEqual(Buffer.alloc(16));
    expect((await send(userClient, Operation.Encrypt, [uid(gcmKey), gcm(1), data(Buffer.alloc(16)), iv()])).reason).toBe(
      ResultReason.GeneralFailure,
    );
    // A tenant-admin may register, not use.
    expect((await send(adminClient, Operation.Encrypt, [uid(gcmKey), gcm(), data(Buffer.alloc(16)), iv()])).reason).toBe(
      ResultReason.PermissionDenied,
    );
  });

  it("REST's data plane refuses a key created over KMIP", async () => {
    const id = await register(Buffer.alloc(32, 5), CryptographicAlgorithm.AES, 256);
    const restEncrypt = () => stack.call(restUser, 'POST', `/v1/keys/${id}/encrypt`, { plaintext: Buffer.from('x').toString('base64') });
    // key-api learns of the key from the event stream.
    await stack.api.waitFor(async () => (await restEncrypt()).status !== 404, 30_000);
    const refused = await restEncrypt();
    expect(refused.status).toBe(422);
    expect(refused.json<{ type: string; detail: string }>().detail).toContain('used over KMIP only');
    await stack.api.waitFor(async () => (await stack.call(admin, 'GET', `/v1/keys/${id}`)).status === 200, 30_000);
    expect((await stack.call(admin, 'GET', `/v1/keys/${id}`)).json<{ kmipOnly?: boolean }>().kmipOnly).toBe(true);
  });

  it('a REST ciphertext is out of reach of every KMIP mode: GCM decrypt, CTR or ECB keystream with its counter blocks', async () => {
    const created = await stack.call(admin, 'POST', '/v1/keys', { keyType: 'AES-256-GCM', activate: true });
    const keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    const secret = Buffer.from('the REST secret!');
    const encrypted = await stack.call(restUser, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: secret.toString('base64') });
    expect(encrypted.status).toBe(200);
    const { body } = parseBlob(Buffer.from(encrypted.json<{ ciphertext: string }>().ciphertext, 'base64'));
    const blob = { iv: body.subarray(0, 12), tag: body.subarray(12, 28), ciphertext: body.subarray(28) };
    // GCM's keystream for a 12-byte IV starts at counter block IV || 00000002.
    const counter = Buffer.concat([blob.iv, hex('00000002')]);
    const ctr = await send(userClient, Operation.Encrypt, [
      uid(keyId),
      params(mode(BlockCipherMode.CTR)),
      data(Buffer.alloc(blob.ciphertext.length)),
      ttlv.bytes(Tag.IvCounterNonce, counter),
    ]);
    const keystream = bytesOf(ctr) ?? Buffer.alloc(0);
    expect(Buffer.from(blob.ciphertext.map((b, i) => b ^ (keystream[i] ?? 0))).equals(secret)).toBe(false);
    const ecb = await send(userClient, Operation.Encrypt, [uid(keyId), params(mode(BlockCipherMode.ECB)), data(counter)]);
    const block = bytesOf(ecb) ?? Buffer.alloc(0);
    expect(Buffer.from(blob.ciphertext.subarray(0, 16).map((b, i) => b ^ (block[i] ?? 0))).equals(secret)).toBe(false);
    const gcm = await send(userClient, Operation.Decrypt, [
      uid(keyId),
      params(mode(BlockCipherMode.GCM)),
      data(blob.ciphertext),
      ttlv.bytes(Tag.IvCounterNonce, blob.iv),
      ttlv.bytes(Tag.AuthenticatedEncryptionTag, blob.tag),
    ]);
    expect(gcm.reason).toBe(ResultReason.CryptographicFailure);
    // And the REST ciphertext still decrypts over REST.
    const back = await stack.call(restUser, 'POST', '/v1/decrypt', { ciphertext: encrypted.json<{ ciphertext: string }>().ciphertext });
    expect(Buffer.from(back.json<{ plaintext: string }>().plaintext, 'base64').equals(secret)).toBe(true);
    // Sanity of the check itself: the same keystream under a KMIP key does open what that key encrypted in GCM.
    const kmipKey = await register(Buffer.alloc(32, 9), CryptographicAlgorithm.AES, 256);
    const local = createCipheriv('aes-256-gcm', Buffer.alloc(32, 9), blob.iv);
    const mine = Buffer.concat([local.update(secret), local.final()]);
    const stream = bytesOf(
      await send(userClient, Operation.Encrypt, [
        uid(kmipKey),
        params(mode(BlockCipherMode.CTR)),
        data(Buffer.alloc(16)),
        ttlv.bytes(Tag.IvCounterNonce, counter),
      ]),
    );
    expect(Buffer.from(mine.map((b, i) => b ^ (stream?.[i] ?? 0))).equals(secret)).toBe(true);
  });

  it('HMAC-SHA1 (RFC 2202 vector), 3DES under the legacy policy (SP 800-67 vector), RNG Retrieve and Hash', async () => {
    const sha1 = await register(Buffer.alloc(20, 0x0b), CryptographicAlgorithm.HMAC_SHA1, 160);
    const mac = await send(userClient, Operation.Mac, [uid(sha1), data(Buffer.from('Hi There'))]);
    expect(bytesOf(mac, Tag.MacData)?.toString('hex')).toBe('b617318655057264e28bc0b6fb378c8ef146be00');

    const tdes = await register(hex('0123456789abcdef23456789abcdef01456789abcdef0123'), CryptographicAlgorithm.TRIPLE_DES, 168);
    const plain = data(Buffer.from('The qufck brown fox jump', 'latin1'));
    const ecb = params(mode(BlockCipherMode.ECB));
    expect((await send(userClient, Operation.Encrypt, [uid(tdes), ecb, plain])).reason).toBe(ResultReason.PermissionDenied);
    const allowed = await stack.call(admin, 'PUT', '/v1/tenant/policy', { allowLegacyEncryption: true });
    expect([allowed.status, allowed.json<{ allowLegacyEncryption: boolean }>().allowLegacyEncryption]).toEqual([200, true]);
    await stack.api.waitFor(
      async () => (await send(userClient, Operation.Encrypt, [uid(tdes), ecb, plain])).status === ResultStatus.Success,
      30_000,
    );
    expect(bytesOf(await send(userClient, Operation.Encrypt, [uid(tdes), ecb, plain]))?.toString('hex')).toBe(
      'a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900',
    );
    await stack.api.waitFor(async () => (await stack.call(admin, 'GET', `/v1/keys/${tdes}`)).status === 200, 30_000);
    expect((await stack.call(admin, 'GET', `/v1/keys/${tdes}`)).json<{ keyType: string }>().keyType).toBe('TDES-168');
    // REST cannot create KMIP-only key types.
    expect((await stack.call(admin, 'POST', '/v1/keys', { keyType: 'TDES-168' })).status).toBe(400);

    expect(bytesOf(await send(userClient, Operation.RngRetrieve, [ttlv.int(Tag.DataLength, 32)]))).toHaveLength(32);
    const hashed = await send(adminClient, Operation.Hash, [params(ttlv.enum(Tag.HashingAlgorithm, 6)), data(Buffer.from('abc'))]);
    expect(bytesOf(hashed)?.toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('key reuse: an AES key MACs only when its client asked for it and the tenant policy allows key reuse (CS-AC-M-4-14 answer)', async () => {
    const { Encrypt, Decrypt, MacGenerate, MacVerify } = CryptographicUsageMask;
    const material = hex('0123456789abcdef0123456789abcdef');
    const hmac = attribute('Cryptographic Parameters', params(ttlv.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.HMAC_SHA256)));
    const asked = await register(material, CryptographicAlgorithm.AES, 128, [
      attribute('Cryptographic Usage Mask', ttlv.int(0, Encrypt | Decrypt | MacGenerate | MacVerify)),
      hmac,
    ]);
    const notAsked = await register(material, CryptographicAlgorithm.AES, 128, [
      attribute('Cryptographic Usage Mask', ttlv.int(0, Encrypt | Decrypt)),
      hmac,
    ]);
    const input = data(hex('01020304050607080910111213141516'));
    // Off by default: Permission Denied, as for legacy encryption.
    expect((await send(userClient, Operation.Mac, [uid(asked), input])).reason).toBe(ResultReason.PermissionDenied);
    const allowed = await stack.call(admin, 'PUT', '/v1/tenant/policy', { allowKeyReuse: true });
    expect([allowed.status, allowed.json<{ allowKeyReuse: boolean }>().allowKeyReuse]).toEqual([200, true]);
    await stack.api.waitFor(
      async () => (await send(userClient, Operation.Mac, [uid(asked), input])).status === ResultStatus.Success,
      30_000,
    );
    expect(bytesOf(await send(userClient, Operation.Mac, [uid(asked), input]), Tag.MacData)?.toString('hex')).toBe(
      'c911e78196d64c30f631bb079ea37b97a95936d4da764d6a171df030c895ecf9',
    );
    // A key whose client did not ask for MAC never MACs, whatever the policy.
    expect((await send(userClient, Operation.Mac, [uid(notAsked), input])).reason).toBe(ResultReason.IllegalOperation);
    // REST never uses either (KMIP keys).
    const rest = await stack.call(restUser, 'POST', `/v1/keys/${asked}/mac`, { data: 'aGk=' });
    expect(rest.status).toBeGreaterThanOrEqual(400);
    expect(rest.status).toBeLessThan(500);
    const off = await stack.call(admin, 'PUT', '/v1/tenant/policy', { allowKeyReuse: false });
    expect(off.status).toBe(200);
    await stack.api.waitFor(
      async () => (await send(userClient, Operation.Mac, [uid(asked), input])).reason === ResultReason.PermissionDenied,
      30_000,
    );
  });

  it('Usage Limits are answered back and counted across two kmip processes: the fourth use of a 3-object limit is refused', async () => {
    const limits = ttlv.struct(0, [ttlv.long(Tag.UsageLimitsTotal, 3n), ttlv.enum(Tag.UsageLimitsUnit, UsageLimitsUnit.Object)]);
    const key = await register(hex('0123456789abcdef0123456789abcdef'), CryptographicAlgorithm.AES, 128, [
      attribute('Usage Limits', limits),
    ]);
    const read = ok(await send(userClient, Operation.GetAttributes, [uid(key), ttlv.text(Tag.AttributeName, 'Usage Limits')]));
    const value = child(child(read.payload, Tag.Attribute), Tag.AttributeValue);
    expect(child(value, Tag.UsageLimitsTotal)?.value).toBe(3n);
    expect(asEnum(child(value, Tag.UsageLimitsUnit))).toBe(UsageLimitsUnit.Object);
    // A client cannot raise it afterwards.
    expect((await send(adminClient, Operation.ModifyAttribute, [uid(key), attribute('Usage Limits', limits)])).status).toBe(
      ResultStatus.OperationFailed,
    );
    const other = await KmipService.start(stack.env, await freePort());
    const otherClient = await TtlvClient.open(other.port, ca, userCert);
    try {
      const encrypt = (client: TtlvClient): Promise<Item> =>
        send(client, Operation.Encrypt, [uid(key), params(mode(BlockCipherMode.ECB)), data(Buffer.alloc(16, 1))]);
      ok(await encrypt(userClient));
      ok(await encrypt(userClient));
      ok(await encrypt(otherClient));
      const refused = await encrypt(otherClient);
      expect([refused.status, refused.reason]).toEqual([ResultStatus.OperationFailed, ResultReason.PermissionDenied]);
      expect((await encrypt(userClient)).reason).toBe(ResultReason.PermissionDenied);
      // Decrypting what it protected costs nothing.
      const decrypted = await send(userClient, Operation.Decrypt, [uid(key), params(mode(BlockCipherMode.ECB)), data(Buffer.alloc(16, 2))]);
      expect(bytesOf(decrypted)).toHaveLength(16);
    } finally {
      otherClient.close();
      await other.stop();
    }
  });
});
