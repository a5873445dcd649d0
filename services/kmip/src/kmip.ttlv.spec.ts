import { createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { keyCheckValue, matchesCheckValue, tenantCheckValue, withKmipAesGcmKey, type MaterialRef } from '@keyward/crypto';
import {
  decide,
  evolveCommit,
  stamp,
  TenantLog,
  type DecisionContext,
  type KeywardCommand,
  type KeywardEvent,
  type Role,
} from '@keyward/domain';
import type { CommandExecutor } from '@keyward/event-log';
import {
  asBool,
  asBytes,
  asEnum,
  asInt,
  asText,
  BlockCipherMode,
  child,
  children,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  decodeTtlv,
  EncodingOption,
  ItemType,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  RngAlgorithm,
  SecretDataType,
  State,
  Tag,
  ttlv,
  ValidityIndicator,
  WrappingMethod,
  type TtlvItem,
} from '@keyward/kmip';
import { MetricsRegistry } from '@keyward/platform';
import type { KeyMaterialService, UsageRecord, UsageRecorder } from '@keyward/keys';
import { KmipMetrics } from './kmip.metrics';
import { KmipOperations } from './kmip.operations';
import { writeResponse } from './kmip-reply';

// ---------------------------------------------------------------------------------------------
// A real domain behind a fake executor (decide → before-append hook → evolve, as the
// CommandExecutor does), an in-memory keystore and a usage recorder that keeps its records.
// ---------------------------------------------------------------------------------------------

const A = 'ten_alpha0001';
const B = 'ten_bravo0001';
const DAY = 86_400_000;

class FakeExecutor {
  readonly logs = new Map<string, TenantLog>();
  readonly commands: KeywardCommand[] = [];

  current(tenantId: string): Promise<TenantLog> {
    return Promise.resolve(this.logs.get(tenantId) ?? new TenantLog(tenantId));
  }

  async execute(
    tenantId: string,
    command: KeywardCommand,
    ctx: DecisionContext,
    beforeAppend?: (events: readonly KeywardEvent[]) => Promise<void>,
  ): Promise<{ seq: number }> {
    const log = this.logs.get(tenantId) ?? new TenantLog(tenantId);
    this.logs.set(tenantId, log);
    const events = stamp(decide(command, log, ctx), ctx);
    await beforeAppend?.(events);
    evolveCommit(log, { seq: log.seq + 1, events });
    this.commands.push(command);
    return { seq: log.seq };
  }

  /** Runs a command directly, as REST or the provider would (setup only). */
  run(tenantId: string, command: KeywardCommand, at = new Date(), role: Role = 'tenant-admin'): Promise<{ seq: number }> {
    return this.execute(tenantId, command, { now: at, actor: { principalId: 'prn_setup0001', role }, correlationId: 'setup' });
  }
}

class FakeMaterials {
  readonly store = new Map<string, Buffer>();
  /** Stands in for every tenant's KEK (tenant-keyed check values of SECRET keys). */
  readonly kek = randomBytes(32);
  private readonly id = (ref: MaterialRef): string => `${ref.tenantId}/${ref.keyId}/${ref.version}`;

  checkValue(tenantId: string, keyId: string, keyType: string, material: Buffer): Promise<string> {
    return Promise.resolve(keyType === 'SECRET' ? tenantCheckValue(this.kek, tenantId, keyId, material) : keyCheckValue(material));
  }

  storeNewMaterial(ref: MaterialRef, material: Buffer): Promise<string> {
    this.store.set(this.id(ref), Buffer.from(material));
    return Promise.resolve(keyCheckValue(material));
  }

  /** As KeyMaterialService: the material is checked against the version's check value first. */
  storeOutsideLog(ref: MaterialRef, material: Buffer): void {
    this.store.set(this.id(ref), Buffer.from(material));
  }

  withMaterial<T>(ref: MaterialRef, kcv: string, use: (material: Buffer) => T): Promise<T> {
    const material = this.store.get(this.id(ref));
    if (material === undefined || !matchesCheckValue(kcv, material, { kek: this.kek, ...ref }))
      return Promise.reject(new Error('no such material'));
    return Promise.resolve(use(material));
  }

  forgetKey(): void {}
}

const executor = new FakeExecutor();
const materials = new FakeMaterials();
const usage: UsageRecord[] = [];
const registry = new MetricsRegistry('kmip-spec');
const operations = new KmipOperations(
  executor as unknown as CommandExecutor,
  materials as unknown as KeyMaterialService,
  { record: (r: UsageRecord) => usage.push(r), admit: () => undefined } as unknown as UsageRecorder,
  new KmipMetrics(registry),
);

/** The identity a certificate with subject O=<tenantId>, CN=<principalId> presents; `serial` tells certificates with the same subject apart. */
const cert = (tenantId: string, principalId: string, serial = 0) => ({
  tenantId,
  principalId,
  fingerprint: createHash('sha256').update(`${tenantId}/${principalId}/${serial}`).digest('hex'),
  subjectAttributes: [`CN=${principalId}`, `O=${tenantId}`],
});
const adminA = cert(A, 'prn_admina001');
const userA = cert(A, 'prn_usera0001');
const auditorA = cert(A, 'prn_audita001');
const adminB = cert(B, 'prn_adminb001');

type Item = [number, TtlvItem[]];

function request(version: [number, number], items: Item[]): TtlvItem {
  return ttlv.struct(Tag.RequestMessage, [
    ttlv.struct(Tag.RequestHeader, [
      ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, version[0]), ttlv.int(Tag.ProtocolVersionMinor, version[1])]),
      ttlv.int(Tag.BatchCount, items.length),
    ]),
    ...items.map(([op, payload]) => ttlv.struct(Tag.BatchItem, [ttlv.enum(Tag.Operation, op), ttlv.struct(Tag.RequestPayload, payload)])),
  ]);
}

interface Answer {
  readonly status: number | undefined;
  readonly reason: number | undefined;
  readonly message: string | undefined;
  readonly payload: TtlvItem | undefined;
}

/** Sends one batch item and answers its result; `scrub` receives the response's key material buffers. */
async function send(
  who: ReturnType<typeof cert>,
  op: number,
  payload: TtlvItem[],
  version: [number, number] = [1, 4],
  scrub: Buffer[] = [],
): Promise<Answer> {
  const response = await operations.handle(request(version, [[op, payload]]), who, scrub);
  const item = children(response, Tag.BatchItem)[0];
  return {
    status: asEnum(child(item, Tag.ResultStatus)),
    reason: asEnum(child(item, Tag.ResultReason)),
    message: asText(child(item, Tag.ResultMessage)),
    payload: child(item, Tag.ResponsePayload),
  };
}
const ok = (a: Answer): Answer => {
  if (a.status !== ResultStatus.Success) throw new Error(`expected success, got reason ${a.reason}: ${a.message}`);
  return a;
};
const uidOf = (a: Answer): string => asText(child(ok(a).payload, Tag.UniqueIdentifier)) ?? '';

const attribute = (name: string, value: TtlvItem): TtlvItem =>
  ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue }]);
const template = (...attributes: TtlvItem[]): TtlvItem => ttlv.struct(Tag.TemplateAttribute, attributes);
const uid = (id: string): TtlvItem => ttlv.text(Tag.UniqueIdentifier, id);

const createPayload = (algorithm: number, bits: number, mask = 0, ...extra: TtlvItem[]): TtlvItem[] => [
  ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
  template(
    attribute('Cryptographic Algorithm', ttlv.enum(0, algorithm)),
    attribute('Cryptographic Length', ttlv.int(0, bits)),
    ...(mask ? [attribute('Cryptographic Usage Mask', ttlv.int(0, mask))] : []),
    ...extra,
  ),
];

const keyBlock = (format: number, material: Buffer, algorithm?: number, bits?: number, ...extra: TtlvItem[]): TtlvItem =>
  ttlv.struct(Tag.KeyBlock, [
    ttlv.enum(Tag.KeyFormatType, format),
    ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, material)]),
    ...(algorithm === undefined ? [] : [ttlv.enum(Tag.CryptographicAlgorithm, algorithm)]),
    ...(bits === undefined ? [] : [ttlv.int(Tag.CryptographicLength, bits)]),
    ...extra,
  ]);
const registerKey = (
  material: Buffer,
  algorithm: number = CryptographicAlgorithm.AES,
  bits = material.length * 8,
  mask = 0,
): TtlvItem[] => [
  ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
  template(...(mask ? [attribute('Cryptographic Usage Mask', ttlv.int(0, mask))] : [])),
  ttlv.struct(Tag.SymmetricKey, [keyBlock(KeyFormatType.Raw, material, algorithm, bits)]),
];
const registerSecret = (secret: Buffer): TtlvItem[] => [
  ttlv.enum(Tag.ObjectType, ObjectType.SecretData),
  template(),
  ttlv.struct(Tag.SecretData, [ttlv.enum(Tag.SecretDataType, SecretDataType.Password), keyBlock(KeyFormatType.Opaque, secret)]),
];

const stored = (tenantId: string, keyId: string, version = 1): Buffer | undefined => materials.store.get(`${tenantId}/${keyId}/${version}`);
const keyOf = async (tenantId: string, keyId: string) => (await executor.current(tenantId)).keys.get(keyId);

/** Creates an Active key over KMIP (exportable, export enabled as REST would under dual control). */
async function activeKey(algorithm: number = CryptographicAlgorithm.AES, bits = 256, exportable = true): Promise<string> {
  const id = uidOf(await send(adminA, Operation.Create, createPayload(algorithm, bits, exportable ? CryptographicUsageMask.Export : 0)));
  ok(await send(adminA, Operation.Activate, [uid(id)]));
  if (exportable) await executor.run(A, { kind: 'key.enable-export', keyId: id });
  return id;
}

beforeAll(async () => {
  const past = new Date(Date.now() - 30 * DAY);
  for (const [tenantId, admin] of [
    [A, adminA],
    [B, adminB],
  ] as const) {
    await executor.run(tenantId, { kind: 'tenant.onboard', tenantId, name: tenantId, grants: 'open' }, past, 'provider-admin');
    await executor.run(tenantId, { kind: 'principal.create', principalId: admin.principalId, name: 'admin', role: 'tenant-admin' }, past);
  }
  await executor.run(A, { kind: 'principal.create', principalId: userA.principalId, name: 'app', role: 'key-user' }, past);
  await executor.run(A, { kind: 'principal.create', principalId: auditorA.principalId, name: 'audit', role: 'auditor' }, past);
  // KMIP clients authenticate by the certificate their principal is bound to.
  for (const who of [adminA, userA, auditorA, adminB]) {
    const { principalId, fingerprint } = who;
    await executor.run(who.tenantId, { kind: 'principal.bind-certificate', principalId, fingerprint }, past);
  }
});

describe('Create', () => {
  it.each([
    [128, 'AES-128-GCM', 16],
    [192, 'AES-192-GCM', 24],
    [256, 'AES-256-GCM', 32],
  ])('AES-%i makes an %s key with %i bytes of fresh material stored before the commit', async (bits, keyType, bytes) => {
    const id = uidOf(await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, bits)));
    const key = await keyOf(A, id);
    expect(key).toMatchObject({ keyType, state: 'PreActive' });
    expect(key?.origin).toBeUndefined();
    expect(stored(A, id)).toHaveLength(bytes);
    expect(keyCheckValue(stored(A, id) ?? Buffer.alloc(0))).toBe(key?.versions[0]?.kcv);
    const attributes = ok(await send(adminA, Operation.GetAttributes, [uid(id), ttlv.text(Tag.AttributeName, 'Cryptographic Length')]));
    expect(asInt(child(child(attributes.payload, Tag.Attribute), Tag.AttributeValue))).toBe(bits);
  });

  it('refuses other lengths, HMAC other than 256 bits, other object types and other roles', async () => {
    expect((await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 512))).reason).toBe(ResultReason.InvalidField);
    expect((await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 64))).reason).toBe(ResultReason.InvalidField);
    expect((await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.HMAC_SHA256, 128))).reason).toBe(
      ResultReason.InvalidField,
    );
    const secret = [ttlv.enum(Tag.ObjectType, ObjectType.SecretData), template()];
    expect((await send(adminA, Operation.Create, secret)).reason).toBe(ResultReason.FeatureNotSupported);
    for (const who of [userA, auditorA]) {
      expect((await send(who, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128))).reason).toBe(
        ResultReason.PermissionDenied,
      );
    }
  });
});

