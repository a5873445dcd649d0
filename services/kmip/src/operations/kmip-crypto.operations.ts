import { timingSafeEqual } from 'node:crypto';
import {
  blockDecrypt,
  blockEncrypt,
  blockEncryptStream,
  hmacOf,
  randomIvFor,
  withKmipAesGcmKey,
  type BlockCipherRequest,
  type MaterialRef,
} from '@keyward/crypto';
import { authorizeUse, isAsymmetricKeyType, type CryptoOperation, type KeyState, type KmipCipherParameters } from '@keyward/domain';
import { asBool, asBytes, child, ResultReason, Tag, ttlv, ValidityIndicator, type TtlvItem } from '@keyward/kmip';
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
} from '../kmip-call';
import { chooseCipher, type CipherChoice } from '../kmip-cipher-choice';
import { parameterLabel, readCipherParameters } from '../kmip-cipher-parameters';
import { kmipKeyType } from '../kmip-key-types';
import { decideFresh } from '../kmip-tenant-reads';
import { cipherStreams } from '../kmip-cipher-streams';
import { toKmipError } from '../kmip-error';
import { requireUsageDates } from '../kmip-usage-dates';

type UsedOperation = Extract<CryptoOperation, 'encrypt' | 'decrypt' | 'mac' | 'verify-mac'>;

/** Runs `work` on the key the operation uses: the material itself for KMIP keys, the KMIP subkey for keys created over REST. */
type WithKey = <T>(work: (key: Buffer) => T) => Promise<T>;

/**
 * Runs one crypto operation for a key-user: the domain's authorizeUse decides (tenant, key state,
 * usage, version, KMIP door, legacy policy), the material comes from the keystore through the cache,
 * and the usage audit gets one record however it ends.
 */
async function withUse(
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
    dataOf(payload);
    // A refusal is confirmed against the store first (a key activated over REST a moment ago counts).
    const decided = await decideFresh(deps.executor, tenantId, (log) => {
      const key = log.keys.get(keyRef);
      keyId = key?.keyId ?? null;
      const now = businessNow();
      // As REST: the tenant, the appliance's ownership, then the principal's grants (the same rule), then the key's state.
      const granted = requireKeyUse(call, log, key, keyRef, operation, aad === undefined ? {} : { aad }, now);
      if (key !== undefined && isAsymmetricKeyType(key.keyType)) {
        fail(ResultReason.IllegalOperation, `key ${keyRef} is a ${key.keyType} key; KMIP does not use asymmetric keys yet`, 'wrong-usage');
      }
      return { key, granted, use: authorizeUse(log.tenant, tenantId, key, keyRef, operation, now, undefined, 'kmip') };
    });
    const { use, key } = decided;
    grantId = decided.granted;
    if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${keyRef} not found`, 'not-found');
    version = use.version;
    requireUsageDates(key, operation, businessNow());
    const ref = { tenantId, keyId: key.keyId, version: use.version };
    if (operation === 'encrypt') await deps.gcmBudget?.spend(ref);
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

/** Keys created over REST: KMIP's ciphers run under the version's KMIP subkey, never the material REST's blobs use. */
const subkey = <T>(material: Buffer, ref: MaterialRef, work: (key: Buffer) => T): T => withKmipAesGcmKey(material, ref, work);

function dataOf(payload: TtlvItem | undefined): Buffer {
  const data = asBytes(child(payload, Tag.Data));
  if (data === undefined) return fail(ResultReason.MissingData, 'Data is required');
  if (data.length > MAX_DATA) fail(ResultReason.InvalidField, `Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
  return data;
}

type Stage = 'whole' | 'first' | 'next' | 'last';

