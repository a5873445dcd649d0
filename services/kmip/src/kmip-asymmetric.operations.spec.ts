import { constants, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, sign, verify } from 'node:crypto';
import { keyCheckValue, publicKeyCheckValue } from '@keyward/crypto';
import {
  decide,
  evolveCommit,
  isAsymmetricKeyType,
  publishedSigningKeys,
  stamp,
  TenantLog,
  type DecisionContext,
  type KeywardCommand,
  type KeywardEvent,
  type Role,
} from '@keyward/domain';
import type { CommandExecutor } from '@keyward/event-log';
import {
  asBytes,
  asEnum,
  asInt,
  asText,
  CertificateType,
  child,
  children,
  CryptographicAlgorithm,
  DigitalSignatureAlgorithm,
  HashingAlgorithm,
  KeyFormatType,
  LinkType,
  ObjectType,
  Operation,
  PaddingMethod,
  RecommendedCurve,
  ResultReason,
  ResultStatus,
  Tag,
  ttlv,
  ValidityIndicator,
  type TtlvItem,
} from '@keyward/kmip';
import type { KeyMaterialService, KeyStateSource, UsageRecorder } from '@keyward/keys';
import { KmipOperations } from './kmip.operations';

jest.setTimeout(60_000);

const TENANT = 'ten_pairs1';
const OTHER_TENANT = 'ten_pairs2';
const ctx = (principalId: string, role: Role): DecisionContext => ({
  now: new Date(Date.now() - 60_000),
  actor: { principalId, role },
  correlationId: 'c',
});

/** A tenant's log with its principals, each bound to the certificate fingerprint `<principalId>` repeated. */
function tenant(tenantId: string, principals: [string, Role][], grants: 'open' | 'required' = 'open'): TenantLog {
  const log = new TenantLog(tenantId);
  const apply = (command: KeywardCommand, c: DecisionContext): void => {
    evolveCommit(log, { seq: log.seq + 1, events: stamp(decide(command, log, c), c) });
  };
  apply({ kind: 'tenant.onboard', tenantId, name: tenantId, grants }, ctx('prn_provider', 'provider-admin'));
  for (const [principalId, role] of principals) {
    apply({ kind: 'principal.create', principalId, name: principalId, role }, ctx('prn_admin', 'tenant-admin'));
    log.certificates.set(principalId, { fingerprint: fingerprint(principalId), boundAt: '', boundBy: 'prn_admin' });
  }
  return log;
}
const fingerprint = (principalId: string): string => Buffer.from(principalId.padEnd(32, '.')).toString('hex');
const identity = (tenantId: string, principalId: string) => ({
  tenantId,
  principalId,
  fingerprint: fingerprint(principalId),
  subjectAttributes: [`CN=${principalId}`, `O=${tenantId}`],
});

const logs = new Map<string, TenantLog>([
  [
    TENANT,
    tenant(TENANT, [
      ['prn_admin', 'tenant-admin'],
      ['prn_user', 'key-user'],
      ['prn_auditor', 'auditor'],
      ['prn_app1', 'kmip-client'],
      ['prn_app2', 'kmip-client'],
    ]),
  ],
  [OTHER_TENANT, tenant(OTHER_TENANT, [['prn_outsider', 'key-user']])],
  [
    'ten_pairs3',
    tenant(
      'ten_pairs3',
      [
        ['prn_admin', 'tenant-admin'],
        ['prn_user', 'key-user'],
      ],
      'required',
    ),
  ],
]);

/** The write side as the executor runs it: decide, stamp, store the material (the callback), fold. */
const executor = {
  current: (tenantId: string) => Promise.resolve(logs.get(tenantId) ?? new TenantLog(tenantId)),
  execute: async (
    tenantId: string,
    command: KeywardCommand,
    context: DecisionContext,
    before?: (events: KeywardEvent[]) => Promise<void>,
  ) => {
    const log = logs.get(tenantId)!;
    const events = stamp(decide(command, log, context), context);
    await before?.(events);
    evolveCommit(log, { seq: log.seq + 1, events });
    return { events, seq: log.seq };
  },
} as unknown as CommandExecutor;

/** The keystore: material by key version (the real service wraps it under the tenant KEK). */
const store = new Map<string, Buffer>();
const materials = {
  checkValue: (_t: string, _k: string, keyType: string, material: Buffer) =>
    Promise.resolve(isAsymmetricKeyType(keyType) ? publicKeyCheckValue(material) : keyCheckValue(material)),
  storeNewMaterial: (ref: { tenantId: string; keyId: string; version: number }, material: Buffer) => {
    store.set(`${ref.tenantId}/${ref.keyId}/${ref.version}`, Buffer.from(material));
    return Promise.resolve();
  },
  withMaterial: <T>(ref: { tenantId: string; keyId: string; version: number }, _kcv: string, work: (m: Buffer) => T) =>
    Promise.resolve(work(store.get(`${ref.tenantId}/${ref.keyId}/${ref.version}`)!)),
} as unknown as KeyMaterialService;
const usage: { operation: string; outcome: string; keyId: string | null }[] = [];
const recorder = { record: (r: (typeof usage)[number]) => usage.push(r), admit: () => undefined } as unknown as UsageRecorder;
const operations = new KmipOperations(executor, materials, recorder);

const attribute = (name: string, value: TtlvItem): TtlvItem =>
  ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue }]);
const template = (tag: number, attributes: TtlvItem[]): TtlvItem => ttlv.struct(tag, attributes);

function message(version: [number, number], items: [number, TtlvItem[]][]): TtlvItem {
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
  readonly text: string | undefined;
  readonly payload: TtlvItem | undefined;
}

async function send(
  who: string,
  operation: number,
  payload: TtlvItem[],
  options: { tenantId?: string; version?: [number, number] } = {},
): Promise<Answer> {
  const response = await operations.handle(
    message(options.version ?? [1, 4], [[operation, payload]]),
    identity(options.tenantId ?? TENANT, who),
  );
  const item = children(response, Tag.BatchItem)[0];
  return {
    status: asEnum(child(item, Tag.ResultStatus)),
    reason: asEnum(child(item, Tag.ResultReason)),
    text: asText(child(item, Tag.ResultMessage)),
    payload: child(item, Tag.ResponsePayload),
  };
}