describe('Register', () => {
  it('imports a symmetric key through key.create (origin imported, its check value); the request bytes are zeroed', async () => {
    const material = Buffer.from('00112233445566778899aabbccddeeff0011223344556677', 'hex');
    const expected = Buffer.from(material);
    const payload = registerKey(material, CryptographicAlgorithm.AES, 192, CryptographicUsageMask.Export);
    const id = uidOf(await send(adminA, Operation.Register, payload));
    const command = executor.commands.at(-1);
    expect(command).toMatchObject({
      kind: 'key.create',
      keyId: id,
      keyType: 'AES-192-GCM',
      origin: 'imported',
      materialBytes: 24,
      exportable: true,
    });
    expect(command).toMatchObject({ kcv: keyCheckValue(expected) });
    expect(stored(A, id)).toEqual(expected);
    expect(material.equals(Buffer.alloc(24))).toBe(true);
    expect((await keyOf(A, id))?.origin).toBe('imported');
    expect((await keyOf(A, id))?.kmipOnly).toBe(true);
    // Usable once activated: a KMIP key, so AES-192-GCM under the imported material itself.
    ok(await send(adminA, Operation.Activate, [uid(id)]));
    const enc = ok(await send(userA, Operation.Encrypt, [uid(id), ttlv.bytes(Tag.Data, Buffer.from('hi'))]));
    const d = createDecipheriv('aes-192-gcm', expected, asBytes(child(enc.payload, Tag.IvCounterNonce)) ?? Buffer.alloc(0));
    d.setAuthTag(asBytes(child(enc.payload, Tag.AuthenticatedEncryptionTag)) ?? Buffer.alloc(0));
    expect(Buffer.concat([d.update(asBytes(child(enc.payload, Tag.Data)) ?? Buffer.alloc(0)), d.final()]).toString()).toBe('hi');
  });

  it('registers an HMAC-SHA256 key and refuses lengths, formats and wrapping it cannot take', async () => {
    const hmac = uidOf(await send(adminA, Operation.Register, registerKey(Buffer.alloc(32, 1), CryptographicAlgorithm.HMAC_SHA256)));
    expect((await keyOf(A, hmac))?.keyType).toBe('HMAC-SHA256');
    const refusals: [TtlvItem[], number][] = [
      [registerKey(Buffer.alloc(16, 1), CryptographicAlgorithm.AES, 256), ResultReason.InvalidField],
      [registerKey(Buffer.alloc(20, 1)), ResultReason.InvalidField],
      [registerKey(Buffer.alloc(16, 1), CryptographicAlgorithm.HMAC_SHA256), ResultReason.InvalidField],
      [
        [
          ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
          ttlv.struct(Tag.SymmetricKey, [
            keyBlock(KeyFormatType.Raw, Buffer.alloc(32, 1), CryptographicAlgorithm.AES, 256, ttlv.struct(Tag.KeyWrappingData, [])),
          ]),
        ],
        ResultReason.FeatureNotSupported,
      ],
      [
        [ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey), ttlv.struct(Tag.SymmetricKey, [keyBlock(9, Buffer.alloc(32, 1))])],
        ResultReason.KeyFormatTypeNotSupported,
      ],
      [[ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey), ttlv.struct(Tag.SymmetricKey, [])], ResultReason.MissingData],
      [[ttlv.enum(Tag.ObjectType, ObjectType.Certificate)], ResultReason.MissingData],
      [[ttlv.enum(Tag.ObjectType, ObjectType.SplitKey)], ResultReason.FeatureNotSupported],
      [registerSecret(Buffer.alloc(191, 1)), ResultReason.InvalidField],
    ];
    for (const [payload, reason] of refusals) expect((await send(adminA, Operation.Register, payload)).reason).toBe(reason);
    expect((await send(userA, Operation.Register, registerKey(Buffer.alloc(32, 1)))).reason).toBe(ResultReason.PermissionDenied);
    expect((await send(adminB, Operation.GetAttributes, [uid(hmac)])).reason).toBe(ResultReason.ItemNotFound);
  });

  it('registers Secret Data as an exportable SECRET key that no crypto operation admits and Get returns under the export rules', async () => {
    const id = uidOf(await send(adminA, Operation.Register, registerSecret(Buffer.from('correct horse'))));
    expect(await keyOf(A, id)).toMatchObject({ keyType: 'SECRET', exportable: true, origin: 'imported' });
    // Its check value is keyed by the tenant (KEK), so the log does not let anyone test password guesses.
    const kcv = (await keyOf(A, id))?.versions[0]?.kcv;
    expect(kcv).toBe(tenantCheckValue(materials.kek, A, id, Buffer.from('correct horse')));
    expect(kcv).not.toContain(keyCheckValue(Buffer.from('correct horse')));
    ok(await send(adminA, Operation.Activate, [uid(id)]));
    const type = ok(await send(adminA, Operation.GetAttributes, [uid(id), ttlv.text(Tag.AttributeName, 'Object Type')]));
    expect(asEnum(child(child(type.payload, Tag.Attribute), Tag.AttributeValue))).toBe(ObjectType.SecretData);
    expect((await send(userA, Operation.Encrypt, [uid(id), ttlv.bytes(Tag.Data, Buffer.from('x'))])).reason).toBe(
      ResultReason.IllegalOperation,
    );
    expect((await send(userA, Operation.Mac, [uid(id), ttlv.bytes(Tag.Data, Buffer.from('x'))])).reason).toBe(
      ResultReason.IllegalOperation,
    );
    expect((await send(userA, Operation.Get, [uid(id)])).message).toMatch(/has not been enabled/);
    await executor.run(A, { kind: 'key.enable-export', keyId: id });
    const got = ok(await send(userA, Operation.Get, [uid(id)]));
    expect(asEnum(child(got.payload, Tag.ObjectType))).toBe(ObjectType.SecretData);
    const block = child(child(got.payload, Tag.SecretData), Tag.KeyBlock);
    expect(asEnum(child(block, Tag.KeyFormatType))).toBe(KeyFormatType.Opaque);
    expect(asBytes(child(child(block, Tag.KeyValue), Tag.KeyMaterial))?.toString()).toBe('correct horse');
    const located = ok(await send(auditorA, Operation.Locate, [attribute('Object Type', ttlv.enum(0, ObjectType.SecretData))]));
    expect(children(located.payload, Tag.UniqueIdentifier).map(asText)).toContain(id);
  });

  it('registers an Opaque Object (a SECRET key) that Get, Get Attributes and Locate answer as one; its record is no attribute', async () => {
    const opaque = (dataType: number, value: Buffer): TtlvItem[] => [
      ttlv.enum(Tag.ObjectType, ObjectType.OpaqueObject),
      template(),
      ttlv.struct(Tag.OpaqueObject, [ttlv.enum(Tag.OpaqueDataType, dataType), ttlv.bytes(Tag.OpaqueDataValue, value)]),
    ];
    const id = uidOf(await send(adminA, Operation.Register, opaque(0x80123456, Buffer.from('opaque bytes'))));
    expect(await keyOf(A, id)).toMatchObject({ keyType: 'SECRET', exportable: true, origin: 'imported' });
    // A key-user reads only keys that have been Active (an owner's PreActive key is its own).
    ok(await send(adminA, Operation.Activate, [uid(id)]));
    await executor.run(A, { kind: 'key.enable-export', keyId: id });
    const got = ok(await send(userA, Operation.Get, [uid(id)]));
    expect(asEnum(child(got.payload, Tag.ObjectType))).toBe(ObjectType.OpaqueObject);
    const object = child(got.payload, Tag.OpaqueObject);
    expect(asEnum(child(object, Tag.OpaqueDataType))).toBe(0x80123456);
    expect(asBytes(child(object, Tag.OpaqueDataValue))?.toString()).toBe('opaque bytes');
    expect((await send(userA, Operation.Get, [uid(id), ttlv.enum(Tag.KeyFormatType, KeyFormatType.Raw)])).reason).toBe(
      ResultReason.FeatureNotSupported,
    );
    const list = ok(await send(adminA, Operation.GetAttributeList, [uid(id)]));
    expect(children(list.payload, Tag.AttributeName).map(asText)).not.toContain('Opaque Data Type');
    const located = ok(await send(auditorA, Operation.Locate, [attribute('Object Type', ttlv.enum(0, ObjectType.OpaqueObject))]));
    expect(children(located.payload, Tag.UniqueIdentifier).map(asText)).toEqual([id]);
    // A client cannot set the server's records.
    expect((await send(adminA, Operation.AddAttribute, [uid(id), attribute('Opaque Data Type', ttlv.enum(0, 1))])).status).toBe(
      ResultStatus.OperationFailed,
    );
    expect((await send(adminA, Operation.DeleteAttribute, [uid(id), ttlv.text(Tag.AttributeName, 'Opaque Data Type')])).reason).toBe(
      ResultReason.PermissionDenied,
    );
    expect(asEnum(child(ok(await send(userA, Operation.Get, [uid(id)])).payload, Tag.ObjectType))).toBe(ObjectType.OpaqueObject);
    for (const [payload, reason] of [
      [opaque(1, Buffer.alloc(0)), ResultReason.MissingData],
      [opaque(1, Buffer.alloc(191, 1)), ResultReason.InvalidField],
      [[ttlv.enum(Tag.ObjectType, ObjectType.OpaqueObject), ttlv.struct(Tag.OpaqueObject, [])], ResultReason.MissingData],
    ] as [TtlvItem[], number][])
      expect((await send(adminA, Operation.Register, payload)).reason).toBe(reason);
  });

  it('Get answers the format a key was registered in: Transparent Symmetric Key, Raw Secret Data (either format on request)', async () => {
    const material = Buffer.alloc(16, 7);
    const transparent = ttlv.struct(Tag.KeyBlock, [
      ttlv.enum(Tag.KeyFormatType, KeyFormatType.TransparentSymmetricKey),
      // A copy: the server wipes the request's key bytes once it has sealed them.
      ttlv.struct(Tag.KeyValue, [ttlv.struct(Tag.KeyMaterial, [ttlv.bytes(Tag.Key, Buffer.from(material))])]),
      ttlv.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.AES),
      ttlv.int(Tag.CryptographicLength, 128),
    ]);
    const exportable = template(
      attribute('Cryptographic Usage Mask', ttlv.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Export)),
    );
    const key = uidOf(
      await send(adminA, Operation.Register, [
        ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        exportable,
        ttlv.struct(Tag.SymmetricKey, [transparent]),
      ]),
    );
    const secret = uidOf(
      await send(adminA, Operation.Register, [
        ttlv.enum(Tag.ObjectType, ObjectType.SecretData),
        template(),
        ttlv.struct(Tag.SecretData, [
          ttlv.enum(Tag.SecretDataType, SecretDataType.Password),
          keyBlock(KeyFormatType.Raw, Buffer.from('pw')),
        ]),
      ]),
    );
    for (const id of [key, secret]) {
      ok(await send(adminA, Operation.Activate, [uid(id)]));
      await executor.run(A, { kind: 'key.enable-export', keyId: id });
    }
    const blockOf = async (id: string, tag: number, ...extra: TtlvItem[]): Promise<TtlvItem | undefined> =>
      child(child(ok(await send(userA, Operation.Get, [uid(id), ...extra])).payload, tag), Tag.KeyBlock);
    const got = await blockOf(key, Tag.SymmetricKey);
    expect(asEnum(child(got, Tag.KeyFormatType))).toBe(KeyFormatType.TransparentSymmetricKey);
    expect(asBytes(child(child(child(got, Tag.KeyValue), Tag.KeyMaterial), Tag.Key))).toEqual(material);
    const raw = await blockOf(key, Tag.SymmetricKey, ttlv.enum(Tag.KeyFormatType, KeyFormatType.Raw));
    expect(asBytes(child(child(raw, Tag.KeyValue), Tag.KeyMaterial))).toEqual(material);
    expect(asEnum(child(await blockOf(secret, Tag.SecretData), Tag.KeyFormatType))).toBe(KeyFormatType.Raw);
    expect(
      asEnum(child(await blockOf(secret, Tag.SecretData, ttlv.enum(Tag.KeyFormatType, KeyFormatType.Opaque)), Tag.KeyFormatType)),
    ).toBe(KeyFormatType.Opaque);
    expect((await send(userA, Operation.Get, [uid(secret), ttlv.enum(Tag.KeyFormatType, KeyFormatType.PKCS8)])).reason).toBe(
      ResultReason.KeyFormatTypeNotSupported,
    );
  });
});