/** Where a request stands in a multi-part Encrypt (Init Indicator, Correlation Value, Final Indicator). */
function stageOf(payload: TtlvItem | undefined): Stage {
  const init = asBool(child(payload, Tag.InitIndicator));
  const final = asBool(child(payload, Tag.FinalIndicator));
  const correlation = child(payload, Tag.CorrelationValue) !== undefined;
  if (!correlation) {
    if (init === true && final !== true) return 'first';
    if (init === false || final === false)
      return fail(ResultReason.MissingData, 'a later part of a multi-part operation needs its Correlation Value');
    return 'whole';
  }
  if (init === true)
    return fail(ResultReason.InvalidField, 'Init Indicator starts a multi-part operation, which has no Correlation Value yet');
  return final === true ? 'last' : 'next';
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

/** The Cryptographic Parameters in force: the request's if it carries them, else the key's own (KMIP 1.4 §4.29). */
const parametersFor = (payload: TtlvItem | undefined, key: KeyState): KmipCipherParameters =>
  readCipherParameters(child(payload, Tag.CryptographicParameters)) ?? key.cipherParameters ?? {};

/**
 * The IV the caller gave, checked against the choice (ECB takes none; IV Length is honoured, and Random IV when
 * encrypting: a Decrypt needs the IV the Encrypt drew, CS-BC-M-13-14).
 */
function givenIv(payload: TtlvItem | undefined, choice: CipherChoice, encrypting = true): Buffer | undefined {
  const iv = asBytes(child(payload, Tag.IvCounterNonce));
  if (iv === undefined) return undefined;
  if (choice.mode === 'ECB') fail(ResultReason.InvalidField, 'ECB takes no IV/Counter/Nonce');
  if (encrypting && choice.randomIv === true) fail(ResultReason.InvalidField, 'Random IV is set: the server chooses the IV/Counter/Nonce');
  if (choice.ivBytes !== undefined && iv.length !== choice.ivBytes) {
    fail(ResultReason.InvalidField, `the IV/Counter/Nonce is ${iv.length} bytes, IV Length says ${choice.ivBytes}`);
  }
  return iv;
}

function gcmOnly(payload: TtlvItem | undefined, choice: CipherChoice): Buffer | undefined {
  const aad = asBytes(child(payload, Tag.AuthenticatedEncryptionAdditionalData));
  if (aad !== undefined && choice.mode !== 'GCM')
    fail(ResultReason.InvalidField, `Authenticated Encryption Additional Data applies to GCM only, not ${choice.mode}`);
  return aad;
}

const cipherRequest = (
  choice: CipherChoice,
  key: Buffer,
  iv: Buffer | undefined,
  aad: Buffer | undefined,
  tagLength?: number,
): BlockCipherRequest => ({
  algorithm: choice.algorithm,
  mode: choice.mode,
  padding: choice.padding,
  key,
  ...(iv === undefined ? {} : { iv }),
  ...(aad === undefined ? {} : { aad }),
  ...(tagLength === undefined ? {} : { tagLength }),
});

/** KMIP 1.4 added the Authenticated Encryption Tag field; older versions carry the tag at the end of Data. */
const hasTagField = (call: Call): boolean => call.version.major > 1 || call.version.minor >= 4;

/**
 * Encrypt: the latest version of an Active key, with the Cryptographic Parameters in force (see
 * chooseCipher): AES ECB/CBC/CTR/GCM or 3DES ECB/CBC, the caller's IV or one the server generates
 * (then returned), GCM with AAD and a 12-16-byte tag. KMIP keys run under their material, keys
 * created over REST under the version's KMIP subkey (docs/kmip.md).
 */
export function encrypt(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(
    deps,
    payload,
    call,
    'encrypt',
    async (key, withKey) => {
      const stage = stageOf(payload);
      return stage === 'next' || stage === 'last'
        ? continueEncrypt(payload, call, key, stage === 'last')
        : startEncrypt(payload, call, key, withKey, stage === 'first');
    },
    true,
  );
}

/** The tag of a GCM encryption: its own field (KMIP ≥ 1.4), else after the ciphertext in Data. */
function sealed(call: Call, key: KeyState, out: { data: Buffer; tag?: Buffer }, extra: TtlvItem[] = []): Payload {
  const tagField = hasTagField(call);
  const body = out.tag !== undefined && !tagField ? Buffer.concat([out.data, out.tag]) : out.data;
  return [
    ttlv.text(Tag.UniqueIdentifier, key.keyId),
    ttlv.bytes(Tag.Data, body),
    ...extra,
    ...(out.tag !== undefined && tagField ? [ttlv.bytes(Tag.AuthenticatedEncryptionTag, out.tag)] : []),
  ];
}

/**
 * A later part of a multi-part Encrypt: the stream the Correlation Value names, opened by this principal
 * on this key (the key's state was checked again by withUse); the last part answers the tag.
 */
function continueEncrypt(payload: TtlvItem | undefined, call: Call, key: KeyState, last: boolean): Payload {
  const correlation = asBytes(child(payload, Tag.CorrelationValue));
  if (correlation === undefined) return fail(ResultReason.InvalidField, 'Correlation Value is a byte string');
  if (child(payload, Tag.IvCounterNonce) !== undefined || child(payload, Tag.AuthenticatedEncryptionAdditionalData) !== undefined) {
    fail(ResultReason.InvalidField, 'the IV/Counter/Nonce and Additional Data belong to the first part of a multi-part Encrypt');
  }
  const owner = { tenantId: call.principal.tenantId, principalId: call.principal.principalId, keyId: key.keyId };
  const stream = cipherStreams.take(correlation, owner, last);
  if (stream === undefined)
    return fail(
      ResultReason.InvalidField,
      'no open multi-part Encrypt of yours on this key has this Correlation Value (unknown or expired)',
    );
  const data = dataOf(payload);
  if (!last)
    return [
      ttlv.text(Tag.UniqueIdentifier, key.keyId),
      ttlv.bytes(Tag.Data, stream.update(data)),
      ttlv.bytes(Tag.CorrelationValue, correlation),
    ];
  const head = stream.update(data);
  const end = stream.final();
  return sealed(call, key, { data: Buffer.concat([head, end.data]), ...(end.tag ? { tag: end.tag } : {}) });
}

async function startEncrypt(
  payload: TtlvItem | undefined,
  call: Call,
  key: KeyState,
  withKey: WithKey,
  multiPart: boolean,
): Promise<Payload> {
  const choice = chooseCipher(key, parametersFor(payload, key));
  const data = dataOf(payload);
  if (child(payload, Tag.AuthenticatedEncryptionTag) !== undefined)
    fail(ResultReason.InvalidField, 'Encrypt takes no Authenticated Encryption Tag');
  const aad = gcmOnly(payload, choice);
  const given = givenIv(payload, choice);
  if (given === undefined && choice.randomIv === false && choice.mode !== 'ECB') {
    fail(ResultReason.MissingData, 'Random IV is false: the IV/Counter/Nonce is required');
  }
  const iv = choice.mode === 'ECB' ? undefined : (given ?? randomIvFor(choice.algorithm, choice.mode, choice.ivBytes));
  // Returned when the server generated it (KMIP 1.4 §4.29); the caller knows its own.
  const ivItem = given === undefined && iv !== undefined ? [ttlv.bytes(Tag.IvCounterNonce, iv)] : [];
  if (multiPart) {
    const stream = await withKey((k) => blockEncryptStream(cipherRequest(choice, k, iv, aad, choice.tagLength)));
    const head = stream.update(data);
    const correlation = cipherStreams.open(
      { tenantId: call.principal.tenantId, principalId: call.principal.principalId, keyId: key.keyId },
      stream,
    );
    return [
      ttlv.text(Tag.UniqueIdentifier, key.keyId),
      ttlv.bytes(Tag.Data, head),
      ...ivItem,
      ttlv.bytes(Tag.CorrelationValue, correlation),
    ];
  }
  const out = await withKey((k) => blockEncrypt(cipherRequest(choice, k, iv, aad, choice.tagLength), data));
  return sealed(call, key, out, ivItem);
}

/**
 * Decrypt: any live version the domain allows (the latest), same parameters as Encrypt; a changed
 * byte, IV, tag or AAD (GCM) or bad PKCS#5 padding is a Cryptographic Failure.
 */
export function decrypt(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(deps, payload, call, 'decrypt', async (key, withKey) => {
    const parameters = parametersFor(payload, key);
    const choice = chooseCipher(key, parameters);
    const data = dataOf(payload);
    const aad = gcmOnly(payload, choice);
    const iv = givenIv(payload, choice, false);
    // Invalid Message, as the OASIS reference server answers it (CS-BC-M-11-14 to 13): the request cannot be carried out as sent.
    if (iv === undefined && choice.mode !== 'ECB')
      return fail(ResultReason.InvalidMessage, `${choice.mode} decryption needs the IV/Counter/Nonce`);
    const tagItem = asBytes(child(payload, Tag.AuthenticatedEncryptionTag));
    if (choice.mode !== 'GCM') {
      if (tagItem !== undefined) fail(ResultReason.InvalidField, `${choice.mode} takes no Authenticated Encryption Tag`);
      return [
        ttlv.text(Tag.UniqueIdentifier, key.keyId),
        ttlv.bytes(Tag.Data, await withKey((k) => blockDecrypt(cipherRequest(choice, k, iv, undefined), data))),
      ];
    }
    // Tag Length, when given, must be the tag's length; without a tag field (KMIP < 1.4) the tag ends Data.
    const explicitTag = typeof parameters.tagLength === 'number' ? parameters.tagLength : undefined;
    const appended = explicitTag ?? choice.tagLength ?? 16;
    if (tagItem === undefined && data.length < appended)
      return fail(ResultReason.MissingData, 'the Authenticated Encryption Tag is required');
    const tag = tagItem ?? data.subarray(data.length - appended);
    const body = tagItem ? data : data.subarray(0, data.length - appended);
    const plaintext = await withKey((k) => blockDecrypt(cipherRequest(choice, k, iv, aad, explicitTag), body, tag));
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ttlv.bytes(Tag.Data, plaintext)];
  });
}

