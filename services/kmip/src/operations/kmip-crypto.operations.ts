import { timingSafeEqual } from 'node:crypto';
import { blockDecrypt, blockEncrypt, blockEncryptStream, hmacOf, randomIvFor, type BlockCipherRequest } from '@keyward/crypto';
import { isAsymmetricKeyType, type KeyState, type KmipCipherParameters } from '@keyward/domain';
import { asBool, asBytes, child, ResultReason, Tag, ttlv, ValidityIndicator, type TtlvItem } from '@keyward/kmip';
import { fail, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { chooseCipher, type CipherChoice } from '../kmip-cipher-choice';
import { parameterLabel, readCipherParameters } from '../kmip-cipher-parameters';
import { dataOf, withUse, type WithKey } from '../kmip-crypto-use';
import { KMIP_KEY_TYPES, kmipKeyType } from '../kmip-key-types';
import { cipherStreams } from '../kmip-cipher-streams';
import { oaepDecrypt, oaepEncrypt } from './kmip-asymmetric.operations';

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
    async (key, withKey, withMaterial) => {
      if (isAsymmetricKeyType(key.keyType)) return oaepEncrypt(payload, key, withMaterial);
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
  return withUse(deps, payload, call, 'decrypt', async (key, withKey, withMaterial) => {
    if (isAsymmetricKeyType(key.keyType)) return oaepDecrypt(payload, key, withMaterial);
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

/**
 * The HMAC a key that MACs by reuse computes (an AES key whose client asked for MAC Generate/Verify;
 * the domain has allowed it): the HMAC the Cryptographic Parameters in force name, by Cryptographic
 * Algorithm (HMAC-SHA*) or Hashing Algorithm, which must agree; none named is refused, never guessed.
 */
function reusedMacDigest(key: KeyState, parameters: KmipCipherParameters) {
  const hmacs = Object.values(KMIP_KEY_TYPES).flatMap((t) => (t.hmac === undefined ? [] : [{ algorithm: t.algorithm, ...t.hmac }]));
  const { cryptographicAlgorithm: algorithm, hashingAlgorithm: hashing, ...rest } = parameters;
  const named = [
    ...(algorithm === undefined ? [] : [hmacs.find((h) => h.algorithm === algorithm)]),
    ...(hashing === undefined ? [] : [hmacs.find((h) => h.hashing === hashing)]),
  ];
  if (named.some((h) => h === undefined))
    fail(ResultReason.InvalidField, `the Cryptographic Parameters of key ${key.keyId} name no HMAC Keyward computes`);
  const [first] = named;
  if (first === undefined)
    return fail(ResultReason.InvalidField, `key ${key.keyId} is a ${key.keyType} key: name the HMAC (Cryptographic Algorithm HMAC-SHA*)`);
  if (named.some((h) => h?.digest !== first.digest))
    fail(ResultReason.InvalidField, 'Cryptographic Algorithm and Hashing Algorithm name different hashes');
  for (const name of Object.keys(rest)) fail(ResultReason.InvalidField, `${parameterLabel(name)} does not apply to HMAC`);
  return first.digest;
}

/** The HMAC a MAC key computes: its own hash; Cryptographic Parameters may name it again, nothing else. */
function macDigest(key: KeyState, parameters: KmipCipherParameters) {
  const type = kmipKeyType(key.keyType);
  const hmac = type?.hmac;
  if (hmac === undefined && key.extraUsages?.includes('mac') === true) return reusedMacDigest(key, parameters);
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