describe('Get', () => {
  /** A Key Wrapping Specification; `encoding` null leaves the Encoding Option out (KMIP's default, TTLV Encoding). */
  const wrapSpec = (
    wrappingKey: string,
    mode?: number,
    method: number = WrappingMethod.Encrypt,
    encoding: number | null = EncodingOption.NoEncoding,
  ): TtlvItem =>
    ttlv.struct(Tag.KeyWrappingSpecification, [
      ttlv.enum(Tag.WrappingMethod, method),
      ttlv.struct(Tag.EncryptionKeyInformation, [
        uid(wrappingKey),
        ...(mode === undefined ? [] : [ttlv.struct(Tag.CryptographicParameters, [ttlv.enum(Tag.BlockCipherMode, mode)])]),
      ]),
      ...(encoding === null ? [] : [ttlv.enum(Tag.EncodingOption, encoding)]),
    ]);
  const keyValueOf = (a: Answer): Buffer | undefined =>
    asBytes(child(child(child(child(a.payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial));

  it('answers the raw material under the export rules and hands the copy over for zeroing after encoding', async () => {
    const id = await activeKey(CryptographicAlgorithm.AES, 128);
    const scrub: Buffer[] = [];
    const got = ok(await send(userA, Operation.Get, [uid(id)], [1, 4], scrub));
    expect(keyValueOf(got)).toEqual(stored(A, id));
    expect(asInt(child(child(child(got.payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.CryptographicLength))).toBe(128);
    expect(scrub).toHaveLength(1);
    expect(scrub[0]).toBe(keyValueOf(got));
    expect(usage.at(-1)).toMatchObject({ operation: 'export', keyId: id, outcome: 'ok', principalId: userA.principalId });
    expect((await send(adminA, Operation.Get, [uid(id)])).reason).toBe(ResultReason.PermissionDenied);
    const notExportable = await activeKey(CryptographicAlgorithm.AES, 256, false);
    expect((await send(userA, Operation.Get, [uid(notExportable)])).reason).toBe(ResultReason.IllegalOperation);
    expect((await send(userA, Operation.Get, [uid(id), ttlv.enum(Tag.KeyFormatType, KeyFormatType.Opaque)])).reason).toBe(
      ResultReason.KeyFormatTypeNotSupported,
    );
  });

  it('writes the Get response from one encoded buffer, and zeroes it and every material buffer once the socket took it', async () => {
    const id = await activeKey(CryptographicAlgorithm.AES, 256);
    const material = Buffer.from(stored(A, id) ?? Buffer.alloc(0));
    const scrub: Buffer[] = [];
    const response = await operations.handle(request([1, 4], [[Operation.Get, [uid(id)]]]), userA, scrub);
    expect(scrub.length).toBeGreaterThan(0);
    expect(scrub.some((b) => b.equals(material))).toBe(true);
    // A socket that takes the bytes later: what it was handed, a copy of it at the time, and its callback.
    const handed: Buffer[] = [];
    const atWrite: Buffer[] = [];
    let written: (() => void) | undefined;
    const sink = {
      destroyed: false,
      writable: true,
      write(data: Buffer, done: () => void): boolean {
        handed.push(data);
        atWrite.push(Buffer.from(data));
        written = done;
        return true;
      },
    };
    writeResponse(sink, response, scrub);
    expect(handed).toHaveLength(1);
    expect(atWrite[0]?.includes(material)).toBe(true);
    // The material buffers handed to the encoder are zeroed at once; the encoded bytes once written.
    expect(scrub.every((b) => b.equals(Buffer.alloc(b.length)))).toBe(true);
    expect(handed[0]?.includes(material)).toBe(true);
    written?.();
    expect(handed[0]?.equals(Buffer.alloc(handed[0].length))).toBe(true);
    // The cached material itself is not the caller's to zero.
    expect(stored(A, id)).toEqual(material);
  });

  it.each([
    ['NIST Key Wrap (default)', undefined, 'id-aes256-wrap', Buffer.from('a6a6a6a6a6a6a6a6', 'hex')],
    ['NIST Key Wrap', BlockCipherMode.NISTKeyWrap, 'id-aes256-wrap', Buffer.from('a6a6a6a6a6a6a6a6', 'hex')],
    ['AES Key Wrap with Padding', BlockCipherMode.AESKeyWrapPadding, 'id-aes256-wrap-pad', Buffer.from('a65959a6', 'hex')],
  ])('wraps the material under another key with %s (RFC 3394/5649)', async (_name, mode, cipher, iv) => {
    const id = await activeKey(CryptographicAlgorithm.AES, 192);
    const kek = await activeKey(CryptographicAlgorithm.AES, 256, false);
    const scrub: Buffer[] = [];
    const got = ok(await send(userA, Operation.Get, [uid(id), wrapSpec(kek, mode)], [1, 4], scrub));
    const wrapped = keyValueOf(got) ?? Buffer.alloc(0);
    const d = createDecipheriv(cipher, stored(A, kek) ?? Buffer.alloc(0), iv);
    expect(Buffer.concat([d.update(wrapped), d.final()])).toEqual(stored(A, id));
    expect(scrub[0]?.equals(Buffer.alloc(24))).toBe(true);
    const data = child(child(child(got.payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyWrappingData);
    expect(asEnum(child(data, Tag.WrappingMethod))).toBe(WrappingMethod.Encrypt);
    expect(asText(child(child(data, Tag.EncryptionKeyInformation), Tag.UniqueIdentifier))).toBe(kek);
    expect(usage.slice(-2).map((r) => `${r.operation}:${r.keyId}:${r.outcome}`)).toEqual([`encrypt:${kek}:ok`, `export:${id}:ok`]);
  });

  it('without an Encoding Option wraps the TTLV-encoded Key Value, answered as a Byte String (KMIP default, AX-M-2-14)', async () => {
    const id = await activeKey(CryptographicAlgorithm.AES, 256);
    const kek = await activeKey(CryptographicAlgorithm.AES, 256, false);
    const got = ok(await send(userA, Operation.Get, [uid(id), wrapSpec(kek, BlockCipherMode.NISTKeyWrap, WrappingMethod.Encrypt, null)]));
    const block = child(child(got.payload, Tag.SymmetricKey), Tag.KeyBlock);
    const wrapped = asBytes(child(block, Tag.KeyValue)) ?? Buffer.alloc(0);
    const d = createDecipheriv('id-aes256-wrap', stored(A, kek) ?? Buffer.alloc(0), Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    const value = decodeTtlv(Buffer.concat([d.update(wrapped), d.final()]));
    expect(value.tag).toBe(Tag.KeyValue);
    expect(asBytes(child(value, Tag.KeyMaterial))).toEqual(stored(A, id));
    expect(child(child(block, Tag.KeyWrappingData), Tag.EncodingOption)).toBeUndefined();
  });

  it('wraps with AES-GCM (IV in the Key Wrapping Data, tag after the ciphertext)', async () => {
    const id = await activeKey(CryptographicAlgorithm.AES, 256);
    const kek = await activeKey(CryptographicAlgorithm.AES, 128, false);
    const got = ok(await send(userA, Operation.Get, [uid(id), wrapSpec(kek, BlockCipherMode.GCM)]));
    const wrapped = keyValueOf(got) ?? Buffer.alloc(0);
    const data = child(child(child(got.payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyWrappingData);
    const d = createDecipheriv(
      'aes-128-gcm',
      stored(A, kek) ?? Buffer.alloc(0),
      asBytes(child(data, Tag.IvCounterNonce)) ?? Buffer.alloc(0),
    );
    d.setAuthTag(wrapped.subarray(wrapped.length - 16));
    expect(Buffer.concat([d.update(wrapped.subarray(0, wrapped.length - 16)), d.final()])).toEqual(stored(A, id));
  });

  it('refuses wrapping keys the caller may not encrypt with, and wrapping it does not do', async () => {
    const id = await activeKey();
    const hmac = await activeKey(CryptographicAlgorithm.HMAC_SHA256, 256, false);
    const preActive = uidOf(await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 256)));
    const cases: [TtlvItem, number][] = [
      [wrapSpec(hmac), ResultReason.IllegalOperation],
      [wrapSpec(preActive), ResultReason.IllegalOperation],
      [wrapSpec('key_missing00001'), ResultReason.ItemNotFound],
      [wrapSpec(preActive, undefined, WrappingMethod.MacSign), ResultReason.FeatureNotSupported],
      [wrapSpec(preActive, BlockCipherMode.CBC), ResultReason.FeatureNotSupported],
      [ttlv.struct(Tag.KeyWrappingSpecification, [ttlv.enum(Tag.WrappingMethod, WrappingMethod.Encrypt)]), ResultReason.MissingData],
      [
        ttlv.struct(Tag.KeyWrappingSpecification, [
          ttlv.enum(Tag.WrappingMethod, WrappingMethod.Encrypt),
          ttlv.struct(Tag.EncryptionKeyInformation, [uid(preActive)]),
          ttlv.enum(Tag.EncodingOption, 2),
        ]),
        ResultReason.EncodingOptionError,
      ],
    ];
    for (const [spec, reason] of cases) expect((await send(userA, Operation.Get, [uid(id), spec])).reason).toBe(reason);
    // A key of another tenant cannot wrap (it is not found), nor be fetched.
    const other = uidOf(await send(adminB, Operation.Create, createPayload(CryptographicAlgorithm.AES, 256)));
    expect((await send(userA, Operation.Get, [uid(id), wrapSpec(other)])).reason).toBe(ResultReason.ItemNotFound);
    expect((await send(userA, Operation.Get, [uid(other)])).reason).toBe(ResultReason.ItemNotFound);
  });
});

describe('Add, Modify, Set and Delete Attribute', () => {
  const nameAttr = (alias: string): TtlvItem =>
    ttlv.struct(Tag.AttributeValue, [ttlv.text(Tag.NameValue, alias), ttlv.enum(Tag.NameType, 1)]);
  const name20 = (alias: string): TtlvItem => ttlv.struct(Tag.Name, [ttlv.text(Tag.NameValue, alias), ttlv.enum(Tag.NameType, 1)]);

  it('maps Name to the alias and "x-" attributes to labels (KMIP 1.4)', async () => {
    const id = uidOf(await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 256)));
    const added = ok(await send(adminA, Operation.AddAttribute, [uid(id), attribute('Name', nameAttr('orders-key'))]));
    expect(asText(child(child(child(added.payload, Tag.Attribute), Tag.AttributeValue), Tag.NameValue))).toBe('orders-key');
    expect((await keyOf(A, id))?.alias).toBe('orders-key');
    expect((await send(adminA, Operation.AddAttribute, [uid(id), attribute('Name', nameAttr('second'))])).reason).toBe(
      ResultReason.IllegalOperation,
    );
    ok(await send(adminA, Operation.ModifyAttribute, [uid(id), attribute('Name', nameAttr('orders-key-2'))]));
    expect((await keyOf(A, id))?.alias).toBe('orders-key-2');
    expect(executor.commands.at(-1)).toEqual({ kind: 'key.set-alias', keyId: id, alias: 'orders-key-2' });

    ok(await send(adminA, Operation.AddAttribute, [uid(id), attribute('x-owner', ttlv.text(0, 'payments'))]));
    ok(await send(adminA, Operation.ModifyAttribute, [uid(id), attribute('x-owner', ttlv.text(0, 'billing'))]));
    expect((await keyOf(A, id))?.labels).toEqual({ 'x-owner': 'billing' });
    const listed = ok(await send(auditorA, Operation.GetAttributeList, [uid(id)]));
    expect(children(listed.payload, Tag.AttributeName).map(asText)).toEqual(expect.arrayContaining(['Name', 'x-owner']));
    const deleted = ok(await send(adminA, Operation.DeleteAttribute, [uid(id), ttlv.text(Tag.AttributeName, 'x-owner')]));
    expect(asText(child(child(deleted.payload, Tag.Attribute), Tag.AttributeValue))).toBe('billing');
    expect((await keyOf(A, id))?.labels).toEqual({});

    const refusals: [number, TtlvItem[], number][] = [
      [Operation.DeleteAttribute, [uid(id), ttlv.text(Tag.AttributeName, 'x-owner')], ResultReason.ItemNotFound],
      [Operation.ModifyAttribute, [uid(id), attribute('x-missing', ttlv.text(0, 'v'))], ResultReason.ItemNotFound],
      [Operation.DeleteAttribute, [uid(id), ttlv.text(Tag.AttributeName, 'Name')], ResultReason.PermissionDenied],
      [Operation.ModifyAttribute, [uid(id), attribute('State', ttlv.enum(0, State.Active))], ResultReason.PermissionDenied],
      [Operation.AddAttribute, [uid(id), attribute('Cryptographic Usage Mask', ttlv.int(0, 4))], ResultReason.PermissionDenied],
      [Operation.AddAttribute, [uid(id), attribute('Lease Time', ttlv.interval(0, 3600))], ResultReason.InvalidField],
      [Operation.AddAttribute, [uid(id), attribute('Digest', ttlv.text(0, 'x'))], ResultReason.PermissionDenied],
      [
        Operation.ModifyAttribute,
        [uid(id), ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, 'Name'), ttlv.int(Tag.AttributeIndex, 1), nameAttr('x')])],
        ResultReason.IndexOutOfBounds,
      ],
      [Operation.AddAttribute, [uid(id)], ResultReason.MissingData],
      [Operation.AddAttribute, [uid('key_missing00001'), attribute('x-a', ttlv.text(0, 'v'))], ResultReason.ItemNotFound],
    ];
    for (const [op, payload, reason] of refusals) expect((await send(adminA, op, payload)).reason).toBe(reason);
    for (const who of [userA, auditorA]) {
      expect((await send(who, Operation.AddAttribute, [uid(id), attribute('x-a', ttlv.text(0, 'v'))])).reason).toBe(
        ResultReason.PermissionDenied,
      );
    }
    expect((await send(adminB, Operation.AddAttribute, [uid(id), attribute('x-a', ttlv.text(0, 'v'))])).reason).toBe(
      ResultReason.ItemNotFound,
    );
  });

  it('takes the KMIP 2.0 forms (New Attribute, Current Attribute, Attribute Reference) and 2.0 result reasons', async () => {
    const id = uidOf(await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128)));
    const v2: [number, number] = [2, 0];
    ok(await send(adminA, Operation.AddAttribute, [uid(id), ttlv.struct(Tag.NewAttribute, [name20('v2-name')])], v2));
    ok(await send(adminA, Operation.SetAttribute, [uid(id), ttlv.struct(Tag.NewAttribute, [name20('v2-name-b')])], v2));
    expect((await keyOf(A, id))?.alias).toBe('v2-name-b');
    const custom = ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, 'x-env'), ttlv.text(Tag.AttributeValue, 'prod')]);
    ok(await send(adminA, Operation.AddAttribute, [uid(id), ttlv.struct(Tag.NewAttribute, [custom])], v2));
    const got = ok(await send(adminA, Operation.GetAttributes, [uid(id)], v2));
    expect(asText(child(child(child(got.payload, Tag.Attributes), Tag.Attribute), Tag.AttributeValue))).toBe('prod');
    const list = ok(await send(adminA, Operation.GetAttributeList, [uid(id)], v2));
    expect(children(list.payload, Tag.AttributeReference).map(asEnum)).toEqual(expect.arrayContaining([Tag.State, Tag.Name]));
    ok(await send(adminA, Operation.DeleteAttribute, [uid(id), ttlv.struct(Tag.CurrentAttribute, [custom])], v2));
    expect((await keyOf(A, id))?.labels).toEqual({});

    expect((await send(adminA, Operation.DeleteAttribute, [uid(id), ttlv.enum(Tag.AttributeReference, Tag.State)], v2)).reason).toBe(
      ResultReason.AttributeReadOnly,
    );
    expect((await send(adminA, Operation.DeleteAttribute, [uid(id), ttlv.struct(Tag.CurrentAttribute, [custom])], v2)).reason).toBe(
      ResultReason.AttributeNotFound,
    );
    expect((await send(adminA, Operation.AddAttribute, [uid(id), ttlv.struct(Tag.NewAttribute, [name20('third')])], v2)).reason).toBe(
      ResultReason.AttributeSingleValued,
    );
    const unknown = ttlv.struct(Tag.NewAttribute, [ttlv.text(0x4200fa, 'unknown tag')]);
    expect((await send(adminA, Operation.ModifyAttribute, [uid(id), unknown], v2)).reason).toBe(ResultReason.UnsupportedAttribute);
  });

  it('maps an Activation or Deactivation Date that has come to activate / deactivate; a future one is not rescheduled', async () => {
    const id = uidOf(await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 256)));
    const soon = new Date(Date.now() + DAY);
    expect((await send(adminA, Operation.AddAttribute, [uid(id), attribute('Activation Date', ttlv.date(0, soon))])).reason).toBe(
      ResultReason.FeatureNotSupported,
    );
    ok(await send(adminA, Operation.AddAttribute, [uid(id), attribute('Activation Date', ttlv.date(0, new Date()))]));
    expect((await keyOf(A, id))?.state).toBe('Active');
    // KMIP 1.4: the Activation Date of a key that is no longer Pre-Active cannot change (Permission Denied, SKLC-M-3-14).
    expect((await send(adminA, Operation.ModifyAttribute, [uid(id), attribute('Activation Date', ttlv.date(0, new Date()))])).reason).toBe(
      ResultReason.PermissionDenied,
    );
    ok(await send(adminA, Operation.AddAttribute, [uid(id), attribute('Deactivation Date', ttlv.date(0, new Date()))]));
    expect((await keyOf(A, id))?.state).toBe('Deactivated');
    expect((await send(adminA, Operation.DeleteAttribute, [uid(id), ttlv.text(Tag.AttributeName, 'Deactivation Date')])).reason).toBe(
      ResultReason.PermissionDenied,
    );
  });
});

