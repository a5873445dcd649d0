import { createCipheriv } from 'node:crypto';
import { aesGcmCipher, randomIv } from '@keyward/crypto';
import { releaseRefusal } from '@keyward/auth';
import { authorizeExport, authorizeUse, isAsymmetricKeyType, type KeyState, type TenantLog } from '@keyward/domain';
import {
  asEnum,
  asText,
  child,
  BlockCipherMode,
  EncodingOption,
  encodeTtlv,
  KeyFormatType,
  ResultReason,
  SecretDataType,
  Tag,
  ttlv,
  WrappingMethod,
  type TtlvItem,
} from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import { algorithmOf, lengthOf, objectTypeOfKey } from '../kmip-attributes';
import { objectOf } from '../kmip-key-pair';
import { opaqueDataTypeOf, registeredFormatOf } from '../kmip-key-format';
import { getPublicKey } from './kmip-public-key.operation';
import { getCertificate } from './kmip-certificate.operations';
import {
  actorOf,
  fail,
  keyRefOf,
  recordUsage,
  requireKeyUse,
  requireRole,
  USERS,
  type Call,
  type KmipDeps,
  type Payload,
} from '../kmip-call';
import { decideFresh } from '../kmip-tenant-reads';
import { spendUsageLimits } from '../kmip-crypto-use';
import { toKmipError } from '../kmip-error';

const GCM_IV = 12;
const GCM_TAG = 16;
const WRAP_MODES: readonly number[] = [BlockCipherMode.NISTKeyWrap, BlockCipherMode.AESKeyWrapPadding, BlockCipherMode.GCM];

/** A Key Wrapping Specification Keyward follows: Encrypt with an AES key of the tenant that the caller may use to encrypt. */
interface WrapRequest {
  readonly keyRef: string;
  readonly mode: number;
  /**
   * No Encoding (the Key Material alone is wrapped and travels as Key Material, as PyKMIP expects), or, when the
   * request names none, KMIP's default TTLV Encoding: the TTLV-encoded Key Value is wrapped and the Key Value is the
   * wrapped Byte String (KMIP 1.4 §2.1.5, AX-M-2-14).
   */
  readonly encoding: 'none' | 'ttlv';
}

function wrapRequestOf(spec: TtlvItem | undefined): WrapRequest | undefined {
  if (spec === undefined) return undefined;
  const method = asEnum(child(spec, Tag.WrappingMethod));
  if (method !== WrappingMethod.Encrypt) fail(ResultReason.FeatureNotSupported, 'only the Encrypt wrapping method is supported');
  if (child(spec, Tag.MacSignatureKeyInformation) !== undefined)
    fail(ResultReason.FeatureNotSupported, 'MAC/signature wrapping is not supported');
  const encoding = asEnum(child(spec, Tag.EncodingOption));
  if (encoding !== undefined && encoding !== EncodingOption.NoEncoding)
    fail(ResultReason.EncodingOptionError, 'give No Encoding, or no Encoding Option for the TTLV-encoded Key Value');
  const info = child(spec, Tag.EncryptionKeyInformation);
  const keyRef = asText(child(info, Tag.UniqueIdentifier));
  if (keyRef === undefined)
    return fail(ResultReason.MissingData, 'Encryption Key Information needs the Unique Identifier of the wrapping key');
  const mode = asEnum(child(child(info, Tag.CryptographicParameters), Tag.BlockCipherMode)) ?? BlockCipherMode.NISTKeyWrap;
  if (!WRAP_MODES.includes(mode))
    fail(ResultReason.FeatureNotSupported, 'key wrapping uses NIST Key Wrap (RFC 3394), AES Key Wrap with Padding (RFC 5649) or GCM');
  return { keyRef, mode, encoding: encoding === undefined ? 'ttlv' : 'none' };
}

