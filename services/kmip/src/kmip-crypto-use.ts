import { withKmipAesGcmKey, type MaterialRef } from '@keyward/crypto';
import { authorizeUse, isAsymmetricKeyType, type CryptoOperation, type KeyState } from '@keyward/domain';
import { asBool, asBytes, child, ResultReason, Tag, type TtlvItem } from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import {
  fail,
  keyRefOf,
  MAX_DATA,
  recordUsage,
  requireKeyUse,
  requireRole,
  USERS,
  type Call,
  type KmipDeps,
  type Payload,
} from './kmip-call';
import { toKmipError } from './kmip-error';
import { keyOfObject, uidOf, type KeyPart } from './kmip-key-pair';
import { decideFresh } from './kmip-tenant-reads';
import { requireUsageDates } from './kmip-usage-dates';

export type UsedOperation = Extract<CryptoOperation, 'encrypt' | 'decrypt' | 'mac' | 'verify-mac' | 'sign' | 'verify'>;

/** Runs `work` on the key the operation uses: the material itself for KMIP keys, the KMIP subkey for keys created over REST. */
export type WithKey = <T>(work: (key: Buffer) => T) => Promise<T>;

/**
 * Which object of a key pair each operation uses (kmip-key-pair.ts): the private key (the key's
 * own Unique Identifier) signs and decrypts, the public key (`<keyId>.public`) verifies and encrypts.
 */
const PAIR_OBJECT: Readonly<Partial<Record<UsedOperation, KeyPart>>> = { sign: 'key', decrypt: 'key', verify: 'public', encrypt: 'public' };

/** Refuses an operation named on the wrong object of a key pair, saying which object to name. */
function requirePairObject(key: KeyState, part: KeyPart, operation: UsedOperation): void {
  const wanted = PAIR_OBJECT[operation];
  if (!isAsymmetricKeyType(key.keyType) || wanted === undefined || wanted === part) return;
  const which = wanted === 'public' ? 'public' : 'private';
  fail(ResultReason.IllegalOperation, `${operation} uses the ${which} key of the pair: name ${uidOf(key, wanted)}`, 'wrong-usage');
}

/**
 * Runs one crypto operation for a key-user: requireKeyUse (tenant, appliance ownership, grants),
 * then the domain's authorizeUse decides (key state, usage, version, KMIP door, legacy policy); the
 * material comes from the keystore through the cache, and the usage audit gets one record however
 * it ends. `run` is given the key and which of its objects the request named.
 */
export async function withUse(
  deps: KmipDeps,
  payload: TtlvItem | undefined,
  call: Call,
  operation: UsedOperation,
  run: (key: KeyState, withKey: WithKey, withMaterial: WithKey) => Promise<Payload>,
  streaming = false,
): Promise<Payload> {
  requireRole(call, USERS, operation);
  const { tenantId } = call.principal;
  const keyRef = keyRefOf(payload, call);
  let keyId: string | null = null;
  let version: number | null = null;
  let grantId: string | null = null;
  const aad =
    operation === 'encrypt' || operation === 'decrypt' ? asBytes(child(payload, Tag.AuthenticatedEncryptionAdditionalData)) : undefined;
  try {
    if (!streaming) refuseStreaming(payload);
    if (operation !== 'sign' && operation !== 'verify') dataOf(payload);
    // A refusal is confirmed against the store first (a key activated over REST a moment ago counts).
    const decided = await decideFresh(deps.executor, tenantId, (log) => {
      const { key, part } = keyOfObject(log.keys, keyRef);
      keyId = key?.keyId ?? null;
      const now = businessNow();
      // As REST: the tenant, the appliance's ownership, then the principal's grants (the same rule), then the key's state.
      const granted = requireKeyUse(call, log, key, keyRef, operation, aad === undefined ? {} : { aad }, now);
      const use = authorizeUse(log.tenant, tenantId, key, keyRef, operation, now, undefined, 'kmip');
      if (key !== undefined) requirePairObject(key, part, operation);
      return { key, granted, use };
    });
    const { use, key } = decided;
    grantId = decided.granted;
    if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${keyRef} not found`, 'not-found');
    version = use.version;
    requireUsageDates(key, operation, businessNow());
    await spendUsageLimits(deps, tenantId, key, operation, asBytes(child(payload, Tag.Data))?.length ?? 0);
    const ref = { tenantId, keyId: key.keyId, version: use.version };
    if (operation === 'encrypt' && !isAsymmetricKeyType(key.keyType)) await deps.gcmBudget?.spend(ref);
    const withMaterial: WithKey = (work) => deps.materials.withMaterial(ref, use.kcv, work);
    const withKey: WithKey = (work) => withMaterial((material) => (key.kmipOnly === true ? work(material) : subkey(material, ref, work)));
    const out = await run(key, withKey, withMaterial);
    recordUsage(deps, call, operation, keyId, version, 'ok', grantId);
    return out;
  } catch (err: unknown) {
    const kmip = toKmipError(err);
    recordUsage(deps, call, operation, keyId, version, kmip.slug);
    throw kmip;
  }
}

/**
 * A key with Usage Limits spends what the use protects (the Data's bytes, or one object) before it runs,
 * counted across every process (UsageLimitsService); refused with Permission Denied once used up.
 */
export async function spendUsageLimits(
  deps: KmipDeps,
  tenantId: string,
  key: KeyState,
  operation: UsedOperation,
  bytes: number,
): Promise<void> {
  if (key.usageLimits === undefined) return;
  if (deps.usageLimits === undefined)
    return fail(ResultReason.GeneralFailure, `key ${key.keyId} has Usage Limits that cannot be counted here`);
  await deps.usageLimits.spend(tenantId, key, operation, bytes);
}

/** Keys created over REST: KMIP's ciphers run under the version's KMIP subkey, never the material REST's blobs use. */
const subkey = <T>(material: Buffer, ref: MaterialRef, work: (key: Buffer) => T): T => withKmipAesGcmKey(material, ref, work);

/** The Data of a request (required, at most MAX_DATA bytes). */
export function dataOf(payload: TtlvItem | undefined): Buffer {
  const data = asBytes(child(payload, Tag.Data));
  if (data === undefined) return fail(ResultReason.MissingData, 'Data is required');
  if (data.length > MAX_DATA) fail(ResultReason.InvalidField, `Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
  return data;
}

/** Multi-part (streaming) operations other than Encrypt are not supported: a single request must carry all the data. */
export function refuseStreaming(payload: TtlvItem | undefined): void {
  const init = asBool(child(payload, Tag.InitIndicator));
  const final = asBool(child(payload, Tag.FinalIndicator));
  const multiPart =
    child(payload, Tag.CorrelationValue) !== undefined || init === false || final === false || (init === true && final !== true);
  if (multiPart)
    fail(
      ResultReason.FeatureNotSupported,
      'multi-part operations (Correlation Value, Init and Final Indicator) are supported for Encrypt only: send all the data in one request (a multi-part Decrypt would release plaintext before its tag is checked)',
    );
}