describe('Locate by dates', () => {
  it('matches one date to the second, and two instances of a date attribute as an inclusive range', async () => {
    const at = (days: number): Date => new Date(Math.floor((Date.now() - days * DAY) / 1000) * 1000);
    const old = 'key_datedold0001';
    const mid = 'key_datedmid0001';
    await executor.run(A, { kind: 'key.create', keyId: old, keyType: 'AES-256-GCM', kcv: 'k1', alias: 'dated-old' }, at(20));
    await executor.run(A, { kind: 'key.create', keyId: mid, keyType: 'AES-256-GCM', kcv: 'k2', activate: true }, at(10));
    await executor.run(A, { kind: 'key.activate', keyId: old }, at(9));
    const locate = async (...filters: TtlvItem[]): Promise<string[]> =>
      children(ok(await send(auditorA, Operation.Locate, filters)).payload, Tag.UniqueIdentifier)
        .map(asText)
        .filter((id): id is string => id === old || id === mid);
    const date = (name: string, d: Date): TtlvItem => attribute(name, ttlv.date(0, d));
    expect(await locate(date('Initial Date', at(21)), date('Initial Date', at(15)))).toEqual([old]);
    expect(await locate(date('Initial Date', at(5)), date('Initial Date', at(21)))).toEqual([mid, old]);
    expect(await locate(date('Initial Date', at(10)))).toEqual([mid]);
    expect(await locate(date('Activation Date', at(9.5)), date('Activation Date', at(8)))).toEqual([old]);
    expect(await locate(date('Last Change Date', at(9)), date('Last Change Date', at(9)))).toEqual([old]);
    expect(await locate(date('Deactivation Date', at(30)), date('Deactivation Date', at(0)))).toEqual([]);
    expect(await locate(date('Initial Date', at(25)), date('Initial Date', at(0)), attribute('Name', nameValueOf('dated-old')))).toEqual([
      old,
    ]);
    // KMIP 2.0: the dates as tagged items in an Attributes structure.
    const v2 = ok(
      await send(
        auditorA,
        Operation.Locate,
        [ttlv.struct(Tag.Attributes, [ttlv.date(Tag.InitialDate, at(11)), ttlv.date(Tag.InitialDate, at(9))])],
        [2, 0],
      ),
    );
    expect(children(v2.payload, Tag.UniqueIdentifier).map(asText)).toContain(mid);
    const three = [date('Initial Date', at(3)), date('Initial Date', at(2)), date('Initial Date', at(1))];
    expect((await send(auditorA, Operation.Locate, three)).reason).toBe(ResultReason.InvalidField);
    expect((await send(auditorA, Operation.Locate, [attribute('Lease Time', ttlv.interval(0, 60))])).reason).toBe(
      ResultReason.FeatureNotSupported,
    );
  });
});

function nameValueOf(alias: string): TtlvItem {
  return ttlv.struct(Tag.AttributeValue, [ttlv.text(Tag.NameValue, alias), ttlv.enum(Tag.NameType, 1)]);
}

describe('MAC and MAC Verify', () => {
  it('verifies with the domain verify-mac rule and a constant-time comparison', async () => {
    const id = await activeKey(CryptographicAlgorithm.HMAC_SHA256, 256);
    const data = Buffer.from('mac me');
    const macData = asBytes(child(ok(await send(userA, Operation.Mac, [uid(id), ttlv.bytes(Tag.Data, data)])).payload, Tag.MacData));
    expect(macData).toEqual(
      createHmac('sha256', stored(A, id) ?? Buffer.alloc(0))
        .update(data)
        .digest(),
    );
    const verify = async (d: Buffer, m: Buffer): Promise<number | undefined> =>
      asEnum(
        child(
          ok(await send(userA, Operation.MacVerify, [uid(id), ttlv.bytes(Tag.Data, d), ttlv.bytes(Tag.MacData, m)])).payload,
          Tag.ValidityIndicator,
        ),
      );
    expect(await verify(data, macData ?? Buffer.alloc(0))).toBe(ValidityIndicator.Valid);
    expect(await verify(Buffer.from('mac mE'), macData ?? Buffer.alloc(0))).toBe(ValidityIndicator.Invalid);
    expect(await verify(data, (macData ?? Buffer.alloc(0)).subarray(0, 16))).toBe(ValidityIndicator.Invalid);
    expect(usage.at(-1)).toMatchObject({ operation: 'verify-mac', keyId: id, outcome: 'ok' });
    // Still verifies once Deactivated (unprotect), never creates a MAC then.
    ok(await send(adminA, Operation.Revoke, [uid(id), ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, 6)])]));
    expect(await verify(data, macData ?? Buffer.alloc(0))).toBe(ValidityIndicator.Valid);
    expect((await send(userA, Operation.Mac, [uid(id), ttlv.bytes(Tag.Data, data)])).reason).toBe(ResultReason.IllegalOperation);

    const aes = await activeKey();
    const refusals: [ReturnType<typeof cert>, TtlvItem[], number][] = [
      [userA, [uid(aes), ttlv.bytes(Tag.Data, data), ttlv.bytes(Tag.MacData, Buffer.alloc(32))], ResultReason.IllegalOperation],
      [userA, [uid(id), ttlv.bytes(Tag.Data, data)], ResultReason.MissingData],
      [userA, [uid(id), ttlv.bytes(Tag.MacData, Buffer.alloc(32))], ResultReason.MissingData],
      [
        userA,
        [uid(id), ttlv.bytes(Tag.Data, Buffer.alloc(64 * 1024 + 1)), ttlv.bytes(Tag.MacData, Buffer.alloc(32))],
        ResultReason.InvalidField,
      ],
      [adminA, [uid(id), ttlv.bytes(Tag.Data, data), ttlv.bytes(Tag.MacData, Buffer.alloc(32))], ResultReason.PermissionDenied],
      [adminB, [uid(id), ttlv.bytes(Tag.Data, data), ttlv.bytes(Tag.MacData, Buffer.alloc(32))], ResultReason.PermissionDenied],
    ];
    for (const [who, payload, reason] of refusals) expect((await send(who, Operation.MacVerify, payload)).reason).toBe(reason);
  });
});

describe('Encrypt and Decrypt with AES-128 and AES-192 keys', () => {
  it.each([
    [128, 'aes-128-gcm'],
    [192, 'aes-192-gcm'],
  ] as const)('AES-%i: a KMIP key encrypts like a local %s under its material, and back', async (bits, cipherName) => {
    const id = await activeKey(CryptographicAlgorithm.AES, bits);
    const iv = Buffer.alloc(12, 3);
    const enc = ok(
      await send(
        userA,
        Operation.Encrypt,
        [uid(id), ttlv.bytes(Tag.Data, Buffer.from('data')), ttlv.bytes(Tag.IvCounterNonce, iv)],
        [1, 2],
      ),
    );
    const { createCipheriv } = await import('node:crypto');
    const material = stored(A, id) ?? Buffer.alloc(0);
    const local = (key: Buffer): Buffer => {
      const cipher = createCipheriv(cipherName, key, iv);
      return Buffer.concat([cipher.update('data'), cipher.final(), cipher.getAuthTag()]);
    };
    const expected = local(material);
    expect(asBytes(child(enc.payload, Tag.Data))).toEqual(expected);
    const dec = ok(
      await send(userA, Operation.Decrypt, [uid(id), ttlv.bytes(Tag.Data, expected), ttlv.bytes(Tag.IvCounterNonce, iv)], [1, 2]),
    );
    expect(asBytes(child(dec.payload, Tag.Data))?.toString()).toBe('data');
  });

  it('a key created over REST runs under its KMIP subkey (never the material REST blobs use), in every mode', async () => {
    const keyId = 'key_restmade01';
    const material = randomBytes(16);
    await executor.run(A, { kind: 'key.create', keyId, keyType: 'AES-128-GCM', kcv: keyCheckValue(material), activate: true });
    materials.storeOutsideLog({ tenantId: A, keyId, version: 1 }, material);
    const subkey = withKmipAesGcmKey(material, { tenantId: A, keyId, version: 1 }, (k) => Buffer.from(k));
    const ecb = [ttlv.struct(Tag.CryptographicParameters, [ttlv.enum(Tag.BlockCipherMode, BlockCipherMode.ECB)])];
    const enc = ok(await send(userA, Operation.Encrypt, [uid(keyId), ...ecb, ttlv.bytes(Tag.Data, Buffer.alloc(16))]));
    const { createCipheriv } = await import('node:crypto');
    const under = (key: Buffer): Buffer => createCipheriv('aes-128-ecb', key, null).setAutoPadding(false).update(Buffer.alloc(16));
    expect(asBytes(child(enc.payload, Tag.Data))).toEqual(under(subkey));
    expect(asBytes(child(enc.payload, Tag.Data))).not.toEqual(under(material));
  });
});