const ok = (a: Answer): TtlvItem | undefined => {
  if (a.status !== ResultStatus.Success) throw new Error(`refused: ${a.reason} ${a.text}`);
  return a.payload;
};

/** Create Key Pair (1.x templates) as `who`; answers the two Unique Identifiers. */
async function createPair(
  who: string,
  common: TtlvItem[],
  options: { tenantId?: string; activate?: boolean; version?: [number, number]; publicAttributes?: TtlvItem[] } = {},
): Promise<{ privateId: string; publicId: string }> {
  const payload = [
    template(Tag.CommonTemplateAttribute, common),
    template(Tag.PrivateKeyTemplateAttribute, []),
    template(Tag.PublicKeyTemplateAttribute, options.publicAttributes ?? []),
  ];
  const out = ok(await send(who, Operation.CreateKeyPair, payload, options));
  const privateId = asText(child(out, Tag.PrivateKeyUniqueIdentifier))!;
  const publicId = asText(child(out, Tag.PublicKeyUniqueIdentifier))!;
  if (options.activate !== false) ok(await send(who, Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, privateId)], options));
  return { privateId, publicId };
}

const rsa = (bits: number): TtlvItem[] => [
  attribute('Cryptographic Algorithm', ttlv.enum(Tag.AttributeValue, CryptographicAlgorithm.RSA)),
  attribute('Cryptographic Length', ttlv.int(Tag.AttributeValue, bits)),
];
const ec = (bits: number): TtlvItem[] => [
  attribute('Cryptographic Algorithm', ttlv.enum(Tag.AttributeValue, CryptographicAlgorithm.ECDSA)),
  attribute('Cryptographic Length', ttlv.int(Tag.AttributeValue, bits)),
];
const parameters = (fields: [number, number][]): TtlvItem =>
  ttlv.struct(
    Tag.CryptographicParameters,
    fields.map(([tag, value]) => ttlv.enum(tag, value)),
  );
const message1 = Buffer.from('pay 100 EUR to Alice');