/** The HMAC a MAC key computes: its own hash; Cryptographic Parameters may name it again, nothing else. */
function macDigest(key: KeyState, parameters: KmipCipherParameters) {
  const type = kmipKeyType(key.keyType);
  const hmac = type?.hmac;
  if (type === undefined || hmac === undefined)
    return fail(ResultReason.IllegalOperation, `key ${key.keyId} is a ${key.keyType} key and cannot MAC`, 'wrong-usage');
  for (const [name, value] of Object.entries(parameters)) {
    if (name === 'cryptographicAlgorithm' && value === type.algorithm) continue;
    if (name === 'hashingAlgorithm' && value === hmac.hashing) continue;
    if (name === 'cryptographicAlgorithm' || name === 'hashingAlgorithm') {
      fail(ResultReason.InvalidField, `${parameterLabel(name)} ${String(value)} does not match key ${key.keyId}, a ${key.keyType} key`);
    }
    fail(ResultReason.InvalidField, `${parameterLabel(name)} does not apply to HMAC`);
  }
  return hmac.digest;
}

/** MAC: HMAC with the key's hash (SHA-1/224/256/384/512), the latest version of an Active key. */
export function mac(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(deps, payload, call, 'mac', async (key, _withKey, withMaterial) => {
    const digest = macDigest(key, parametersFor(payload, key));
    const data = dataOf(payload);
    const out = await withMaterial((k) => hmacOf(digest, k, data));
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ttlv.bytes(Tag.MacData, out)];
  });
}

/**
 * MAC Verify: the domain's verify-mac rule (Active or Deactivated key, the latest version), and a
 * constant-time comparison; a MAC of another length is Invalid without a timing difference that matters.
 */
export function macVerify(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(deps, payload, call, 'verify-mac', async (key, _withKey, withMaterial) => {
    const digest = macDigest(key, parametersFor(payload, key));
    const data = dataOf(payload);
    const given = asBytes(child(payload, Tag.MacData));
    if (given === undefined) return fail(ResultReason.MissingData, 'MAC Data is required');
    const expected = await withMaterial((k) => hmacOf(digest, k, data));
    const valid = given.length === expected.length && timingSafeEqual(given, expected);
    return [
      ttlv.text(Tag.UniqueIdentifier, key.keyId),
      ttlv.enum(Tag.ValidityIndicator, valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid),
    ];
  });
}