describe('crypto services with the Cryptographic Parameters the OASIS cases use', () => {
  const hexOf = (s: string): Buffer => Buffer.from(s, 'hex');
  const params = (...items: TtlvItem[]): TtlvItem => ttlv.struct(Tag.CryptographicParameters, items);
  const mode = (m: number): TtlvItem => ttlv.enum(Tag.BlockCipherMode, m);
  const data = (d: Buffer): TtlvItem => ttlv.bytes(Tag.Data, d);
  const dataOf = (a: Answer): Buffer | undefined => asBytes(child(ok(a).payload, Tag.Data));
  const register = async (
    material: Buffer,
    algorithm: number = CryptographicAlgorithm.AES,
    bits = material.length * 8,
  ): Promise<string> => {
    const id = uidOf(await send(adminA, Operation.Register, registerKey(Buffer.from(material), algorithm, bits)));
    ok(await send(adminA, Operation.Activate, [uid(id)]));
    return id;
  };
  const SIXTEEN = hexOf('01020304050607080910111213141516');

  it('CS-BC-M-4/9-14: AES-128-ECB of a registered key, without padding and with PKCS#5, no IV in the answer', async () => {
    const id = await register(hexOf('0123456789abcdef0123456789abcdef'));
    const enc = await send(userA, Operation.Encrypt, [uid(id), params(mode(BlockCipherMode.ECB)), data(SIXTEEN)]);
    expect(dataOf(enc)).toEqual(hexOf('d9bcce11b0b437b90239552df3a360c9'));
    expect(child(enc.payload, Tag.IvCounterNonce)).toBeUndefined();
    const pkcs5 = params(mode(BlockCipherMode.ECB), ttlv.enum(Tag.PaddingMethod, 3));
    const plain = hexOf('010203040506070809101112131415160102030405060708091011121314151601');
    const cipher = hexOf('d9bcce11b0b437b90239552df3a360c9d9bcce11b0b437b90239552df3a360c9be261a7bd1371bb738fe004d500381d0');
    expect(dataOf(await send(userA, Operation.Encrypt, [uid(id), pkcs5, data(plain)]))).toEqual(cipher);
    expect(dataOf(await send(userA, Operation.Decrypt, [uid(id), pkcs5, data(cipher)]))).toEqual(plain);
    // 33 bytes without padding: refused, not padded behind the caller's back.
    expect((await send(userA, Operation.Encrypt, [uid(id), params(mode(BlockCipherMode.ECB)), data(plain)])).reason).toBe(
      ResultReason.InvalidField,
    );
  });

  it('CS-BC-M-1-14: a key created with Cryptographic Parameters ECB encrypts in ECB when the request names none, and answers them back', async () => {
    const id = uidOf(
      await send(
        adminA,
        Operation.Create,
        createPayload(CryptographicAlgorithm.AES, 128, 0, attribute('Cryptographic Parameters', params(mode(BlockCipherMode.ECB)))),
      ),
    );
    ok(await send(adminA, Operation.Activate, [uid(id)]));
    const enc = await send(userA, Operation.Encrypt, [uid(id), data(SIXTEEN)]);
    const { createCipheriv } = await import('node:crypto');
    const local = createCipheriv('aes-128-ecb', stored(A, id) ?? Buffer.alloc(16), null)
      .setAutoPadding(false)
      .update(SIXTEEN);
    expect(dataOf(enc)).toEqual(local);
    expect(child(enc.payload, Tag.IvCounterNonce)).toBeUndefined();
    expect(dataOf(await send(userA, Operation.Decrypt, [uid(id), data(local)]))).toEqual(SIXTEEN);
    const attrs = ok(await send(userA, Operation.GetAttributes, [uid(id), ttlv.text(Tag.AttributeName, 'Cryptographic Parameters')]));
    const value = child(child(attrs.payload, Tag.Attribute), Tag.AttributeValue);
    expect(asEnum(child(value, Tag.BlockCipherMode))).toBe(BlockCipherMode.ECB);
  });

  it('CS-BC-M-GCM-1-14: GCM known answer, tampering refused, a truncated tag with Tag Length 12, tag lengths 1 and 32 refused', async () => {
    const id = await register(Buffer.alloc(16));
    const gcm = (tagLength = 16): TtlvItem => params(mode(BlockCipherMode.GCM), ttlv.int(Tag.TagLength, tagLength));
    const iv = (b: Buffer = Buffer.alloc(12)): TtlvItem => ttlv.bytes(Tag.IvCounterNonce, b);
    const enc = ok(await send(userA, Operation.Encrypt, [uid(id), gcm(), data(Buffer.alloc(16)), iv()]));
    const cipher = hexOf('0388dace60b6a392f328c2b971b2fe78');
    const tagHex = 'ab6e47d42cec13bdf53a67b21257bddf';
    expect(asBytes(child(enc.payload, Tag.Data))).toEqual(cipher);
    expect(asBytes(child(enc.payload, Tag.AuthenticatedEncryptionTag))).toEqual(hexOf(tagHex));
    expect(child(enc.payload, Tag.IvCounterNonce)).toBeUndefined();
    const tagItem = (t: string): TtlvItem => ttlv.bytes(Tag.AuthenticatedEncryptionTag, hexOf(t));
    expect(dataOf(await send(userA, Operation.Decrypt, [uid(id), gcm(), data(cipher), iv(), tagItem(tagHex)]))).toEqual(Buffer.alloc(16));
    for (const tampered of [
      [uid(id), gcm(), data(cipher), iv(), tagItem(`00${tagHex.slice(2)}`)],
      [uid(id), gcm(), data(cipher), iv(hexOf('ff0000000000000000000000')), tagItem(tagHex)],
      [uid(id), gcm(), data(hexOf('ff88dace60b6a392f328c2b971b2fe78')), iv(), tagItem(tagHex)],
    ]) {
      expect((await send(userA, Operation.Decrypt, tampered)).reason).toBe(ResultReason.CryptographicFailure);
    }
    expect(dataOf(await send(userA, Operation.Decrypt, [uid(id), gcm(12), data(cipher), iv(), tagItem(tagHex.slice(0, 24))]))).toEqual(
      Buffer.alloc(16),
    );
    for (const tagLength of [1, 32]) {
      const refused = await send(userA, Operation.Encrypt, [uid(id), gcm(tagLength), data(Buffer.alloc(16)), iv()]);
      expect(refused.reason).toBe(ResultReason.GeneralFailure);
      expect(refused.message).toContain('invalid tag length');
    }
    // Server-generated nonces of the IV Length asked for, returned; IVs of 1-128 bytes.
    const gen = ok(
      await send(userA, Operation.Encrypt, [
        uid(id),
        params(mode(BlockCipherMode.GCM), ttlv.int(Tag.IvLength, 64 * 8)),
        data(Buffer.alloc(5)),
      ]),
    );
    expect(asBytes(child(gen.payload, Tag.IvCounterNonce))).toHaveLength(64);
    ok(await send(userA, Operation.Encrypt, [uid(id), gcm(), data(Buffer.alloc(5)), iv(Buffer.alloc(1))]));
    ok(await send(userA, Operation.Encrypt, [uid(id), gcm(), data(Buffer.alloc(5)), iv(Buffer.alloc(128))]));
    expect((await send(userA, Operation.Encrypt, [uid(id), gcm(), data(Buffer.alloc(5)), iv(Buffer.alloc(129))])).reason).toBe(
      ResultReason.InvalidField,
    );
  });

  it('CBC and CTR: the server generates and returns the IV when none is given; every parameter is honoured or refused', async () => {
    const id = await register(randomBytes(32));
    const cbc = params(mode(BlockCipherMode.CBC), ttlv.enum(Tag.PaddingMethod, 3));
    const enc = ok(await send(userA, Operation.Encrypt, [uid(id), cbc, data(Buffer.from('seventeen bytes!!'))]));
    const iv = asBytes(child(enc.payload, Tag.IvCounterNonce)) ?? Buffer.alloc(0);
    expect(iv).toHaveLength(16);
    const ciphertext = asBytes(child(enc.payload, Tag.Data)) ?? Buffer.alloc(0);
    expect(ciphertext).toHaveLength(32);
    expect(
      dataOf(await send(userA, Operation.Decrypt, [uid(id), cbc, data(ciphertext), ttlv.bytes(Tag.IvCounterNonce, iv)]))?.toString(),
    ).toBe('seventeen bytes!!');
    // Random IV concerns Encrypt: a Decrypt under the same parameters takes the IV the Encrypt drew (CS-BC-M-13-14).
    const randomCbc = params(mode(BlockCipherMode.CBC), ttlv.enum(Tag.PaddingMethod, 3), ttlv.bool(Tag.RandomIv, true));
    expect(
      dataOf(await send(userA, Operation.Decrypt, [uid(id), randomCbc, data(ciphertext), ttlv.bytes(Tag.IvCounterNonce, iv)]))?.toString(),
    ).toBe('seventeen bytes!!');
    const ctr = params(mode(BlockCipherMode.CTR));
    const ctrEnc = ok(await send(userA, Operation.Encrypt, [uid(id), ctr, data(Buffer.from('abc'))]));
    expect(asBytes(child(ctrEnc.payload, Tag.IvCounterNonce))).toHaveLength(16);
    const E = Operation.Encrypt;
    const refusals: [number, TtlvItem[], number][] = [
      [Operation.Decrypt, [uid(id), cbc, data(ciphertext)], ResultReason.InvalidMessage], // CBC decrypt without IV (as the OASIS cases)
      [
        E,
        [uid(id), params(mode(BlockCipherMode.ECB)), data(SIXTEEN), ttlv.bytes(Tag.IvCounterNonce, Buffer.alloc(16))],
        ResultReason.InvalidField,
      ],
      [E, [uid(id), params(mode(4)), data(SIXTEEN)], ResultReason.FeatureNotSupported], // CFB
      [E, [uid(id), params(mode(BlockCipherMode.CBC), ttlv.enum(Tag.PaddingMethod, 5)), data(SIXTEEN)], ResultReason.FeatureNotSupported],
      [E, [uid(id), params(mode(BlockCipherMode.GCM), ttlv.enum(Tag.HashingAlgorithm, 6)), data(SIXTEEN)], ResultReason.InvalidField],
      [
        E,
        [uid(id), params(mode(BlockCipherMode.GCM), ttlv.int(Tag.FixedFieldLength, 32)), data(SIXTEEN)],
        ResultReason.FeatureNotSupported,
      ],
      [E, [uid(id), params(mode(BlockCipherMode.CTR), ttlv.int(Tag.CounterLength, 32)), data(SIXTEEN)], ResultReason.FeatureNotSupported],
      [E, [uid(id), params(mode(BlockCipherMode.CBC), ttlv.int(Tag.TagLength, 16)), data(SIXTEEN)], ResultReason.InvalidField],
      [E, [uid(id), params(mode(BlockCipherMode.CBC), ttlv.enum(Tag.CryptographicAlgorithm, 2)), data(SIXTEEN)], ResultReason.InvalidField],
      [
        E,
        [
          uid(id),
          params(mode(BlockCipherMode.CBC), ttlv.bool(Tag.RandomIv, true)),
          data(SIXTEEN),
          ttlv.bytes(Tag.IvCounterNonce, Buffer.alloc(16)),
        ],
        ResultReason.InvalidField,
      ],
      [E, [uid(id), params(mode(BlockCipherMode.CBC), ttlv.bool(Tag.RandomIv, false)), data(SIXTEEN)], ResultReason.MissingData],
      [
        E,
        [
          uid(id),
          params(mode(BlockCipherMode.CBC)),
          data(SIXTEEN),
          ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, Buffer.from('x')),
        ],
        ResultReason.InvalidField,
      ],
      [
        Operation.Decrypt,
        [uid(id), params(mode(BlockCipherMode.ECB)), data(SIXTEEN), ttlv.bool(Tag.InitIndicator, true)],
        ResultReason.FeatureNotSupported,
      ],
      [
        E,
        [uid(id), params(mode(BlockCipherMode.ECB)), data(SIXTEEN), ttlv.bytes(Tag.CorrelationValue, Buffer.from('c'))],
        ResultReason.InvalidField,
      ],
      [E, [uid(id), params(mode(BlockCipherMode.ECB)), data(SIXTEEN), ttlv.bool(Tag.FinalIndicator, false)], ResultReason.MissingData],
      [E, [uid(id), params(ttlv.text(Tag.Name, 'x')), data(SIXTEEN)], ResultReason.InvalidField],
    ];
    for (const [op, payload, reason] of refusals) {
      const answer = await send(userA, op, payload);
      expect([answer.reason, answer.message]).toEqual([reason, expect.any(String)]);
    }
  });

  it('CS-BC-M-GCM-3-14: a GCM Encrypt in two parts (Init Indicator, Correlation Value, Final Indicator) gives test case 4', async () => {
    const id = await register(hexOf('feffe9928665731c6d6a8f9467308308'));
    const gcm = params(mode(BlockCipherMode.GCM), ttlv.int(Tag.TagLength, 16));
    const first = ok(
      await send(userA, Operation.Encrypt, [
        uid(id),
        gcm,
        data(hexOf('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72')),
        ttlv.bytes(Tag.IvCounterNonce, hexOf('cafebabefacedbad')),
        ttlv.bool(Tag.InitIndicator, true),
        ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, hexOf('feedfacedeadbeeffeedfacedeadbeefabaddad2')),
      ]),
    );
    expect(asBytes(child(first.payload, Tag.Data))?.toString('hex')).toBe(
      '61353b4c2806934a777ff51fa22a4755699b2a714fcdc6f83766e5f97b6c7423',
    );
    const correlation = asBytes(child(first.payload, Tag.CorrelationValue)) ?? Buffer.alloc(0);
    expect(correlation).toHaveLength(16);
    const rest = [
      gcm,
      data(hexOf('1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39')),
      ttlv.bytes(Tag.CorrelationValue, correlation),
      ttlv.bool(Tag.FinalIndicator, true),
    ];
    // Another principal cannot continue it (here a tenant-admin, refused by role first).
    expect((await send(adminA, Operation.Encrypt, [uid(id), ...rest])).reason).toBe(ResultReason.PermissionDenied);
    const last = ok(await send(userA, Operation.Encrypt, [uid(id), ...rest]));
    expect(asBytes(child(last.payload, Tag.Data))?.toString('hex')).toBe('73806900e49f24b22b097544d4896b424989b5e1ebac0f07c23f4598');
    expect(asBytes(child(last.payload, Tag.AuthenticatedEncryptionTag))?.toString('hex')).toBe('3612d2e79e3b0785561be14aaca2fccb');
    // The stream is closed.
    expect((await send(userA, Operation.Encrypt, [uid(id), ...rest])).reason).toBe(ResultReason.InvalidField);
  });

  it('HMAC-SHA1/224/384/512 keys: MAC with the key’s hash (RFC 2202 vector for a registered HMAC-SHA1 key), a mismatched hash refused', async () => {
    const sha1 = await register(Buffer.alloc(20, 0x0b), CryptographicAlgorithm.HMAC_SHA1, 160);
    const mac = await send(userA, Operation.Mac, [uid(sha1), data(Buffer.from('Hi There'))]);
    expect(asBytes(child(ok(mac).payload, Tag.MacData))).toEqual(hexOf('b617318655057264e28bc0b6fb378c8ef146be00'));
    const withHash = (h: number): TtlvItem => params(ttlv.enum(Tag.HashingAlgorithm, h));
    ok(await send(userA, Operation.Mac, [uid(sha1), withHash(4), data(Buffer.from('Hi There'))]));
    expect((await send(userA, Operation.Mac, [uid(sha1), withHash(6), data(Buffer.from('Hi There'))])).reason).toBe(
      ResultReason.InvalidField,
    );
    for (const [algorithm, bits, name] of [
      [CryptographicAlgorithm.HMAC_SHA224, 224, 'sha224'],
      [CryptographicAlgorithm.HMAC_SHA384, 384, 'sha384'],
      [CryptographicAlgorithm.HMAC_SHA512, 512, 'sha512'],
    ] as const) {
      const id = await activeKey(algorithm, bits, false);
      expect((await keyOf(A, id))?.keyType).toBe(`HMAC-${name.toUpperCase()}`);
      const out = asBytes(child(ok(await send(userA, Operation.Mac, [uid(id), data(Buffer.from('m'))])).payload, Tag.MacData));
      expect(out).toEqual(
        createHmac(name, stored(A, id) ?? Buffer.alloc(0))
          .update('m')
          .digest(),
      );
    }
  });

  it('3DES: created, registered and fetched; encrypts only once the tenant policy allows legacy encryption (SP 800-67 vector)', async () => {
    const created = await activeKey(CryptographicAlgorithm.TRIPLE_DES, 168);
    expect((await keyOf(A, created))?.keyType).toBe('TDES-168');
    const got = ok(await send(userA, Operation.Get, [uid(created)]));
    expect(asInt(child(child(child(got.payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.CryptographicLength))).toBe(168);
    const id = await register(hexOf('0123456789abcdef23456789abcdef01456789abcdef0123'), CryptographicAlgorithm.TRIPLE_DES, 168);
    const plain = Buffer.from('The qufck brown fox jump', 'latin1');
    const ecb = params(mode(BlockCipherMode.ECB));
    const refused = await send(userA, Operation.Encrypt, [uid(id), ecb, data(plain)]);
    expect([refused.reason, refused.message]).toEqual([
      ResultReason.PermissionDenied,
      `key ${id} is a legacy TDES-168 key; the tenant policy does not allow legacy encryption (allowLegacyEncryption)`,
    ]);
    await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { allowLegacyEncryption: true } });
    try {
      expect(dataOf(await send(userA, Operation.Encrypt, [uid(id), ecb, data(plain)]))).toEqual(
        hexOf('a826fd8ce53b855fcce21c8112256fe668d5c05dd9b6b900'),
      );
      expect((await send(userA, Operation.Encrypt, [uid(id), data(plain)])).reason).toBe(ResultReason.InvalidField); // no mode named
      expect((await send(userA, Operation.Encrypt, [uid(id), params(mode(BlockCipherMode.GCM)), data(plain)])).reason).toBe(
        ResultReason.FeatureNotSupported,
      );
      const cbc = params(mode(BlockCipherMode.CBC), ttlv.enum(Tag.PaddingMethod, 3));
      const enc = ok(await send(userA, Operation.Encrypt, [uid(id), cbc, data(Buffer.from('legacy'))]));
      const iv = asBytes(child(enc.payload, Tag.IvCounterNonce)) ?? Buffer.alloc(0);
      expect(iv).toHaveLength(8);
      const back = await send(userA, Operation.Decrypt, [
        uid(id),
        cbc,
        data(asBytes(child(enc.payload, Tag.Data)) ?? Buffer.alloc(0)),
        ttlv.bytes(Tag.IvCounterNonce, iv),
      ]);
      expect(dataOf(back)?.toString()).toBe('legacy');
    } finally {
      await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { allowLegacyEncryption: false } });
    }
  });

  it('RNG Retrieve, RNG Seed refused precisely, Hash (SHA-256, SHA3-256), and Query lists them', async () => {
    const rng = ok(await send(userA, Operation.RngRetrieve, [ttlv.int(Tag.DataLength, 32)]));
    expect(asBytes(child(rng.payload, Tag.Data))).toHaveLength(32);
    expect((await send(userA, Operation.RngRetrieve, [ttlv.int(Tag.DataLength, 0)])).reason).toBe(ResultReason.InvalidField);
    expect((await send(userA, Operation.RngRetrieve, [])).reason).toBe(ResultReason.MissingData);
    expect((await send(auditorA, Operation.RngRetrieve, [ttlv.int(Tag.DataLength, 8)])).reason).toBe(ResultReason.PermissionDenied);
    const seed = await send(adminA, Operation.RngSeed, [data(Buffer.alloc(32))]);
    expect([seed.reason, seed.message]).toEqual([ResultReason.OperationNotSupported, expect.stringContaining('RNG Seed is not supported')]);
    const hash = (h: number, d: Buffer) => send(adminA, Operation.Hash, [params(ttlv.enum(Tag.HashingAlgorithm, h)), data(d)]);
    expect(dataOf(await hash(6, Buffer.from('abc')))?.toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(dataOf(await hash(15, Buffer.alloc(0)))?.toString('hex')).toBe(
      'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a',
    );
    expect((await hash(3, Buffer.from('abc'))).reason).toBe(ResultReason.FeatureNotSupported); // MD5
    expect((await send(adminA, Operation.Hash, [data(Buffer.from('abc'))])).reason).toBe(ResultReason.MissingData);
    const q = ok(await send(auditorA, Operation.Query, [ttlv.enum(Tag.QueryFunction, 1)]));
    const listed = children(q.payload, Tag.Operation).map(asEnum);
    expect(listed).toEqual(expect.arrayContaining([Operation.RngRetrieve, Operation.Hash, Operation.Encrypt, Operation.Mac]));
    expect(listed).not.toContain(Operation.RngSeed);
  });
});