async function publicKeyOf(who: string, publicId: string): Promise<Buffer> {
  const out = ok(await send(who, Operation.Get, [ttlv.text(Tag.UniqueIdentifier, publicId)]));
  return asBytes(child(child(child(child(out, Tag.PublicKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial))!;
}
async function signed(who: string, id: string, fields: [number, number][], data = message1): Promise<Answer> {
  return send(who, Operation.Sign, [ttlv.text(Tag.UniqueIdentifier, id), parameters(fields), ttlv.bytes(Tag.Data, data)]);
}
async function verified(
  who: string,
  id: string,
  fields: [number, number][],
  signature: Buffer,
  data = message1,
): Promise<number | undefined> {
  const out = ok(
    await send(who, Operation.SignatureVerify, [
      ttlv.text(Tag.UniqueIdentifier, id),
      parameters(fields),
      ttlv.bytes(Tag.Data, data),
      ttlv.bytes(Tag.SignatureData, signature),
    ]),
  );
  return asEnum(child(out, Tag.ValidityIndicator));
}
const signatureOf = (a: Answer): Buffer => asBytes(child(ok(a), Tag.SignatureData))!;

describe('KMIP key pairs: Create Key Pair, Get of the public key, Sign, Signature Verify, RSA-OAEP', () => {
  it('creates an RSA-2048 pair as one key seen as two linked objects', async () => {
    const { privateId, publicId } = await createPair('prn_admin', rsa(2048));
    expect(publicId).toBe(`${privateId}.public`);
    const key = logs.get(TENANT)!.keys.get(privateId)!;
    expect(key).toMatchObject({ keyType: 'RSA-2048', kmipOnly: true, exportable: false, state: 'Active' });

    const attributes = async (id: string): Promise<Map<string, TtlvItem>> => {
      const out = ok(await send('prn_admin', Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, id)]));
      expect(asText(child(out, Tag.UniqueIdentifier))).toBe(id);
      return new Map(
        children(out, Tag.Attribute).map((a) => [asText(child(a, Tag.AttributeName))!, child(a, Tag.AttributeValue)!] as const),
      );
    };
    const priv = await attributes(privateId);
    const pub = await attributes(publicId);
    expect(asEnum(priv.get('Object Type'))).toBe(ObjectType.PrivateKey);
    expect(asEnum(pub.get('Object Type'))).toBe(ObjectType.PublicKey);
    expect(asEnum(pub.get('Cryptographic Algorithm'))).toBe(CryptographicAlgorithm.RSA);
    expect(pub.get('Cryptographic Length')).toMatchObject({ value: 2048 });
    expect(asEnum(child(priv.get('Link'), Tag.LinkType))).toBe(LinkType.PublicKeyLink);
    expect(asText(child(priv.get('Link'), Tag.LinkedObjectIdentifier))).toBe(publicId);
    expect(asEnum(child(pub.get('Link'), Tag.LinkType))).toBe(LinkType.PrivateKeyLink);
    expect(asText(child(pub.get('Link'), Tag.LinkedObjectIdentifier))).toBe(privateId);
    expect(pub.get('Cryptographic Usage Mask')).toMatchObject({ value: 0x2 | 0x4 }); // Verify | Encrypt
    expect(priv.get('Cryptographic Usage Mask')).toMatchObject({ value: 0x1 | 0x8 }); // Sign | Decrypt
  });

  it('signs with RSA PKCS#1 v1.5 and PSS and ECDSA; signatures verify with the served public key (Node) and over KMIP', async () => {
    const cases: { common: TtlvItem[]; fields: [number, number][]; check: (spki: Buffer, sig: Buffer) => boolean }[] = [
      {
        common: rsa(2048),
        fields: [[Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA256WithRSA]],
        check: (spki, sig) => verify('sha256', message1, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig),
      },
      {
        common: rsa(3072),
        fields: [
          [Tag.PaddingMethod, PaddingMethod.PSS],
          [Tag.HashingAlgorithm, HashingAlgorithm.SHA_384],
        ],
        check: (spki, sig) =>
          verify(
            'sha384',
            message1,
            { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 48 },
            sig,
          ),
      },
      {
        common: ec(256),
        fields: [[Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.ECDSAWithSHA256]],
        check: (spki, sig) => verify('sha256', message1, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig),
      },
      {
        common: [
          attribute('Cryptographic Algorithm', ttlv.enum(Tag.AttributeValue, CryptographicAlgorithm.EC)),
          attribute('Recommended Curve', ttlv.enum(Tag.AttributeValue, RecommendedCurve.P_384)),
        ],
        fields: [],
        check: (spki, sig) => verify('sha384', message1, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig),
      },
    ];
    for (const { common, fields, check } of cases) {
      const { privateId, publicId } = await createPair('prn_admin', common);
      const signature = signatureOf(await signed('prn_user', privateId, fields));
      const spki = await publicKeyOf('prn_user', publicId);
      expect(check(spki, signature)).toBe(true);
      expect(await verified('prn_user', publicId, fields, signature)).toBe(ValidityIndicator.Valid);
      expect(await verified('prn_user', publicId, fields, signature, Buffer.from('pay 900 EUR to Mallory'))).toBe(
        ValidityIndicator.Invalid,
      );
      const tampered = Buffer.from(signature);
      tampered[10] = (tampered[10] ?? 0) ^ 1;
      expect(await verified('prn_user', publicId, fields, tampered)).toBe(ValidityIndicator.Invalid);
      expect(await verified('prn_user', publicId, fields, Buffer.alloc(3))).toBe(ValidityIndicator.Invalid);
    }
  });

  it('creates Ed25519 pairs in KMIP 2.0 only', async () => {
    const ed = [attribute('Cryptographic Algorithm', ttlv.enum(Tag.AttributeValue, CryptographicAlgorithm.Ed25519))];
    const refused = await send('prn_admin', Operation.CreateKeyPair, [template(Tag.CommonTemplateAttribute, ed)]);
    expect(refused.reason).toBe(ResultReason.InvalidField);
    const payload = [
      ttlv.struct(Tag.CommonAttributes, [ttlv.enum(Tag.CryptographicAlgorithm, CryptographicAlgorithm.Ed25519)]),
      ttlv.struct(Tag.PrivateKeyAttributes, []),
      ttlv.struct(Tag.PublicKeyAttributes, []),
    ];
    const out = ok(await send('prn_admin', Operation.CreateKeyPair, payload, { version: [2, 0] }));
    const privateId = asText(child(out, Tag.PrivateKeyUniqueIdentifier))!;
    ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, privateId)], { version: [2, 0] }));
    const signature = signatureOf(await signed('prn_user', privateId, []));
    const spki = await publicKeyOf('prn_user', `${privateId}.public`);
    expect(verify(null, message1, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature)).toBe(true);
  });

  it('encrypts with RSA-OAEP-SHA256 on the public key and decrypts on the private key; a changed ciphertext is a Cryptographic Failure', async () => {
    const { privateId, publicId } = await createPair('prn_admin', rsa(2048));
    const oaep: [number, number][] = [
      [Tag.PaddingMethod, PaddingMethod.OAEP],
      [Tag.HashingAlgorithm, HashingAlgorithm.SHA_256],
    ];
    const sealed = ok(
      await send('prn_user', Operation.Encrypt, [
        ttlv.text(Tag.UniqueIdentifier, publicId),
        parameters(oaep),
        ttlv.bytes(Tag.Data, message1),
      ]),
    );
    const ciphertext = asBytes(child(sealed, Tag.Data))!;
    expect(ciphertext).toHaveLength(256);
    const opened = ok(
      await send('prn_user', Operation.Decrypt, [
        ttlv.text(Tag.UniqueIdentifier, privateId),
        parameters(oaep),
        ttlv.bytes(Tag.Data, ciphertext),
      ]),
    );
    expect(asBytes(child(opened, Tag.Data))).toEqual(message1);
    // A ciphertext made outside Keyward with the served public key opens too.
    const spki = await publicKeyOf('prn_user', publicId);
    const outside = publicEncrypt(
      { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from('outside'),
    );
    const fromOutside = ok(
      await send('prn_user', Operation.Decrypt, [ttlv.text(Tag.UniqueIdentifier, privateId), ttlv.bytes(Tag.Data, outside)]),
    );
    expect(asBytes(child(fromOutside, Tag.Data))?.toString()).toBe('outside');
    const changed = Buffer.from(ciphertext);
    changed[0] = (changed[0] ?? 0) ^ 1;
    const bad = await send('prn_user', Operation.Decrypt, [ttlv.text(Tag.UniqueIdentifier, privateId), ttlv.bytes(Tag.Data, changed)]);
    expect(bad.reason).toBe(ResultReason.CryptographicFailure);
    const sha1 = await send('prn_user', Operation.Encrypt, [
      ttlv.text(Tag.UniqueIdentifier, publicId),
      parameters([[Tag.HashingAlgorithm, HashingAlgorithm.SHA_1]]),
      ttlv.bytes(Tag.Data, message1),
    ]);
    expect(sha1.reason).toBe(ResultReason.InvalidField);
    const tooLong = await send('prn_user', Operation.Encrypt, [
      ttlv.text(Tag.UniqueIdentifier, publicId),
      ttlv.bytes(Tag.Data, Buffer.alloc(191)),
    ]);
    expect(tooLong.reason).toBe(ResultReason.InvalidField);
  });

  it('uses each object for what it is: sign and decrypt on the private key, verify and encrypt on the public key', async () => {
    const { privateId, publicId } = await createPair('prn_admin', rsa(2048));
    const onPublic = await signed('prn_user', publicId, []);
    expect(onPublic.reason).toBe(ResultReason.IllegalOperation);
    expect(onPublic.text).toContain(`name ${privateId}`);
    const encryptPrivate = await send('prn_user', Operation.Encrypt, [
      ttlv.text(Tag.UniqueIdentifier, privateId),
      ttlv.bytes(Tag.Data, message1),
    ]);
    expect(encryptPrivate.reason).toBe(ResultReason.IllegalOperation);
    // EC keys do not encrypt; no key MACs; an EC key does not sign with an RSA scheme.
    const ecPair = await createPair('prn_admin', ec(256));
    const ecEncrypt = await send('prn_user', Operation.Encrypt, [
      ttlv.text(Tag.UniqueIdentifier, ecPair.publicId),
      ttlv.bytes(Tag.Data, message1),
    ]);
    expect(ecEncrypt.reason).toBe(ResultReason.IllegalOperation);
    expect(
      (await send('prn_user', Operation.Mac, [ttlv.text(Tag.UniqueIdentifier, privateId), ttlv.bytes(Tag.Data, message1)])).reason,
    ).toBe(ResultReason.IllegalOperation);
    expect(
      (await signed('prn_user', ecPair.privateId, [[Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA256WithRSA]])).reason,
    ).toBe(ResultReason.IllegalOperation);
    // A `.public` name of a symmetric key names nothing.
    const aes = ok(
      await send('prn_admin', Operation.Create, [
        ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
        template(Tag.TemplateAttribute, [attribute('Cryptographic Algorithm', ttlv.enum(Tag.AttributeValue, CryptographicAlgorithm.AES))]),
      ]),
    );
    const aesId = asText(child(aes, Tag.UniqueIdentifier))!;
    expect((await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, `${aesId}.public`)])).reason).toBe(
      ResultReason.ItemNotFound,
    );
  });

  it('RSA-1024 is a legacy pair: created and its public key fetched, but it signs only under the legacy policy', async () => {
    const { privateId, publicId } = await createPair('prn_admin', rsa(1024));
    const spki = await publicKeyOf('prn_user', publicId);
    expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength).toBe(1024);
    const fields: [number, number][] = [[Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA256WithRSA]];
    const refused = await signed('prn_user', privateId, fields);
    expect(refused.status).toBe(ResultStatus.OperationFailed);
    expect(refused.text).toContain('legacy RSA-1024 key; the tenant policy does not allow legacy encryption');
    await executor.execute(
      TENANT,
      { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowLegacyEncryption: true } },
      ctx('prn_admin', 'tenant-admin'),
    );
    try {
      const signature = signatureOf(await signed('prn_user', privateId, fields));
      expect(verify('sha256', message1, createPublicKey({ key: spki, format: 'der', type: 'spki' }), signature)).toBe(true);
    } finally {
      await executor.execute(
        TENANT,
        { kind: 'tenant.set-policy', tenantId: TENANT, policy: { allowLegacyEncryption: false } },
        ctx('prn_admin', 'tenant-admin'),
      );
    }
  });

  it('refuses the private key to Get (never extractable), an extractable pair, and bad create requests', async () => {
    const { privateId } = await createPair('prn_admin', rsa(2048));
    const get = await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, privateId)]);
    expect(get.status).toBe(ResultStatus.OperationFailed);
    expect(get.text).toContain('not exportable');
    const extractable = await send('prn_admin', Operation.CreateKeyPair, [
      template(Tag.CommonTemplateAttribute, [...rsa(2048), attribute('Extractable', ttlv.bool(Tag.AttributeValue, true))]),
    ]);
    expect(extractable.reason).toBe(ResultReason.InvalidField);
    const rsa1536 = await send('prn_admin', Operation.CreateKeyPair, [template(Tag.CommonTemplateAttribute, rsa(1536))]);
    expect(rsa1536.reason).toBe(ResultReason.InvalidField);
    expect(rsa1536.text).toContain('RSA 2048/3072/4096 (1024: legacy)');
    const contradicting = await send('prn_admin', Operation.CreateKeyPair, [
      template(Tag.CommonTemplateAttribute, ec(256)),
      template(Tag.PublicKeyTemplateAttribute, [attribute('Cryptographic Length', ttlv.int(Tag.AttributeValue, 384))]),
    ]);
    expect(contradicting.reason).toBe(ResultReason.InvalidField);
    const byUser = await send('prn_user', Operation.CreateKeyPair, [template(Tag.CommonTemplateAttribute, rsa(2048))]);
    expect(byUser.reason).toBe(ResultReason.PermissionDenied);
    const publicFormat = await send('prn_user', Operation.Get, [
      ttlv.text(Tag.UniqueIdentifier, `${privateId}.public`),
      ttlv.enum(Tag.KeyFormatType, KeyFormatType.Raw),
    ]);
    expect(publicFormat.reason).toBe(ResultReason.KeyFormatTypeNotSupported);
    const pkcs1 = ok(
      await send('prn_user', Operation.Get, [
        ttlv.text(Tag.UniqueIdentifier, `${privateId}.public`),
        ttlv.enum(Tag.KeyFormatType, KeyFormatType.PKCS1),
      ]),
    );
    const der = asBytes(child(child(child(child(pkcs1, Tag.PublicKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial))!;
    expect(createPublicKey({ key: der, format: 'der', type: 'pkcs1' }).asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('goes through the same checks as every key use: role, appliance ownership, tenant, grants, lifecycle', async () => {
    // A kmip-client's pair is its own: for another appliance it does not exist (no signing, no public key).
    const mine = await createPair('prn_app1', ec(256));
    signatureOf(await signed('prn_app1', mine.privateId, []));
    expect((await signed('prn_app2', mine.privateId, [])).reason).toBe(ResultReason.ItemNotFound);
    expect((await send('prn_app2', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, mine.publicId)])).reason).toBe(
      ResultReason.ItemNotFound,
    );
    // Administrators and auditors do not use keys.
    expect((await signed('prn_admin', mine.privateId, [])).reason).toBe(ResultReason.PermissionDenied);
    expect((await signed('prn_auditor', mine.privateId, [])).reason).toBe(ResultReason.PermissionDenied);
    // Another tenant's principal does not see the key at all.
    const outsiderSign = await send(
      'prn_outsider',
      Operation.Sign,
      [ttlv.text(Tag.UniqueIdentifier, mine.privateId), ttlv.bytes(Tag.Data, message1)],
      {
        tenantId: OTHER_TENANT,
      },
    );
    expect(outsiderSign.reason).toBe(ResultReason.ItemNotFound);
    const outsider = await send('prn_outsider', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, mine.publicId)], {
      tenantId: OTHER_TENANT,
    });
    expect(outsider.reason).toBe(ResultReason.ItemNotFound);
    // Grants required: a key-user without a grant does not see the pair.
    const granted = await createPair('prn_admin', ec(256), { tenantId: 'ten_pairs3' });
    const noGrant = await send(
      'prn_user',
      Operation.Sign,
      [ttlv.text(Tag.UniqueIdentifier, granted.privateId), ttlv.bytes(Tag.Data, message1)],
      {
        tenantId: 'ten_pairs3',
      },
    );
    expect(noGrant.reason).toBe(ResultReason.ItemNotFound);
    const noGrantGet = await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, granted.publicId)], {
      tenantId: 'ten_pairs3',
    });
    expect(noGrantGet.reason).toBe(ResultReason.ItemNotFound);
    // PreActive: nothing signs; Revoke (either object) deactivates the pair: it verifies, it no longer signs.
    const fresh = await createPair('prn_admin', ec(256), { activate: false });
    expect((await signed('prn_user', fresh.privateId, [])).reason).toBe(ResultReason.IllegalOperation);
    const pair = await createPair('prn_admin', ec(384));
    const signature = signatureOf(await signed('prn_user', pair.privateId, []));
    ok(
      await send('prn_admin', Operation.Revoke, [
        ttlv.text(Tag.UniqueIdentifier, pair.publicId),
        ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, 6)]),
      ]),
    );
    expect(logs.get(TENANT)!.keys.get(pair.privateId)?.state).toBe('Deactivated');
    expect((await signed('prn_user', pair.privateId, [])).reason).toBe(ResultReason.IllegalOperation);
    expect(await verified('prn_user', pair.publicId, [], signature)).toBe(ValidityIndicator.Valid);
    // Every use left a usage record, refusals included.
    expect(usage.filter((r) => r.operation === 'sign' && r.outcome === 'ok').length).toBeGreaterThan(5);
    expect(usage.some((r) => r.operation === 'sign' && r.outcome === 'key-unusable')).toBe(true);
  });

  it('Locate answers both objects of a pair, and each by its own Object Type', async () => {
    const named = attribute(
      'Name',
      ttlv.struct(Tag.AttributeValue, [ttlv.text(Tag.NameValue, 'pairs/located'), ttlv.enum(Tag.NameType, 1)]),
    );
    const { privateId, publicId } = await createPair('prn_admin', [...ec(256), named]);
    const located = async (filters: TtlvItem[]): Promise<(string | undefined)[]> =>
      children(ok(await send('prn_user', Operation.Locate, filters)), Tag.UniqueIdentifier).map(asText);
    expect(await located([named])).toEqual([privateId, publicId]);
    expect(await located([named, attribute('Object Type', ttlv.enum(Tag.AttributeValue, ObjectType.PublicKey))])).toEqual([publicId]);
    expect(await located([named, attribute('Object Type', ttlv.enum(Tag.AttributeValue, ObjectType.PrivateKey))])).toEqual([privateId]);
    expect(await located([attribute('Unique Identifier', ttlv.text(Tag.AttributeValue, publicId))])).toEqual([publicId]);
  });

  it('registers a private key (PKCS#8, PKCS#1, EC Private Key) as a pair; refuses what is no such key', async () => {
    const registerKey = (der: Buffer, format: number, extra: TtlvItem[] = [], version: [number, number] = [1, 4]) =>
      send(
        'prn_admin',
        Operation.Register,
        [
          ttlv.enum(Tag.ObjectType, ObjectType.PrivateKey),
          template(Tag.TemplateAttribute, []),
          ttlv.struct(Tag.PrivateKey, [
            ttlv.struct(Tag.KeyBlock, [
              ttlv.enum(Tag.KeyFormatType, format),
              ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, der)]),
              ...extra,
            ]),
          ]),
        ],
        { version },
      );
    const forms: [ReturnType<typeof generateKeyPairSync>, number, 'pkcs8' | 'pkcs1' | 'sec1', string][] = [
      [generateKeyPairSync('ec', { namedCurve: 'P-256' }), KeyFormatType.PKCS8, 'pkcs8', 'EC-P256'],
      [generateKeyPairSync('rsa', { modulusLength: 2048 }), KeyFormatType.PKCS1, 'pkcs1', 'RSA-2048'],
      [generateKeyPairSync('ec', { namedCurve: 'P-384' }), KeyFormatType.ECPrivateKey, 'sec1', 'EC-P384'],
    ];
    for (const [pair, format, type, keyType] of forms) {
      const der = pair.privateKey.export({ format: 'der', type });
      const id = asText(child(ok(await registerKey(der, format)), Tag.UniqueIdentifier))!;
      const key = logs.get(TENANT)!.keys.get(id)!;
      expect(key).toMatchObject({ keyType, origin: 'imported', kmipOnly: true, exportable: false });
      const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
      expect(await publicKeyOf('prn_admin', `${id}.public`).catch(() => undefined)).toBeUndefined(); // admins do not use keys
      ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, id)]));
      expect(await publicKeyOf('prn_user', `${id}.public`)).toEqual(spki);
      const signature = signatureOf(await signed('prn_user', id, []));
      expect(verify(keyType === 'EC-P384' ? 'sha384' : 'sha256', message1, pair.publicKey, signature)).toBe(true);
    }
    const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = ec256.privateKey.export({ format: 'der', type: 'pkcs8' });
    const wrongLength = await registerKey(pkcs8, KeyFormatType.PKCS8, [ttlv.int(Tag.CryptographicLength, 384)]);
    expect(wrongLength.reason).toBe(ResultReason.InvalidField);
    expect(wrongLength.text).toContain('a EC-P256 key');
    expect((await registerKey(Buffer.alloc(64, 7), KeyFormatType.PKCS8)).reason).toBe(ResultReason.InvalidField);
    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey.export({ format: 'der', type: 'pkcs8' });
    expect((await registerKey(dsa, KeyFormatType.PKCS8)).text).toContain('no type Keyward holds');
    expect((await registerKey(pkcs8, KeyFormatType.Raw)).reason).toBe(ResultReason.KeyFormatTypeNotSupported);
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    expect((await registerKey(ed, KeyFormatType.PKCS8)).reason).toBe(ResultReason.InvalidField); // Ed25519 is a 2.0 object
    const byUser = await send('prn_user', Operation.Register, [ttlv.enum(Tag.ObjectType, ObjectType.PrivateKey)]);
    expect(byUser.reason).toBe(ResultReason.PermissionDenied);
  });

  const registerPublic = (format: number, material: TtlvItem, who = 'prn_admin') =>
    send(
      who,
      Operation.Register,
      [
        ttlv.enum(Tag.ObjectType, ObjectType.PublicKey),
        ttlv.struct(Tag.Attributes, [ttlv.int(Tag.CryptographicUsageMask, 0x02)]),
        ttlv.struct(Tag.PublicKey, [
          ttlv.struct(Tag.KeyBlock, [ttlv.enum(Tag.KeyFormatType, format), ttlv.struct(Tag.KeyValue, [material])]),
        ]),
      ],
      { version: [2, 1] },
    );
  const integer = (b64: string | undefined): bigint => BigInt(`0x${Buffer.from(b64 ?? '', 'base64url').toString('hex')}`);

  it('registers a public key alone (X.509, PKCS#1, Transparent RSA): one Public Key object that verifies and encrypts, never signs or decrypts', async () => {
    const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = ec256.publicKey.export({ format: 'der', type: 'spki' });
    const id = asText(child(ok(await registerPublic(KeyFormatType.X509, ttlv.bytes(Tag.KeyMaterial, spki))), Tag.UniqueIdentifier))!;
    expect(id).not.toContain('.public');
    expect(logs.get(TENANT)!.keys.get(id)).toMatchObject({ keyType: 'EC-P256', publicOnly: true, origin: 'imported', exportable: false });
    ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, id)]));
    const got = ok(await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, id)]));
    expect(asEnum(child(got, Tag.ObjectType))).toBe(ObjectType.PublicKey);
    expect(await publicKeyOf('prn_user', id)).toEqual(spki);
    expect((await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, `${id}.public`)])).reason).toBe(
      ResultReason.ItemNotFound,
    );
    const outside = sign('sha256', message1, ec256.privateKey);
    expect(await verified('prn_user', id, [[Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.ECDSAWithSHA256]], outside)).toBe(
      ValidityIndicator.Valid,
    );
    const refused = await signed('prn_user', id, []);
    expect(refused.status).toBe(ResultStatus.OperationFailed);
    expect(refused.text).toContain('holds a public key only');
    const attributes = ok(await send('prn_user', Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, id)], { version: [2, 1] }));
    const attrs = child(attributes, Tag.Attributes);
    expect(asEnum(child(attrs, Tag.ObjectType))).toBe(ObjectType.PublicKey);
    expect(asInt(child(attrs, Tag.CryptographicUsageMask))).toBe(0x02);
    expect(child(attrs, Tag.Link)).toBeUndefined();
    const located = children(
      ok(await send('prn_user', Operation.Locate, [attribute('Object Type', ttlv.enum(Tag.AttributeValue, ObjectType.PublicKey))])),
      Tag.UniqueIdentifier,
    ).map(asText);
    expect(located).toContain(id);
    const privates = children(
      ok(await send('prn_user', Operation.Locate, [attribute('Object Type', ttlv.enum(Tag.AttributeValue, ObjectType.PrivateKey))])),
      Tag.UniqueIdentifier,
    ).map(asText);
    expect(privates).not.toContain(id);

    // RSA as PKCS#1: served back as registered; encrypts (OAEP) for the holder of the private key, decrypts nothing.
    const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = rsaPair.publicKey.export({ format: 'der', type: 'pkcs1' });
    const rsaId = asText(child(ok(await registerPublic(KeyFormatType.PKCS1, ttlv.bytes(Tag.KeyMaterial, pkcs1))), Tag.UniqueIdentifier))!;
    ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, rsaId)]));
    const rsaGot = ok(await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, rsaId)]));
    const rsaBlock = child(child(rsaGot, Tag.PublicKey), Tag.KeyBlock);
    expect(asEnum(child(rsaBlock, Tag.KeyFormatType))).toBe(KeyFormatType.PKCS1);
    expect(asBytes(child(child(rsaBlock, Tag.KeyValue), Tag.KeyMaterial))).toEqual(pkcs1);
    const oaep: [number, number][] = [
      [Tag.PaddingMethod, PaddingMethod.OAEP],
      [Tag.HashingAlgorithm, HashingAlgorithm.SHA_256],
    ];
    const sealed = ok(
      await send('prn_user', Operation.Encrypt, [ttlv.text(Tag.UniqueIdentifier, rsaId), parameters(oaep), ttlv.bytes(Tag.Data, message1)]),
    );
    const ciphertext = asBytes(child(sealed, Tag.Data))!;
    expect(privateDecrypt({ key: rsaPair.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ciphertext)).toEqual(
      message1,
    );
    const decrypt = await send('prn_user', Operation.Decrypt, [
      ttlv.text(Tag.UniqueIdentifier, rsaId),
      parameters(oaep),
      ttlv.bytes(Tag.Data, ciphertext),
    ]);
    expect(decrypt.text).toContain('holds a public key only');

    // Transparent RSA Public Key: its two integers in, the same key out.
    const jwk = rsaPair.publicKey.export({ format: 'jwk' });
    const transparent = ttlv.struct(Tag.KeyMaterial, [ttlv.big(Tag.Modulus, integer(jwk.n)), ttlv.big(Tag.PublicExponent, integer(jwk.e))]);
    const tId = asText(child(ok(await registerPublic(KeyFormatType.TransparentRSAPublicKey, transparent)), Tag.UniqueIdentifier))!;
    ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, tId)]));
    const tGot = ok(await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, tId)]));
    const tMaterial = child(child(child(child(tGot, Tag.PublicKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial);
    expect(child(tMaterial, Tag.Modulus)?.value).toBe(integer(jwk.n));
    expect(
      asBytes(
        child(
          child(
            child(
              child(
                ok(
                  await send('prn_user', Operation.Get, [
                    ttlv.text(Tag.UniqueIdentifier, tId),
                    ttlv.enum(Tag.KeyFormatType, KeyFormatType.X509),
                  ]),
                ),
                Tag.PublicKey,
              ),
              Tag.KeyBlock,
            ),
            Tag.KeyValue,
          ),
          Tag.KeyMaterial,
        ),
      ),
    ).toEqual(rsaPair.publicKey.export({ format: 'der', type: 'spki' }));

    // Refused: what is no public key, a key of no type Keyward holds, a length that disagrees, and a key-user registering.
    expect((await registerPublic(KeyFormatType.X509, ttlv.bytes(Tag.KeyMaterial, Buffer.alloc(91, 3)))).reason).toBe(
      ResultReason.InvalidField,
    );
    const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).publicKey.export({ format: 'der', type: 'spki' });
    expect((await registerPublic(KeyFormatType.X509, ttlv.bytes(Tag.KeyMaterial, dsa))).text).toContain('no type Keyward holds');
    expect((await registerPublic(KeyFormatType.Raw, ttlv.bytes(Tag.KeyMaterial, spki))).reason).toBe(
      ResultReason.KeyFormatTypeNotSupported,
    );
    expect((await registerPublic(KeyFormatType.X509, ttlv.bytes(Tag.KeyMaterial, spki), 'prn_user')).reason).toBe(
      ResultReason.PermissionDenied,
    );
    // Not in the tenant's JWKS: a public key alone is not the tenant's to sign with.
    expect(publishedSigningKeys(logs.get(TENANT)!.keys.values()).map((p) => p.key.keyId)).not.toContain(id);
  });

  it('a Get the held state cannot answer yet reads the store: a public key registered a moment ago is served as one', async () => {
    // This instance's state cache has not seen the Register (another kmip instance took it).
    const stale = tenant(TENANT, [['prn_user', 'key-user']]);
    const lagging = new KmipOperations(executor, materials, recorder, undefined, undefined, {
      log: () => Promise.resolve(stale),
    } as unknown as KeyStateSource);
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    const id = asText(child(ok(await registerPublic(KeyFormatType.X509, ttlv.bytes(Tag.KeyMaterial, spki))), Tag.UniqueIdentifier))!;
    expect(stale.keys.has(id)).toBe(false);
    const response = await lagging.handle(
      message([2, 1], [[Operation.Get, [ttlv.text(Tag.UniqueIdentifier, id)]]]),
      identity(TENANT, 'prn_user'),
    );
    const item = children(response, Tag.BatchItem)[0];
    expect(asEnum(child(item, Tag.ResultStatus))).toBe(ResultStatus.Success);
    const payload = child(item, Tag.ResponsePayload);
    expect(asEnum(child(payload, Tag.ObjectType))).toBe(ObjectType.PublicKey);
    expect(asBytes(child(child(child(child(payload, Tag.PublicKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial))).toEqual(spki);
  });

  it('registers a Transparent RSA Private Key as a pair, and refuses integers that are not one RSA key', async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = pair.privateKey.export({ format: 'jwk' });
    const fields = (d: bigint) =>
      ttlv.struct(Tag.KeyMaterial, [
        ttlv.big(Tag.Modulus, integer(jwk.n)),
        ttlv.big(Tag.PrivateExponent, d),
        ttlv.big(Tag.PublicExponent, integer(jwk.e)),
        ttlv.big(Tag.P, integer(jwk.p)),
        ttlv.big(Tag.Q, integer(jwk.q)),
        ttlv.big(Tag.PrimeExponentP, integer(jwk.dp)),
        ttlv.big(Tag.PrimeExponentQ, integer(jwk.dq)),
        ttlv.big(Tag.CRTCoefficient, integer(jwk.qi)),
      ]);
    const registerPrivate = (material: TtlvItem) =>
      send('prn_admin', Operation.Register, [
        ttlv.enum(Tag.ObjectType, ObjectType.PrivateKey),
        template(Tag.TemplateAttribute, []),
        ttlv.struct(Tag.PrivateKey, [
          ttlv.struct(Tag.KeyBlock, [
            ttlv.enum(Tag.KeyFormatType, KeyFormatType.TransparentRSAPrivateKey),
            ttlv.struct(Tag.KeyValue, [material]),
          ]),
        ]),
      ]);
    const id = asText(child(ok(await registerPrivate(fields(integer(jwk.d)))), Tag.UniqueIdentifier))!;
    expect(logs.get(TENANT)!.keys.get(id)).toMatchObject({ keyType: 'RSA-2048', origin: 'imported' });
    ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, id)]));
    const signature = signatureOf(await signed('prn_user', id, [[Tag.DigitalSignatureAlgorithm, DigitalSignatureAlgorithm.SHA256WithRSA]]));
    expect(verify('sha256', message1, pair.publicKey, signature)).toBe(true);
    const tampered = await registerPrivate(fields(integer(jwk.d) + 2n));
    expect(tampered.reason).toBe(ResultReason.InvalidField);
    expect(tampered.text).toContain('not one RSA key');
    const missing = await registerPrivate(ttlv.struct(Tag.KeyMaterial, [ttlv.big(Tag.Modulus, integer(jwk.n))]));
    expect(missing.reason).toBe(ResultReason.InvalidField);
  });

  /** A self-signed P-256 certificate made for this spec: openssl req -x509 -subj "/O=Acme/CN=disk-array-1" -days 30 -outform der. */
  const CERTIFICATE = Buffer.from(
    '308201a130820147a0030201020214107ac216d9d4caf69f425afab852bfb836abca99300a06082a8648ce3d0403023026310d300b060355040a0c0441636d653115301306035504030c0c6469736b2d61727261792d31301e170d3236313230333132303134315a170d3237303130323132303134315a3026310d300b060355040a0c0441636d653115301306035504030c0c6469736b2d61727261792d313059301306072a8648ce3d020106082a8648ce3d030107034200047208ed047afd7f5f47092596c34b37dd19a17b1387a9b3110fa2f3d1cef148755d7ce72e14fec458d97411b105472d7a975923401fdf449aaefa3f13f474cd2fa3533051301d0603551d0e04160414210a025e9cf571f7c30207c330a56c1c48a529c1301f0603551d23041830168014210a025e9cf571f7c30207c330a56c1c48a529c1300f0603551d130101ff040530030101ff300a06082a8648ce3d0403020348003045022100cf357a7d8790d75a14132f50740037e4d3f898b815ead4c128a710774311fa3b02205f94a910781d7954ebc05368833ef69725f7ef06c1fc95ada3ed757e3efb47e6',
    'hex',
  );
  const registerCertificate = (
    der: Buffer,
    type: number = CertificateType.X509,
    attributes: TtlvItem[] = [ttlv.enum(Tag.CertificateType, type)],
    who = 'prn_admin',
  ) =>
    send(
      who,
      Operation.Register,
      [
        ttlv.enum(Tag.ObjectType, ObjectType.Certificate),
        ttlv.struct(Tag.Attributes, attributes),
        ttlv.struct(Tag.Certificate, [ttlv.enum(Tag.CertificateType, type), ttlv.bytes(Tag.CertificateValue, der)]),
      ],
      { version: [2, 1] },
    );

  it('keeps an X.509 certificate: Get answers its DER, its facts are read-only attributes, Locate finds it, nothing signs with it', async () => {
    const id = asText(child(ok(await registerCertificate(CERTIFICATE)), Tag.UniqueIdentifier))!;
    expect(logs.get(TENANT)!.keys.get(id)).toMatchObject({ keyType: 'CERTIFICATE', origin: 'imported', exportable: false, kmipOnly: true });
    const v2 = { version: [2, 1] as [number, number] };
    const attributes = child(
      ok(await send('prn_user', Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, id)], v2)),
      Tag.Attributes,
    );
    expect(asEnum(child(attributes, Tag.ObjectType))).toBe(ObjectType.Certificate);
    expect(asInt(child(attributes, Tag.CertificateLength))).toBe(CERTIFICATE.length);
    expect(asText(child(attributes, Tag.CertificateSubjectCN))).toBe('disk-array-1');
    expect(asEnum(child(attributes, Tag.CertificateType))).toBe(CertificateType.X509);
    const got = ok(await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, id)], v2));
    expect(asEnum(child(got, Tag.ObjectType))).toBe(ObjectType.Certificate);
    expect(asBytes(child(child(got, Tag.Certificate), Tag.CertificateValue))).toEqual(CERTIFICATE);
    expect(
      (await send('prn_user', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, id), ttlv.enum(Tag.KeyFormatType, KeyFormatType.X509)], v2))
        .reason,
    ).toBe(ResultReason.KeyFormatTypeNotSupported);
    const modify = await send(
      'prn_admin',
      Operation.ModifyAttribute,
      [ttlv.text(Tag.UniqueIdentifier, id), ttlv.struct(Tag.NewAttribute, [ttlv.int(Tag.CertificateLength, 123)])],
      v2,
    );
    expect(modify.reason).toBe(ResultReason.AttributeReadOnly);
    // A Name is unique among objects: in 2.x, adding the Name the object already has is a non-unique second instance.
    const addName = () =>
      send(
        'prn_admin',
        Operation.AddAttribute,
        [
          ttlv.text(Tag.UniqueIdentifier, id),
          ttlv.struct(Tag.NewAttribute, [ttlv.struct(Tag.Name, [ttlv.text(Tag.NameValue, 'cert-a'), ttlv.enum(Tag.NameType, 1)])]),
        ],
        v2,
      );
    ok(await addName());
    expect((await addName()).reason).toBe(ResultReason.NonUniqueNameAttribute);
    const locate = async (filter: TtlvItem) =>
      children(ok(await send('prn_user', Operation.Locate, [ttlv.struct(Tag.Attributes, [filter])], v2)), Tag.UniqueIdentifier).map(asText);
    expect(await locate(ttlv.enum(Tag.ObjectType, ObjectType.Certificate))).toEqual([id]);
    expect(await locate(ttlv.text(Tag.CertificateSubjectCN, 'disk-array-1'))).toEqual([id]);
    expect(await locate(ttlv.text(Tag.CertificateSubjectCN, 'other'))).toEqual([]);
    ok(await send('prn_admin', Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, id)]));
    expect((await signed('prn_user', id, [])).text).toContain('cannot be used to sign');
    // An appliance's own, never activated: KMIP Destroy destroys it at once; then nothing reads it.
    const mine = await registerCertificate(CERTIFICATE, CertificateType.X509, [], 'prn_app1');
    const second = asText(child(ok(mine), Tag.UniqueIdentifier))!;
    expect(
      asBytes(
        child(
          child(ok(await send('prn_app1', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, second)], v2)), Tag.Certificate),
          Tag.CertificateValue,
        ),
      ),
    ).toEqual(CERTIFICATE);
    ok(await send('prn_app1', Operation.Destroy, [ttlv.text(Tag.UniqueIdentifier, second)]));
    const destroyed = await send('prn_app1', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, second)], v2);
    expect(destroyed.reason).toBe(ResultReason.ObjectDestroyed); // KMIP 2.1's reason
    expect(destroyed.text).toContain('destroyed');
    const destroyed14 = await send('prn_app1', Operation.Get, [ttlv.text(Tag.UniqueIdentifier, second)]);
    expect(destroyed14.reason).toBe(ResultReason.IllegalOperation); // 1.x has no Object Destroyed
  });

  it('refuses what is not one X.509 certificate (PEM, noise, PGP, a contradicting Certificate Type) and a key-user registering', async () => {
    const pem = Buffer.from(`-----BEGIN CERTIFICATE-----\n${CERTIFICATE.toString('base64')}\n-----END CERTIFICATE-----\n`);
    expect((await registerCertificate(pem)).reason).toBe(ResultReason.InvalidField);
    expect((await registerCertificate(Buffer.alloc(200, 0x30))).reason).toBe(ResultReason.InvalidField);
    expect((await registerCertificate(CERTIFICATE, CertificateType.PGP)).reason).toBe(ResultReason.FeatureNotSupported);
    const contradicting = await registerCertificate(CERTIFICATE, CertificateType.X509, [
      ttlv.enum(Tag.CertificateType, CertificateType.PGP),
    ]);
    expect(contradicting.reason).toBe(ResultReason.InvalidField);
    const byUser = await send('prn_user', Operation.Register, [ttlv.enum(Tag.ObjectType, ObjectType.Certificate)], { version: [2, 1] });
    expect(byUser.reason).toBe(ResultReason.PermissionDenied);
  });

  it('lists Create Key Pair, Sign and Signature Verify in Query', async () => {
    const out = ok(await send('prn_user', Operation.Query, [ttlv.enum(Tag.QueryFunction, 1), ttlv.enum(Tag.QueryFunction, 2)]));
    const ops = children(out, Tag.Operation).map(asEnum);
    expect(ops).toEqual(expect.arrayContaining([Operation.CreateKeyPair, Operation.Sign, Operation.SignatureVerify]));
    expect(children(out, Tag.ObjectType).map(asEnum)).toEqual(
      expect.arrayContaining([ObjectType.PublicKey, ObjectType.PrivateKey, ObjectType.Certificate]),
    );
  });
});