/** Wraps `material` under `kek` (an AES key's material); the IV is returned for GCM only. */
function wrap(kek: Buffer, material: Buffer, mode: number): { wrapped: Buffer; iv?: Buffer } {
  const bits = kek.length * 8;
  if (mode === BlockCipherMode.GCM) {
    const iv = randomIv(GCM_IV);
    const cipher = createCipheriv(aesGcmCipher(kek.length), kek, iv, { authTagLength: GCM_TAG });
    return { wrapped: Buffer.concat([cipher.update(material), cipher.final(), cipher.getAuthTag()]), iv };
  }
  if (mode === BlockCipherMode.NISTKeyWrap) {
    if (material.length < 16 || material.length % 8 !== 0)
      fail(ResultReason.InvalidField, 'NIST Key Wrap needs material of a multiple of 8 bytes (16 or more); use AES Key Wrap with Padding');
    const cipher = createCipheriv(`id-aes${bits}-wrap`, kek, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
    return { wrapped: Buffer.concat([cipher.update(material), cipher.final()]) };
  }
  const cipher = createCipheriv(`id-aes${bits}-wrap-pad`, kek, Buffer.from('a65959a6', 'hex'));
  return { wrapped: Buffer.concat([cipher.update(material), cipher.final()]) };
}

/** How a key's material is served: Opaque (secret data), PKCS#8 (a pair's private key), Raw (symmetric keys). */
const nativeFormat = (key: KeyState): number =>
  key.keyType === 'SECRET' ? KeyFormatType.Opaque : isAsymmetricKeyType(key.keyType) ? KeyFormatType.PKCS8 : KeyFormatType.Raw;
const FORMAT_NAMES: Readonly<Record<number, string>> = {
  [KeyFormatType.TransparentSymmetricKey]: 'Transparent Symmetric Key',
  [KeyFormatType.Opaque]: 'Opaque',
  [KeyFormatType.PKCS8]: 'PKCS#8',
  [KeyFormatType.Raw]: 'Raw',
};

/**
 * The Key Block: the key's native format (see nativeFormat), with its Key Wrapping Data when
 * wrapped; `encodedValue` (a wrapped Get without an Encoding Option, AX-M-2) sends the wrapped Key
 * Value as a byte string instead of a Key Material structure.
 */
export function keyBlock(
  key: KeyState,
  value: Buffer,
  wrapping: TtlvItem | undefined,
  encodedValue = false,
  format = nativeFormat(key),
): TtlvItem {
  const algorithm = algorithmOf(key);
  const bits = lengthOf(key);
  return ttlv.struct(Tag.KeyBlock, [
    ttlv.enum(Tag.KeyFormatType, format),
    encodedValue
      ? ttlv.bytes(Tag.KeyValue, value)
      : ttlv.struct(Tag.KeyValue, [
          // A Transparent Symmetric Key's Key Material is a structure holding the Key (KMIP 1.4 §2.1.7.1).
          format === KeyFormatType.TransparentSymmetricKey
            ? ttlv.struct(Tag.KeyMaterial, [ttlv.bytes(Tag.Key, value)])
            : ttlv.bytes(Tag.KeyMaterial, value),
        ]),
    ...(algorithm === undefined ? [] : [ttlv.enum(Tag.CryptographicAlgorithm, algorithm)]),
    ...(bits === undefined ? [] : [ttlv.int(Tag.CryptographicLength, bits)]),
    ...(wrapping ? [wrapping] : []),
  ]);
}

/** Wraps the exported material under the wrapping key the caller named, if it may encrypt with it. */
async function wrapped(
  deps: KmipDeps,
  call: Call,
  log: TenantLog,
  request: WrapRequest,
  material: Buffer,
): Promise<{ value: Buffer; wrapping: TtlvItem }> {
  const { tenantId } = call.principal;
  const wrapKey = log.keys.get(request.keyRef);
  let version: number | null = null;
  try {
    if (wrapKey !== undefined && !wrapKey.keyType.startsWith('AES-'))
      fail(ResultReason.IllegalOperation, `key ${request.keyRef} is a ${wrapKey.keyType} key and cannot wrap keys`, 'wrong-usage');
    const grantId = requireKeyUse(call, log, wrapKey, request.keyRef, 'encrypt', {}, businessNow());
    const use = authorizeUse(log.tenant, tenantId, wrapKey, request.keyRef, 'encrypt', businessNow(), undefined, 'kmip');
    version = use.version;
    // A GCM wrap is an AES-GCM encryption with a random IV under the wrapping key: it spends one of that version's.
    if (request.mode === BlockCipherMode.GCM) await deps.gcmBudget?.spend({ tenantId, keyId: request.keyRef, version: use.version });
    if (wrapKey !== undefined) await spendUsageLimits(deps, tenantId, wrapKey, 'encrypt', material.length);
    const plain = request.encoding === 'ttlv' ? encodeTtlv(ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, material)])) : material;
    const out = await deps.materials
      .withMaterial({ tenantId, keyId: request.keyRef, version: use.version }, use.kcv, (kek) => wrap(kek, plain, request.mode))
      .finally(() => {
        if (plain !== material) plain.fill(0);
      });
    recordUsage(deps, call, 'encrypt', request.keyRef, version, 'ok', grantId);
    const wrapping = ttlv.struct(Tag.KeyWrappingData, [
      ttlv.enum(Tag.WrappingMethod, WrappingMethod.Encrypt),
      ttlv.struct(Tag.EncryptionKeyInformation, [
        ttlv.text(Tag.UniqueIdentifier, request.keyRef),
        ttlv.struct(Tag.CryptographicParameters, [ttlv.enum(Tag.BlockCipherMode, request.mode)]),
      ]),
      ...(out.iv ? [ttlv.bytes(Tag.IvCounterNonce, out.iv)] : []),
      ...(request.encoding === 'none' ? [ttlv.enum(Tag.EncodingOption, EncodingOption.NoEncoding)] : []),
    ]);
    return { value: out.wrapped, wrapping };
  } catch (err: unknown) {
    const kmip = toKmipError(err);
    recordUsage(deps, call, 'encrypt', wrapKey?.keyId ?? null, version, kmip.slug);
    throw kmip;
  }
}

/**
 * The key a Unique Identifier names, as held, else as the store has it now (a key registered a moment
 * ago through another instance; the message's reads catch the log up once, as decideFresh would).
 */