describe('wrong tenant, unknown principals, Query and metrics', () => {
  it('refuses a certificate naming a principal of another tenant, and lists the new operations and Secret Data in Query', async () => {
    expect((await send(cert(B, userA.principalId), Operation.Locate, [])).reason).toBe(ResultReason.AuthenticationNotSuccessful);
    expect((await send(cert('ten_nowhere001', 'prn_x00000001'), Operation.Locate, [])).reason).toBe(
      ResultReason.AuthenticationNotSuccessful,
    );
    const q = ok(await send(auditorA, Operation.Query, [ttlv.enum(Tag.QueryFunction, 1), ttlv.enum(Tag.QueryFunction, 2)]));
    expect(children(q.payload, Tag.Operation).map(asEnum)).toEqual(
      expect.arrayContaining([
        Operation.Register,
        Operation.AddAttribute,
        Operation.ModifyAttribute,
        Operation.DeleteAttribute,
        Operation.MacVerify,
      ]),
    );
    expect(children(q.payload, Tag.ObjectType).map(asEnum)).toEqual([
      ObjectType.SymmetricKey,
      ObjectType.SecretData,
      ObjectType.OpaqueObject,
      ObjectType.PublicKey,
      ObjectType.PrivateKey,
      ObjectType.Certificate,
    ]);
  });

  it('authenticates only the bound certificate: the same subject from another certificate is refused, and unbinding ends access', async () => {
    const id = await activeKey();
    const forged = cert(A, userA.principalId, 1); // O=<tenant A>, CN=<its key-user>, any CA of the bundle
    const refused = await send(forged, Operation.Get, [uid(id)]);
    expect([refused.reason, refused.message]).toEqual([
      ResultReason.AuthenticationNotSuccessful,
      `no principal ${userA.principalId} is bound to this certificate (bind its SHA-256 fingerprint: PUT /v1/principals/{id}/certificate)`,
    ]);
    const scrub: Buffer[] = [];
    ok(await send(userA, Operation.Get, [uid(id)], [1, 4], scrub));
    await executor.run(A, { kind: 'principal.unbind-certificate', principalId: userA.principalId });
    expect((await send(userA, Operation.Get, [uid(id)])).reason).toBe(ResultReason.AuthenticationNotSuccessful);
    const { principalId, fingerprint } = userA;
    await executor.run(A, { kind: 'principal.bind-certificate', principalId, fingerprint });
    ok(await send(userA, Operation.Get, [uid(id)], [1, 4], scrub));
  });

  it('counts operations by operation and result, and observes their latency', async () => {
    const text = await registry.registry.metrics();
    expect(text).toMatch(/keyward_kmip_operations_total\{operation="Register",result="Success",service="kmip-spec"\} \d+/);
    expect(text).toMatch(/keyward_kmip_operations_total\{operation="Get",result="PermissionDenied",service="kmip-spec"\} \d+/);
    expect(text).toMatch(/keyward_kmip_operation_duration_seconds_count\{service="kmip-spec",operation="MacVerify"\} \d+/);
  });
});

