import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { aesGcmCipher, AuthenticationFailed, openAnyAesGcm, randomIv, withKmipAesGcmKey, type MaterialRef } from '@keyward/crypto';
import { authorizeUse, requireAccess, requireTenantActive, type CryptoOperation } from '@keyward/domain';
import {
  asBytes,
  asEnum,
  asInt,
  BlockCipherMode,
  child,
  CryptographicAlgorithm,
  ResultReason,
  Tag,
  ttlv,
  ValidityIndicator,
  type TtlvItem,
} from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import { fail, keyRefOf, MAX_DATA, recordUsage, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { decideFresh } from '../kmip-tenant-reads';
import { toKmipError } from '../kmip-error';

const GCM_IV = 12;
const GCM_TAG = 16;

type UsedOperation = Extract<CryptoOperation, 'encrypt' | 'decrypt' | 'mac' | 'verify-mac'>;

/**
 * Runs one crypto operation for a key-user: the domain's authorizeUse decides (tenant, key state,
 * usage, version), the material comes from the keystore through the cache, and the usage audit
 * gets one record however it ends.
 */
async function withUse(
  deps: KmipDeps,
  payload: TtlvItem | undefined,
  call: Call,
  operation: UsedOperation,
  run: (use: <T>(work: (material: Buffer) => T) => Promise<T>, keyRef: string, version: MaterialRef) => Promise<Payload>,
  check: () => void,
): Promise<Payload> {
  requireRole(call, ['key-user'], operation);
  const { tenantId } = call.principal;
  const keyRef = keyRefOf(payload, call);
  let keyId: string | null = null;
  let version: number | null = null;
  let grantId: string | null = null;
  const aad =
    operation === 'encrypt' || operation === 'decrypt' ? asBytes(child(payload, Tag.AuthenticatedEncryptionAdditionalData)) : undefined;
  try {
    check();
    // A refusal is confirmed against the store first (a key activated over REST a moment ago counts).
    const decided = await decideFresh(deps.executor, tenantId, (log) => {
      const key = log.keys.get(keyRef);
      keyId = key?.keyId ?? null;
      const now = businessNow();
      // As REST: the tenant, then the principal's grants (the same rule), then the key's state.
      requireTenantActive(log.tenant, tenantId);
      const granted = requireAccess(log, call.principal, key, keyRef, operation, aad === undefined ? {} : { aad }, now);
      return { keyId, granted, use: authorizeUse(log.tenant, tenantId, key, keyRef, operation, now) };
    });
    const use = decided.use;
    keyId = decided.keyId;
    grantId = decided.granted;
    version = use.version;
    const ref = { tenantId, keyId: keyRef, version: use.version };
    if (operation === 'encrypt') await deps.gcmBudget?.spend(ref);
    const out = await run(<T>(work: (material: Buffer) => T) => deps.materials.withMaterial(ref, use.kcv, work), keyRef, {
      tenantId,
      keyId: keyId ?? keyRef,
      version: use.version,
    });
    recordUsage(deps, call, operation, keyId, version, 'ok', grantId);
    return out;
  } catch (err: unknown) {
    const kmip = toKmipError(err);
    recordUsage(deps, call, operation, keyId, version, kmip.slug);
    throw kmip;
  }
}

function dataOf(payload: TtlvItem | undefined): Buffer {
  const data = asBytes(child(payload, Tag.Data));
  if (data === undefined) return fail(ResultReason.MissingData, 'Data is required');
  if (data.length > MAX_DATA) fail(ResultReason.InvalidField, `Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
  return data;
}

function checkGcmParameters(payload: TtlvItem | undefined): void {
  const params = child(payload, Tag.CryptographicParameters);
  const mode = asEnum(child(params, Tag.BlockCipherMode));
  if (mode !== undefined && mode !== BlockCipherMode.GCM)
    fail(ResultReason.FeatureNotSupported, 'only the GCM block cipher mode is supported');
  const algorithm = asEnum(child(params, Tag.CryptographicAlgorithm));
  if (algorithm !== undefined && algorithm !== CryptographicAlgorithm.AES) fail(ResultReason.FeatureNotSupported, 'only AES is supported');
  const tagLength = asInt(child(params, Tag.TagLength));
  if (tagLength !== undefined && tagLength !== GCM_TAG) fail(ResultReason.FeatureNotSupported, 'the GCM tag length is 16 bytes');
  dataOf(payload);
}

/**
 * Encrypt: AES-GCM (128/192/256 by the key), the latest version of an Active key; 12-byte IV, generated
 * when absent. The caller may choose the IV, so this runs under the version's KMIP subkey, never under
 * the material REST's ciphertexts use (withKmipAesGcmKey, finding 6).
 */
export function encrypt(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(
    deps,
    payload,
    call,
    'encrypt',
    async (use, keyRef, version) => {
      const data = dataOf(payload);
      const aad = asBytes(child(payload, Tag.AuthenticatedEncryptionAdditionalData)) ?? Buffer.alloc(0);
      const iv = asBytes(child(payload, Tag.IvCounterNonce)) ?? randomIv(GCM_IV);
      if (iv.length !== GCM_IV) fail(ResultReason.InvalidField, 'the IV/Counter/Nonce must be 12 bytes');
      const { ciphertext, tag } = await use((material) =>
        withKmipAesGcmKey(material, version, (k) => {
          const cipher = createCipheriv(aesGcmCipher(k.length), k, iv, { authTagLength: GCM_TAG });
          cipher.setAAD(aad);
          return { ciphertext: Buffer.concat([cipher.update(data), cipher.final()]), tag: cipher.getAuthTag() };
        }),
      );
      // KMIP 1.4 added the Authenticated Encryption Tag field; older versions get it appended to Data.
      const tagField = call.version.major > 1 || call.version.minor >= 4;
      return [
        ttlv.text(Tag.UniqueIdentifier, keyRef),
        ttlv.bytes(Tag.Data, tagField ? ciphertext : Buffer.concat([ciphertext, tag])),
        ttlv.bytes(Tag.IvCounterNonce, iv),
        ...(tagField ? [ttlv.bytes(Tag.AuthenticatedEncryptionTag, tag)] : []),
      ];
    },
    () => checkGcmParameters(payload),
  );
}

/**
 * Decrypt: AES-GCM with any live version the domain allows (the latest), under the version's KMIP
 * subkey as Encrypt (so a REST ciphertext never opens here); a changed byte, IV, tag or AAD is a
 * Cryptographic Failure.
 */
export function decrypt(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(
    deps,
    payload,
    call,
    'decrypt',
    async (use, keyRef, version) => {
      const data = dataOf(payload);
      const aad = asBytes(child(payload, Tag.AuthenticatedEncryptionAdditionalData)) ?? Buffer.alloc(0);
      const iv = asBytes(child(payload, Tag.IvCounterNonce));
      if (iv?.length !== GCM_IV) return fail(ResultReason.MissingData, 'a 12-byte IV/Counter/Nonce is required');
      // Without an Authenticated Encryption Tag field (KMIP < 1.4 clients), the tag is the last 16 bytes of Data.
      const tagItem = asBytes(child(payload, Tag.AuthenticatedEncryptionTag));
      const tag = tagItem ?? (data.length >= GCM_TAG ? data.subarray(data.length - GCM_TAG) : undefined);
      const body = tagItem ? data : data.subarray(0, Math.max(0, data.length - GCM_TAG));
      if (tag?.length !== GCM_TAG) return fail(ResultReason.MissingData, 'a 16-byte Authenticated Encryption Tag is required');
      const plaintext = await use((material) => {
        try {
          return withKmipAesGcmKey(material, version, (k) => openAnyAesGcm(k, { iv, tag, ciphertext: body }, aad));
        } catch (err: unknown) {
          if (!(err instanceof AuthenticationFailed)) throw err;
          return fail(
            ResultReason.CryptographicFailure,
            'authentication failed: the data, IV, tag or AAD was altered',
            'authentication-failed',
          );
        }
      });
      return [ttlv.text(Tag.UniqueIdentifier, keyRef), ttlv.bytes(Tag.Data, plaintext)];
    },
    () => checkGcmParameters(payload),
  );
}

function checkMacParameters(payload: TtlvItem | undefined): void {
  const algorithm = asEnum(child(child(payload, Tag.CryptographicParameters), Tag.CryptographicAlgorithm));
  if (algorithm !== undefined && algorithm !== CryptographicAlgorithm.HMAC_SHA256)
    fail(ResultReason.FeatureNotSupported, 'only HMAC-SHA256 is supported');
  dataOf(payload);
}

/** MAC: HMAC-SHA256 with the latest version of an Active HMAC key. */
export function mac(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(
    deps,
    payload,
    call,
    'mac',
    async (use, keyRef) => {
      const data = dataOf(payload);
      const digest = await use((k) => createHmac('sha256', k).update(data).digest());
      return [ttlv.text(Tag.UniqueIdentifier, keyRef), ttlv.bytes(Tag.MacData, digest)];
    },
    () => checkMacParameters(payload),
  );
}

/**
 * MAC Verify: the domain's verify-mac rule (Active or Deactivated key, the latest version), and a
 * constant-time comparison; a MAC of another length is Invalid without a timing difference that matters.
 */
export function macVerify(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(
    deps,
    payload,
    call,
    'verify-mac',
    async (use, keyRef) => {
      const data = dataOf(payload);
      const given = asBytes(child(payload, Tag.MacData));
      if (given === undefined) return fail(ResultReason.MissingData, 'MAC Data is required');
      const expected = await use((k) => createHmac('sha256', k).update(data).digest());
      const valid = given.length === expected.length && timingSafeEqual(given, expected);
      return [
        ttlv.text(Tag.UniqueIdentifier, keyRef),
        ttlv.enum(Tag.ValidityIndicator, valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid),
      ];
    },
    () => checkMacParameters(payload),
  );
}