async function heldKey(deps: KmipDeps, tenantId: string, uid: string): Promise<KeyState | undefined> {
  const held = (await deps.executor.current(tenantId)).keys.get(uid);
  if (held !== undefined || deps.executor.fresh === undefined) return held;
  return (await deps.executor.fresh(tenantId)).keys.get(uid);
}

/**
 * Get: the material of a key the domain lets out (authorizeExport, as REST: created exportable,
 * export enabled under dual control, Active or Deactivated), to key-users over the mutually
 * authenticated channel; raw, or wrapped under another key of the tenant (Key Wrapping
 * Specification). The raw copy is zeroed once the response has been encoded and written.
 */
export async function get(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  const uid = keyRefOf(payload, call);
  // A pair's public key, a public key registered alone (one object, named by the key id), a certificate: public data.
  const held = objectOf(uid).part === 'public' ? undefined : await heldKey(deps, call.principal.tenantId, uid);
  if (objectOf(uid).part === 'public' || held?.publicOnly === true) return getPublicKey(deps, payload, call, uid);
  if (held?.keyType === 'CERTIFICATE') return getCertificate(deps, payload, call, uid);
  requireRole(call, USERS, 'export key material');
  const { tenantId } = call.principal;
  const keyRef = uid;
  let keyId: string | null = null;
  let version: number | null = null;
  try {
    const wrapRequest = wrapRequestOf(child(payload, Tag.KeyWrappingSpecification));
    // A refusal is confirmed against the store first (export enabled over REST a moment ago counts).
    const { key, use, log, granted } = await decideFresh(deps.executor, tenantId, (log) => {
      const found = log.keys.get(keyRef);
      keyId = found?.keyId ?? null;
      // KMIP Get is the grant operation export (the same rule as REST material retrieval).
      const granted = requireKeyUse(call, log, found, keyRef, 'export', {}, businessNow());
      const allowed = authorizeExport(log.tenant, tenantId, found, keyRef, actorOf(call));
      // As REST export: released only to the certificate the principal is bound to, as the log says now.
      if (releaseRefusal(log.certificates.get(call.principal.principalId), call.certificate) !== undefined) {
        fail(
          ResultReason.PermissionDenied,
          'key material is released only over the client certificate this principal is bound to',
          'forbidden',
        );
      }
      return { key: found, use: allowed, log, granted };
    });
    version = use.version;
    if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${keyRef} not found`, 'not-found');
    const asked = asEnum(child(payload, Tag.KeyFormatType));
    const opaqueType = opaqueDataTypeOf(key);
    // An Opaque Object has no Key Block: no Key Format Type to choose, nothing to wrap.
    if (opaqueType !== undefined && (asked !== undefined || wrapRequest !== undefined))
      fail(ResultReason.FeatureNotSupported, 'an Opaque Object is answered as registered: no Key Format Type, no key wrapping');
    // The format it was registered in (kmip-key-format.ts), else the key's native one; a client may ask for either.
    const served = registeredFormatOf(key) ?? nativeFormat(key);
    if (asked !== undefined && asked !== served && asked !== nativeFormat(key))
      fail(ResultReason.KeyFormatTypeNotSupported, `only the ${FORMAT_NAMES[served] ?? 'Raw'} key format is supported`);
    // Wrapped material is the wrapped bytes of the native format.
    if (wrapRequest !== undefined && asked !== undefined && asked !== nativeFormat(key))
      fail(ResultReason.KeyFormatTypeNotSupported, `wrapped material is served as ${FORMAT_NAMES[nativeFormat(key)] ?? 'Raw'} only`);
    const format = wrapRequest === undefined ? (asked ?? served) : nativeFormat(key);
    const material = await deps.materials.withMaterial({ tenantId, keyId: keyRef, version: use.version }, use.kcv, (m) => Buffer.from(m));
    call.scrub.push(material);
    let value: Buffer = material;
    let wrapping: TtlvItem | undefined;
    if (wrapRequest !== undefined) {
      ({ value, wrapping } = await wrapped(deps, call, log, wrapRequest, material));
      material.fill(0);
    }
    recordUsage(deps, call, 'export', keyId, version, 'ok', granted);
    call.placeholder = keyRef;
    const block = keyBlock(key, value, wrapping, wrapRequest?.encoding === 'ttlv', format);
    const object =
      opaqueType !== undefined
        ? ttlv.struct(Tag.OpaqueObject, [ttlv.enum(Tag.OpaqueDataType, opaqueType), ttlv.bytes(Tag.OpaqueDataValue, value)])
        : key.keyType === 'SECRET'
          ? ttlv.struct(Tag.SecretData, [ttlv.enum(Tag.SecretDataType, SecretDataType.Password), block])
          : ttlv.struct(isAsymmetricKeyType(key.keyType) ? Tag.PrivateKey : Tag.SymmetricKey, [block]);
    return [ttlv.enum(Tag.ObjectType, objectTypeOfKey(key)), ttlv.text(Tag.UniqueIdentifier, keyRef), object];
  } catch (err: unknown) {
    const kmip = toKmipError(err);
    recordUsage(deps, call, 'export', keyId, version, kmip.slug);
    throw kmip;
  }
}