describe('malformed payloads of every operation', () => {
  /** A deterministic generator, so that a failure names a reproducible case. */
  function random(seed: number): () => number {
    let s = seed;
    return () => {
      s = (s * 1103515245 + 12345) % 2 ** 31;
      return s / 2 ** 31;
    };
  }
  const TAGS = [
    Tag.UniqueIdentifier,
    Tag.ObjectType,
    Tag.TemplateAttribute,
    Tag.Attributes,
    Tag.Attribute,
    Tag.AttributeName,
    Tag.AttributeValue,
    Tag.AttributeIndex,
    Tag.NewAttribute,
    Tag.CurrentAttribute,
    Tag.AttributeReference,
    Tag.SymmetricKey,
    Tag.SecretData,
    Tag.KeyBlock,
    Tag.KeyFormatType,
    Tag.KeyValue,
    Tag.KeyMaterial,
    Tag.KeyWrappingSpecification,
    Tag.WrappingMethod,
    Tag.EncryptionKeyInformation,
    Tag.CryptographicParameters,
    Tag.BlockCipherMode,
    Tag.Data,
    Tag.MacData,
    Tag.IvCounterNonce,
    Tag.Name,
    Tag.NameValue,
    Tag.InitialDate,
    Tag.ActivationDate,
    Tag.CryptographicLength,
    Tag.CryptographicAlgorithm,
    Tag.RevocationReason,
    Tag.MaximumItems,
  ];

  function item(next: () => number, depth: number, keyId: string): TtlvItem {
    const tag = TAGS[Math.floor(next() * TAGS.length)] ?? Tag.UniqueIdentifier;
    switch (Math.floor(next() * (depth > 2 ? 6 : 7))) {
      case 0:
        return ttlv.text(tag, next() < 0.5 ? keyId : 'x-' + Math.floor(next() * 100).toString());
      case 1:
        return ttlv.int(tag, Math.floor(next() * 2 ** 31) - 2 ** 30);
      case 2:
        return ttlv.enum(tag, Math.floor(next() * 16));
      case 3:
        return ttlv.bytes(tag, Buffer.alloc(Math.floor(next() * 40), 7));
      case 4:
        return ttlv.date(tag, new Date(Math.floor(next() * 2 ** 31) * 1000));
      case 5:
        return ttlv.bool(tag, next() < 0.5);
      default:
        return ttlv.struct(
          tag,
          Array.from({ length: Math.floor(next() * 4) }, () => item(next, depth + 1, keyId)),
        );
    }
  }

  it('answers 3,000 generated payloads with a KMIP result, never an internal error', async () => {
    const keyId = await activeKey(CryptographicAlgorithm.AES, 256);
    const ops = [
      Operation.Create,
      Operation.Register,
      Operation.Get,
      Operation.GetAttributes,
      Operation.GetAttributeList,
      Operation.AddAttribute,
      Operation.ModifyAttribute,
      Operation.DeleteAttribute,
      Operation.SetAttribute,
      Operation.Locate,
      Operation.Encrypt,
      Operation.Decrypt,
      Operation.Mac,
      Operation.MacVerify,
      Operation.Revoke,
    ];
    const next = random(42);
    const internal: string[] = [];
    const results = new Map<number, number>();
    const USER_OPS: readonly number[] = [Operation.Get, Operation.Encrypt, Operation.Decrypt, Operation.Mac, Operation.MacVerify];
    for (let i = 0; i < 3_000; i++) {
      const op = ops[i % ops.length] ?? Operation.Get;
      // Mostly a caller whose role allows the operation, and the key named first, so that the cases get past those checks.
      const who = next() < 0.1 ? auditorA : USER_OPS.includes(op) ? userA : adminA;
      const payload = [
        ...(next() < 0.8 ? [uid(keyId)] : []),
        ...Array.from({ length: Math.floor(next() * 5) }, () => item(next, 0, keyId)),
      ];
      const version: [number, number] = i % 4 === 0 ? [2, 0] : [1, 4];
      const answer = await send(who, op, payload, version);
      results.set(answer.reason ?? 0, (results.get(answer.reason ?? 0) ?? 0) + 1);
      if (answer.reason === ResultReason.GeneralFailure) internal.push(`case ${i} (op ${op}): ${answer.message ?? ''}`);
    }
    expect(internal).toEqual([]);
    // The cases reach past the role and identifier checks: successes and several distinct refusals.
    expect(results.get(0)).toBeGreaterThan(100);
    expect(results.size).toBeGreaterThan(5);
  });
});

// ---------------------------------------------------------------------------------------------
// Appliance identities (kmip-client): ownership, KMIP Destroy, client attributes, Batch Undo.
// ---------------------------------------------------------------------------------------------

const arrayA = cert(A, 'prn_arraya001');
const tapeA = cert(A, 'prn_tapea0001');

/** Sends a batch with a Batch Error Continuation Option; answers each item's status and reason. */
async function sendBatch(who: ReturnType<typeof cert>, option: number, items: Item[]): Promise<Answer[]> {
  const message = request([1, 4], items);
  const header = child(message, Tag.RequestHeader);
  if (header?.type === ItemType.Structure) header.value.push(ttlv.enum(Tag.BatchErrorContinuationOption, option));
  const response = await operations.handle(message, who);
  return children(response, Tag.BatchItem).map((item) => ({
    status: asEnum(child(item, Tag.ResultStatus)),
    reason: asEnum(child(item, Tag.ResultReason)),
    message: asText(child(item, Tag.ResultMessage)),
    payload: child(item, Tag.ResponsePayload),
  }));
}
const attributeValue = (a: Answer, name: string): TtlvItem | undefined =>
  child(
    children(a.payload, Tag.Attribute).find((x) => asText(child(x, Tag.AttributeName)) === name),
    Tag.AttributeValue,
  );

describe('kmip-client: one appliance identity', () => {
  beforeAll(async () => {
    const past = new Date(Date.now() - 30 * DAY);
    for (const who of [arrayA, tapeA]) {
      const { principalId, fingerprint } = who;
      await executor.run(A, { kind: 'principal.create', principalId, name: principalId, role: 'kmip-client' }, past);
      await executor.run(A, { kind: 'principal.bind-certificate', principalId, fingerprint }, past);
    }
  });

  it('creates, activates, gets, encrypts, revokes and destroys its own key; every event names it as actor', async () => {
    const id = uidOf(
      await send(arrayA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 256, CryptographicUsageMask.Export | 12)),
    );
    expect((await keyOf(A, id))?.owner).toBe(arrayA.principalId);
    ok(await send(arrayA, Operation.Activate, [uid(id)]));
    // Its own exportable key: no administrator has to enable export.
    const got = ok(await send(arrayA, Operation.Get, [uid(id)]));
    expect(asBytes(child(child(child(child(got.payload, Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial))).toEqual(
      stored(A, id),
    );
    const before = usage.length;
    ok(await send(arrayA, Operation.Encrypt, [uid(id), ttlv.bytes(Tag.Data, Buffer.from('volume block'))]));
    expect(usage.slice(before)).toEqual([
      expect.objectContaining({ principalId: arrayA.principalId, role: 'kmip-client', operation: 'encrypt', keyId: id, outcome: 'ok' }),
    ]);
    ok(await send(arrayA, Operation.Revoke, [uid(id), ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, 5)])]));
    ok(await send(arrayA, Operation.Destroy, [uid(id)]));
    // The tenant's default policy is pending: unusable at once, reported as destroyed.
    const key = await keyOf(A, id);
    expect(key).toMatchObject({ state: 'Deactivated', useSuspended: true });
    const state = ok(await send(arrayA, Operation.GetAttributes, [uid(id), ttlv.text(Tag.AttributeName, 'State')]));
    expect(asEnum(child(child(state.payload, Tag.Attribute), Tag.AttributeValue))).toBe(State.Destroyed);
    expect(
      (
        await send(arrayA, Operation.Decrypt, [
          uid(id),
          ttlv.bytes(Tag.Data, Buffer.alloc(32)),
          ttlv.bytes(Tag.IvCounterNonce, Buffer.alloc(12)),
        ])
      ).reason,
    ).toBe(ResultReason.IllegalOperation);
    const actors = (await executor.current(A)).keys.get(id)?.history.map((h) => h.actor.principalId);
    expect(new Set(actors)).toEqual(new Set([arrayA.principalId]));
  });

  it("another kmip-client's key and an unowned key do not exist for it (Item Not Found, as another tenant's); Locate shows only its own keys", async () => {
    const id = uidOf(await send(arrayA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128)));
    const adminKey = uidOf(await send(adminA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128)));
    for (const op of [Operation.Activate, Operation.Get, Operation.GetAttributes, Operation.Destroy, Operation.Revoke]) {
      const reason = ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, 6)]);
      expect((await send(tapeA, op, [uid(id), ...(op === Operation.Revoke ? [reason] : [])])).reason).toBe(ResultReason.ItemNotFound);
    }
    expect((await send(arrayA, Operation.Activate, [uid(adminKey)])).reason).toBe(ResultReason.ItemNotFound);
    expect((await send(adminB, Operation.GetAttributes, [uid(id)])).reason).toBe(ResultReason.ItemNotFound);
    const found = ok(await send(arrayA, Operation.Locate, [])).payload;
    const ids = children(found, Tag.UniqueIdentifier).map(asText);
    expect(ids).toContain(id);
    expect(ids).not.toContain(adminKey);
    expect(children(ok(await send(tapeA, Operation.Locate, [])).payload, Tag.UniqueIdentifier).map(asText)).not.toContain(id);
    // An administrator assigns the key: now the other appliance may act on it.
    await executor.run(A, { kind: 'key.assign-owner', keyId: adminKey, owner: tapeA.principalId });
    ok(await send(tapeA, Operation.Activate, [uid(adminKey)]));
  });

  it('Destroy: never-activated at once; Active refused; immediate-for-owner shreds a revoked key at once', async () => {
    const fresh = uidOf(await send(arrayA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128)));
    ok(await send(arrayA, Operation.Destroy, [uid(fresh)]));
    expect((await keyOf(A, fresh))?.state).toBe('Destroyed');
    const active = uidOf(await send(arrayA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128)));
    ok(await send(arrayA, Operation.Activate, [uid(active)]));
    const refused = await send(arrayA, Operation.Destroy, [uid(active)]);
    // KMIP 1.4: an Active object is not destroyed, Permission Denied (SKLC-M-2-14).
    expect(refused.reason).toBe(ResultReason.PermissionDenied);
    expect(refused.message).toMatch(/revoke it first/);
    await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { kmipDestroy: 'immediate-for-owner' } });
    try {
      ok(await send(arrayA, Operation.Revoke, [uid(active), ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, 2)])]));
      ok(await send(arrayA, Operation.Destroy, [uid(active)]));
      expect((await keyOf(A, active))?.state).toBe('DestroyedCompromised');
    } finally {
      await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { kmipDestroy: 'pending' } });
    }
  });

  it('honours the usage dates: no Encrypt or MAC from the Protect Stop Date, no Decrypt before the Process Start Date', async () => {
    const hour = 3_600_000;
    const withDates = (start: number, stop: number) =>
      createPayload(
        CryptographicAlgorithm.AES,
        128,
        0,
        attribute('Process Start Date', ttlv.date(0, new Date(Date.now() + start))),
        attribute('Protect Stop Date', ttlv.date(0, new Date(Date.now() + stop))),
      );
    const ecb = ttlv.struct(Tag.CryptographicParameters, [ttlv.enum(Tag.BlockCipherMode, BlockCipherMode.ECB)]);
    const crypt = (op: number, id: string) => send(arrayA, op, [uid(id), ecb, ttlv.bytes(Tag.Data, Buffer.alloc(16, 1))]);
    const closed = uidOf(await send(arrayA, Operation.Create, withDates(hour, -hour)));
    ok(await send(arrayA, Operation.Activate, [uid(closed)]));
    expect((await crypt(Operation.Encrypt, closed)).reason).toBe(ResultReason.PermissionDenied);
    expect((await crypt(Operation.Decrypt, closed)).reason).toBe(ResultReason.PermissionDenied);
    const open = uidOf(await send(arrayA, Operation.Create, withDates(-hour, hour)));
    ok(await send(arrayA, Operation.Activate, [uid(open)]));
    ok(await crypt(Operation.Encrypt, open));
    ok(await crypt(Operation.Decrypt, open));
    const notADate = createPayload(CryptographicAlgorithm.AES, 128, 0, attribute('Protect Stop Date', ttlv.text(0, 'tomorrow')));
    expect((await send(arrayA, Operation.Create, notADate)).reason).toBe(ResultReason.InvalidField);
  });

  it('keeps every attribute of a Create and answers it back; refuses what it cannot keep; Locate finds by them', async () => {
    const asi = ttlv.struct(0, [ttlv.text(Tag.ApplicationNamespace, 'ssl'), ttlv.text(Tag.ApplicationData, 'www.example.com')]);
    const params = ttlv.struct(0, [ttlv.enum(Tag.BlockCipherMode, BlockCipherMode.CBC)]);
    const altName = ttlv.struct(0, [ttlv.text(Tag.AlternativeNameValue, 'vol-7'), ttlv.enum(Tag.AlternativeNameType, 1)]);
    const id = uidOf(
      await send(
        arrayA,
        Operation.Create,
        createPayload(
          CryptographicAlgorithm.AES,
          256,
          12,
          attribute('Object Group', ttlv.text(0, 'volumes')),
          attribute('Object Group', ttlv.text(0, 'array-7')),
          attribute('Application Specific Information', asi),
          attribute('Cryptographic Parameters', params),
          attribute('Alternative Name', altName),
          attribute('Contact Information', ttlv.text(0, 'storage-ops')),
          attribute('x-slot', ttlv.int(0, 42)),
          attribute('x-Serial', ttlv.bytes(0, Buffer.from('0a0b', 'hex'))),
          attribute('y-when', ttlv.date(0, new Date('2030-01-01T00:00:00Z'))),
        ),
      ),
    );
    const all = ok(await send(arrayA, Operation.GetAttributes, [uid(id)]));
    const groups = children(all.payload, Tag.Attribute)
      .filter((a) => asText(child(a, Tag.AttributeName)) === 'Object Group')
      .map((a) => asText(child(a, Tag.AttributeValue)));
    expect(groups).toEqual(['volumes', 'array-7']);
    expect(asText(child(attributeValue(all, 'Application Specific Information'), Tag.ApplicationData))).toBe('www.example.com');
    expect(asEnum(child(attributeValue(all, 'Cryptographic Parameters'), Tag.BlockCipherMode))).toBe(BlockCipherMode.CBC);
    expect(asText(child(attributeValue(all, 'Alternative Name'), Tag.AlternativeNameValue))).toBe('vol-7');
    expect(asText(attributeValue(all, 'Contact Information'))).toBe('storage-ops');
    expect(asInt(attributeValue(all, 'x-slot'))).toBe(42);
    expect(asBytes(attributeValue(all, 'x-Serial'))).toEqual(Buffer.from('0a0b', 'hex'));
    expect(asInt(attributeValue(all, 'Cryptographic Usage Mask'))).toBe(12);
    expect(asBytes(child(attributeValue(all, 'Digest'), Tag.DigestValue))).toEqual(
      createHash('sha256')
        .update(stored(A, id) ?? '')
        .digest(),
    );
    // Unnamed in 1.x: the 2.0 attributes and the Random Number Generator, which 1.x clients may not parse; by name, answered.
    for (const name of ['Extractable', 'Always Sensitive', 'Never Extractable', 'Random Number Generator'])
      expect(attributeValue(all, name)).toBeUndefined();
    for (const name of ['Fresh', 'Sensitive', 'Original Creation Date', 'Initial Date', 'Last Change Date', 'Unique Identifier', 'State'])
      expect(attributeValue(all, name)).toBeDefined();
    const named = ok(
      await send(arrayA, Operation.GetAttributes, [
        uid(id),
        ...['Extractable', 'Never Extractable', 'Random Number Generator'].map((n) => ttlv.text(Tag.AttributeName, n)),
      ]),
    );
    expect(asBool(attributeValue(named, 'Extractable'))).toBe(true); // an appliance's own key, no Extractable given
    expect(asBool(attributeValue(named, 'Never Extractable'))).toBe(false);
    expect(asEnum(child(attributeValue(named, 'Random Number Generator'), Tag.RngAlgorithm))).toBe(RngAlgorithm.Drbg);
    const list = ok(await send(arrayA, Operation.GetAttributeList, [uid(id)]));
    expect(children(list.payload, Tag.AttributeName).map(asText)).toEqual(
      expect.arrayContaining(['Digest', 'Object Group', 'x-slot', 'y-when', 'Extractable', 'Always Sensitive', 'Random Number Generator']),
    );

    const locate = async (...filters: TtlvItem[]) =>
      children(ok(await send(arrayA, Operation.Locate, filters)).payload, Tag.UniqueIdentifier).map(asText);
    expect(await locate(attribute('Object Group', ttlv.text(0, 'array-7')))).toEqual([id]);
    expect(
      await locate(attribute('Application Specific Information', ttlv.struct(0, [ttlv.text(Tag.ApplicationNamespace, 'ssl')]))),
    ).toEqual([id]);
    expect(await locate(attribute('x-slot', ttlv.int(0, 42)))).toEqual([id]);
    expect(await locate(attribute('Cryptographic Usage Mask', ttlv.int(0, 8)), attribute('Object Group', ttlv.text(0, 'volumes')))).toEqual(
      [id],
    );
    expect(await locate(attribute('Object Group', ttlv.text(0, 'tapes')))).toEqual([]);

    // Add, Modify (by index) and Delete of a multi-instance attribute, each a key.change-attributes event.
    ok(await send(arrayA, Operation.AddAttribute, [uid(id), attribute('Object Group', ttlv.text(0, 'tapes'))]));
    const modify = ttlv.struct(Tag.Attribute, [
      ttlv.text(Tag.AttributeName, 'Object Group'),
      ttlv.int(Tag.AttributeIndex, 1),
      ttlv.text(Tag.AttributeValue, 'array-8'),
    ]);
    ok(await send(arrayA, Operation.ModifyAttribute, [uid(id), modify]));
    ok(
      await send(arrayA, Operation.DeleteAttribute, [
        uid(id),
        ttlv.text(Tag.AttributeName, 'Object Group'),
        ttlv.int(Tag.AttributeIndex, 0),
      ]),
    );
    expect((await keyOf(A, id))?.attributes?.['Object Group']).toHaveLength(2);
    expect(await locate(attribute('Object Group', ttlv.text(0, 'array-8')))).toEqual([id]);
    expect((await send(arrayA, Operation.AddAttribute, [uid(id), attribute('Contact Information', ttlv.text(0, 'x'))])).reason).toBe(
      ResultReason.IllegalOperation,
    );
    expect(
      (
        await send(arrayA, Operation.DeleteAttribute, [
          uid(id),
          ttlv.text(Tag.AttributeName, 'Object Group'),
          ttlv.int(Tag.AttributeIndex, 5),
        ])
      ).reason,
    ).toBe(ResultReason.ItemNotFound);
    expect(executor.commands.filter((c) => c.kind === 'key.change-attributes').length).toBeGreaterThanOrEqual(3);

    // Refused, never dropped: an attribute Keyward does not keep, a server attribute, two Names.
    const refusedCreate = async (...extra: TtlvItem[]) =>
      (await send(arrayA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128, 0, ...extra))).reason;
    expect(await refusedCreate(attribute('Lease Time', ttlv.interval(0, 60)))).toBe(ResultReason.InvalidField);
    expect(await refusedCreate(attribute('State', ttlv.enum(0, State.Active)))).toBe(ResultReason.InvalidField);
    expect(await refusedCreate(attribute('Name', ttlv.text(0, 'one')), attribute('Name', ttlv.text(0, 'two')))).toBe(
      ResultReason.InvalidField,
    );
  });

  it('Batch Undo: a failed item undoes the items before it; nothing reaches the log', async () => {
    const seq = (await executor.current(A)).seq;
    const answers = await sendBatch(arrayA, 3, [
      [Operation.Create, createPayload(CryptographicAlgorithm.AES, 256)],
      [Operation.Activate, []],
      [Operation.Encrypt, [ttlv.bytes(Tag.Data, Buffer.from('x'))]],
      [Operation.Destroy, []],
    ]);
    expect(answers.map((a) => a.status)).toEqual([
      ResultStatus.OperationUndone,
      ResultStatus.OperationUndone,
      ResultStatus.OperationUndone,
      ResultStatus.OperationFailed,
    ]);
    expect(answers[3]?.reason).toBe(ResultReason.PermissionDenied);
    expect((await executor.current(A)).seq).toBe(seq);

    const done = await sendBatch(arrayA, 3, [
      [Operation.Create, createPayload(CryptographicAlgorithm.AES, 256)],
      [Operation.Activate, []],
    ]);
    expect(done.map((a) => a.status)).toEqual([ResultStatus.Success, ResultStatus.Success]);
    const id = asText(child(done[0]?.payload, Tag.UniqueIdentifier)) ?? '';
    expect((await keyOf(A, id))?.state).toBe('Active');
    expect((await executor.current(A)).seq).toBe(seq + 2);
  });
});

describe('grants (a KMIP identity is a principal like any other)', () => {
  const encryptWith = (id: string, aad?: Buffer) =>
    send(userA, Operation.Encrypt, [
      uid(id),
      ttlv.bytes(Tag.Data, Buffer.from('hi')),
      ...(aad ? [ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, aad)] : []),
    ]);
  const grant = (grantId: string, operations: string[], ids: string[], conditions = {}) =>
    executor.run(A, {
      kind: 'grant.create',
      grantId,
      principalId: userA.principalId,
      operations,
      keys: { ids },
      conditions,
    } as KeywardCommand);

  it('decides Encrypt, MAC and Get by the same authorize as REST: no grant is Item Not Found, a grant that does not allow it Permission Denied', async () => {
    const aes = await activeKey();
    const hmac = await activeKey(CryptographicAlgorithm.HMAC_SHA256, 256);
    await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { grants: 'required' } });
    try {
      expect((await encryptWith(aes)).reason).toBe(ResultReason.ItemNotFound);
      expect((await send(userA, Operation.Get, [uid(aes)])).reason).toBe(ResultReason.ItemNotFound);
      await grant('grt_kmip00001', ['mac'], [hmac, aes]);
      expect((await encryptWith(aes)).reason).toBe(ResultReason.PermissionDenied);
      expect(usage.at(-1)).toMatchObject({ operation: 'encrypt', keyId: aes, outcome: 'forbidden' });
      ok(await send(userA, Operation.Mac, [uid(hmac), ttlv.bytes(Tag.Data, Buffer.from('x'))]));
      expect(usage.at(-1)).toMatchObject({ operation: 'mac', keyId: hmac, outcome: 'ok', grantId: 'grt_kmip00001' });
      expect(
        (
          await send(userA, Operation.MacVerify, [
            uid(hmac),
            ttlv.bytes(Tag.Data, Buffer.from('x')),
            ttlv.bytes(Tag.MacData, Buffer.alloc(32)),
          ])
        ).reason,
      ).toBe(ResultReason.PermissionDenied);
      // An encryption-context condition sees the request's AAD.
      await grant('grt_kmip00002', ['encrypt'], [aes], { encryptionContext: { app: 'billing' } });
      expect((await encryptWith(aes, Buffer.from('{"app":"hr"}'))).reason).toBe(ResultReason.PermissionDenied);
      ok(await encryptWith(aes, Buffer.from('{"app":"billing"}')));
      expect(usage.at(-1)).toMatchObject({ operation: 'encrypt', keyId: aes, outcome: 'ok', grantId: 'grt_kmip00002' });
      expect((await send(userA, Operation.Get, [uid(aes)])).reason).toBe(ResultReason.PermissionDenied);
      await grant('grt_kmip00003', ['export'], [aes]);
      ok(await send(userA, Operation.Get, [uid(aes)]));
      expect(usage.at(-1)).toMatchObject({ operation: 'export', keyId: aes, outcome: 'ok', grantId: 'grt_kmip00003' });
      await executor.run(A, { kind: 'grant.revoke', grantId: 'grt_kmip00003' });
      expect((await send(userA, Operation.Get, [uid(aes)])).reason).toBe(ResultReason.PermissionDenied);
    } finally {
      await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { grants: 'open' } });
    }
  });

  it('Locate, Get Attributes and Get Attribute List show a key-user only the keys a grant lets it read; others do not exist for it', async () => {
    const located = async (who: typeof userA) =>
      children(ok(await send(who, Operation.Locate, [])).payload, Tag.UniqueIdentifier).map(asText);
    const aes = await activeKey();
    const owned = uidOf(await send(arrayA, Operation.Create, createPayload(CryptographicAlgorithm.AES, 128)));
    expect(await located(userA)).toContain(aes); // open: every key of the tenant
    await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { grants: 'required' } });
    try {
      expect(await located(userA)).toEqual([]);
      for (const op of [Operation.GetAttributes, Operation.GetAttributeList]) {
        expect((await send(userA, op, [uid(aes)])).reason).toBe(ResultReason.ItemNotFound);
      }
      // A grant that covers the key without read: still not listed; reading it is Permission Denied (as REST's 403).
      await grant('grt_kmipread1', ['encrypt'], [aes]);
      expect(await located(userA)).toEqual([]);
      expect((await send(userA, Operation.GetAttributes, [uid(aes)])).reason).toBe(ResultReason.PermissionDenied);
      await grant('grt_kmipread2', ['read'], [aes]);
      expect(await located(userA)).toEqual([aes]);
      expect(asText(child(ok(await send(userA, Operation.GetAttributes, [uid(aes)])).payload, Tag.UniqueIdentifier))).toBe(aes);
      ok(await send(userA, Operation.GetAttributeList, [uid(aes)]));
      await executor.run(A, { kind: 'grant.revoke', grantId: 'grt_kmipread2' });
      expect(await located(userA)).toEqual([]);
      expect((await send(userA, Operation.GetAttributes, [uid(aes)])).reason).toBe(ResultReason.PermissionDenied);
      // Administrators and auditors see every key; an appliance its own.
      for (const who of [adminA, auditorA]) expect(await located(who)).toEqual(expect.arrayContaining([aes, owned]));
      expect(await located(arrayA)).toContain(owned);
      expect(await located(arrayA)).not.toContain(aes);
      ok(await send(arrayA, Operation.GetAttributes, [uid(owned)]));
    } finally {
      await executor.run(A, { kind: 'tenant.set-policy', tenantId: A, policy: { grants: 'open' } });
    }
  });
});
