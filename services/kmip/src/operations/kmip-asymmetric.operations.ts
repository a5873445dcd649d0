import { constants, privateDecrypt, publicEncrypt } from 'node:crypto';
import { privateKeyOf, publicKeyOf, signWithAsync, UnsupportedDigest, verifyWith, type SignedInput } from '@keyward/crypto';
import {
  ASYMMETRIC_KEY_TYPES,
  isAsymmetricKeyType,
  isSignatureAlgorithm,
  requireSignatureAlgorithm,
  type KeyState,
  type KmipCipherParameters,
  type SignatureAlgorithm,
} from '@keyward/domain';
import {
  asBytes,
  child,
  DigitalSignatureAlgorithm as DSA,
  HashingAlgorithm,
  PaddingMethod,
  ResultReason,
  Tag,
  ttlv,
  ValidityIndicator,
  type TtlvItem,
} from '@keyward/kmip';
import { fail, MAX_DATA, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { dataOf, refuseStreaming, withUse, type WithKey } from '../kmip-crypto-use';
import { parameterLabel, readCipherParameters } from '../kmip-cipher-parameters';
import { KMIP_PAIR_TYPES } from '../kmip-key-types';
import { uidOf } from '../kmip-key-pair';

const HASHES: Readonly<Record<number, 'SHA256' | 'SHA384' | 'SHA512'>> = {
  [HashingAlgorithm.SHA_256]: 'SHA256',
  [HashingAlgorithm.SHA_384]: 'SHA384',
  [HashingAlgorithm.SHA_512]: 'SHA512',
};
const HASH_CODES: Readonly<Record<string, number>> = {
  SHA256: HashingAlgorithm.SHA_256,
  SHA384: HashingAlgorithm.SHA_384,
  SHA512: HashingAlgorithm.SHA_512,
};
const DIGEST_BYTES: Readonly<Record<string, number>> = { SHA256: 32, SHA384: 48, SHA512: 64 };

/** Digital Signature Algorithms Keyward signs with (RSASSA-PSS takes its hash from Hashing Algorithm). */
const BY_DSA: Readonly<Record<number, SignatureAlgorithm>> = {
  [DSA.SHA256WithRSA]: 'RSA-PKCS1-SHA256',
  [DSA.SHA384WithRSA]: 'RSA-PKCS1-SHA384',
  [DSA.SHA512WithRSA]: 'RSA-PKCS1-SHA512',
  [DSA.ECDSAWithSHA256]: 'ECDSA-SHA256',
  [DSA.ECDSAWithSHA384]: 'ECDSA-SHA384',
};

/** The Cryptographic Parameters fields a signature may carry (anything else is refused, never ignored). */
const SIGNATURE_FIELDS = new Set([
  'digitalSignatureAlgorithm',
  'cryptographicAlgorithm',
  'paddingMethod',
  'hashingAlgorithm',
  'saltLength',
  'maskGenerator',
  'maskGeneratorHashingAlgorithm',
]);
const OAEP_FIELDS = new Set([
  'cryptographicAlgorithm',
  'paddingMethod',
  'hashingAlgorithm',
  'maskGenerator',
  'maskGeneratorHashingAlgorithm',
]);
const MGF1 = 1;

function onlyFields(parameters: KmipCipherParameters, allowed: ReadonlySet<string>, what: string): void {
  for (const name of Object.keys(parameters))
    if (!allowed.has(name)) fail(ResultReason.InvalidField, `${parameterLabel(name)} does not apply to ${what}`);
}

/** The hash a request names (SHA-256/384/512 only), or undefined. */
function hashOf(parameters: KmipCipherParameters): string | undefined {
  const code = parameters.hashingAlgorithm;
  if (code === undefined) return undefined;
  const hash = HASHES[Number(code)];
  return hash ?? fail(ResultReason.InvalidField, `Hashing Algorithm ${String(code)} is not supported: SHA-256, SHA-384 or SHA-512`);
}

/**
 * The signature algorithm of a Sign or Signature Verify: from the Digital Signature Algorithm, else
 * from the Padding Method (RSA: PKCS#1 v1.5 by default, or PSS) and Hashing Algorithm, else the key
 * type's default (RS256, ES256/ES384, EdDSA). The key type must admit it (the domain's rule).
 */
export function signatureAlgorithmOf(key: KeyState, parameters: KmipCipherParameters): SignatureAlgorithm {
  if (!isAsymmetricKeyType(key.keyType))
    return fail(ResultReason.IllegalOperation, `key ${key.keyId} is a ${key.keyType} key`, 'wrong-usage');
  onlyFields(parameters, SIGNATURE_FIELDS, 'signatures');
  const spec = ASYMMETRIC_KEY_TYPES[key.keyType].asymmetric;
  const algorithm = parameters.cryptographicAlgorithm;
  if (algorithm !== undefined && !KMIP_PAIR_TYPES[key.keyType].named.includes(Number(algorithm)))
    fail(ResultReason.InvalidField, `Cryptographic Algorithm ${String(algorithm)} does not match key ${key.keyId}, a ${key.keyType} key`);
  const hash = hashOf(parameters);
  const dsa = parameters.digitalSignatureAlgorithm;
  const padding = parameters.paddingMethod;
  let name: string;
  if (dsa !== undefined && Number(dsa) === DSA.RSASSA_PSS) name = `RSA-PSS-${hash ?? 'SHA256'}`;
  else if (dsa !== undefined) {
    name = BY_DSA[Number(dsa)] ?? fail(ResultReason.InvalidField, `Digital Signature Algorithm ${String(dsa)} is not supported`);
    if (hash !== undefined && !name.endsWith(hash))
      fail(ResultReason.InvalidField, `Hashing Algorithm contradicts the Digital Signature Algorithm`);
  } else if (spec.family === 'RSA') {
    if (padding !== undefined && padding !== PaddingMethod.PKCS1v15 && padding !== PaddingMethod.PSS)
      fail(ResultReason.InvalidField, 'RSA signatures use the PKCS1 v1.5 or PSS Padding Method');
    name = `RSA-${padding === PaddingMethod.PSS ? 'PSS' : 'PKCS1'}-${hash ?? 'SHA256'}`;
  } else if (spec.family === 'EC') name = `ECDSA-${hash ?? (spec.curve === 'P-256' ? 'SHA256' : 'SHA384')}`;
  else {
    if (hash !== undefined) fail(ResultReason.InvalidField, 'Ed25519 signs the message itself: no Hashing Algorithm');
    name = 'ED25519';
  }
  if (padding !== undefined && spec.family === 'RSA' && (padding === PaddingMethod.PSS) !== name.startsWith('RSA-PSS-'))
    fail(ResultReason.InvalidField, 'Padding Method contradicts the Digital Signature Algorithm');
  if (padding !== undefined && spec.family !== 'RSA')
    fail(ResultReason.InvalidField, `Padding Method does not apply to ${key.keyType} signatures`);
  const pss = name.startsWith('RSA-PSS-');
  const hashName = name.slice(name.lastIndexOf('-') + 1);
  if (parameters.saltLength !== undefined && (!pss || Number(parameters.saltLength) !== DIGEST_BYTES[hashName]))
    fail(
      ResultReason.InvalidField,
      pss ? `PSS signatures use a salt as long as the hash (${DIGEST_BYTES[hashName]} bytes)` : 'Salt Length applies to PSS only',
    );
  requireMgf1(parameters, pss, hashName, 'PSS');
  if (!isSignatureAlgorithm(name)) return fail(ResultReason.InvalidField, `${name} is not a signature algorithm Keyward knows`);
  requireSignatureAlgorithm(key, name);
  return name;
}

/** Mask Generator fields: MGF1 with the scheme's own hash, for PSS and OAEP only. */
function requireMgf1(parameters: KmipCipherParameters, applies: boolean, hash: string, scheme: string): void {
  const { maskGenerator, maskGeneratorHashingAlgorithm } = parameters;
  if (maskGenerator === undefined && maskGeneratorHashingAlgorithm === undefined) return;
  if (!applies) fail(ResultReason.InvalidField, `the Mask Generator applies to ${scheme} only`);
  if (maskGenerator !== undefined && Number(maskGenerator) !== MGF1) fail(ResultReason.InvalidField, 'the Mask Generator is MGF1');
  if (maskGeneratorHashingAlgorithm !== undefined && Number(maskGeneratorHashingAlgorithm) !== HASH_CODES[hash])
    fail(ResultReason.InvalidField, `${scheme} uses MGF1 with its own hash (${hash})`);
}

/** What is signed: Data (the message), or Digested Data (a digest: PKCS#1 v1.5 only). */
function signedInputOf(payload: TtlvItem | undefined): SignedInput {
  const digest = asBytes(child(payload, Tag.DigestedData));
  if (digest !== undefined) {
    if (child(payload, Tag.Data) !== undefined) fail(ResultReason.InvalidField, 'give Data or Digested Data, not both');
    return { digest };
  }
  return { message: dataOf(payload) };
}

/** UnsupportedDigest (a digest of the wrong length, or for a scheme that signs messages only) is the caller's error. */
async function digestChecked<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err: unknown) {
    if (err instanceof UnsupportedDigest) fail(ResultReason.InvalidField, err.message);
    throw err;
  }
}

const parametersOf = (payload: TtlvItem | undefined): KmipCipherParameters =>
  readCipherParameters(child(payload, Tag.CryptographicParameters)) ?? {};

/**
 * Sign: the latest version of an Active key pair's private key (`<keyId>`), RSA PKCS#1 v1.5 or PSS,
 * ECDSA (DER signatures, as X.509 and OpenSSL) or Ed25519; over Data, or for PKCS#1 v1.5 over
 * Digested Data. RSA signatures of Data run in libuv's thread pool, as key-api's (signWithAsync).
 */
export function sign(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(deps, payload, call, 'sign', async (key, _withKey, withMaterial) => {
    const algorithm = signatureAlgorithmOf(key, parametersOf(payload));
    const input = signedInputOf(payload);
    const signature = await withMaterial((m) => digestChecked(() => signWithAsync(m, algorithm, input)));
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ttlv.bytes(Tag.SignatureData, signature)];
  });
}

/**
 * Signature Verify, with the public key (`<keyId>.public`) of the latest version: Active or
 * Deactivated keys verify, as decryption does. Any signature that does not verify, malformed ones
 * included, is Invalid.
 */
export function signatureVerify(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  return withUse(deps, payload, call, 'verify', async (key, _withKey, withMaterial) => {
    const algorithm = signatureAlgorithmOf(key, parametersOf(payload));
    const input = signedInputOf(payload);
    const signature = asBytes(child(payload, Tag.SignatureData));
    if (signature === undefined) return fail(ResultReason.MissingData, 'Signature Data is required');
    if (signature.length > MAX_DATA)
      fail(ResultReason.InvalidField, `Signature Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
    const valid = await withMaterial((m) => digestChecked(() => verifyWith(publicKeyOf(m), algorithm, input, signature)));
    return [
      ttlv.text(Tag.UniqueIdentifier, uidOf(key, 'public')),
      ttlv.enum(Tag.ValidityIndicator, valid ? ValidityIndicator.Valid : ValidityIndicator.Invalid),
    ];
  });
}

/** RSA-OAEP's parameters: OAEP with SHA-256 and MGF1-SHA-256 (the defaults), nothing else. */
function requireOaep(payload: TtlvItem | undefined): void {
  const parameters = parametersOf(payload);
  onlyFields(parameters, OAEP_FIELDS, 'RSA-OAEP');
  if (parameters.paddingMethod !== undefined && Number(parameters.paddingMethod) !== PaddingMethod.OAEP)
    fail(ResultReason.InvalidField, 'RSA keys encrypt with the OAEP Padding Method only');
  const hash = hashOf(parameters) ?? 'SHA256';
  if (hash !== 'SHA256') fail(ResultReason.InvalidField, 'RSA-OAEP uses SHA-256');
  requireMgf1(parameters, true, hash, 'OAEP');
  if (
    parameters.cryptographicAlgorithm !== undefined &&
    Number(parameters.cryptographicAlgorithm) !== KMIP_PAIR_TYPES['RSA-2048'].algorithm
  )
    fail(ResultReason.InvalidField, 'the Cryptographic Algorithm of an RSA key is RSA');
  for (const tag of [Tag.IvCounterNonce, Tag.AuthenticatedEncryptionAdditionalData, Tag.AuthenticatedEncryptionTag])
    if (child(payload, tag) !== undefined) fail(ResultReason.InvalidField, 'RSA-OAEP takes no IV, Additional Data or tag');
}

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

/** Encrypt with an RSA key pair's public key (`<keyId>.public`): RSA-OAEP-SHA256 of at most k − 66 bytes. */
export async function oaepEncrypt(payload: TtlvItem | undefined, key: KeyState, withMaterial: WithKey): Promise<Payload> {
  refuseStreaming(payload);
  requireOaep(payload);
  const data = dataOf(payload);
  const ciphertext = await withMaterial((m) => {
    const publicKey = publicKeyOf(m);
    const room = Math.floor((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8) - 66;
    if (data.length > room) fail(ResultReason.InvalidField, `RSA-OAEP-SHA256 with key ${key.keyId} encrypts at most ${room} bytes`);
    return publicEncrypt({ key: publicKey, ...OAEP }, data);
  });
  return [ttlv.text(Tag.UniqueIdentifier, uidOf(key, 'public')), ttlv.bytes(Tag.Data, ciphertext)];
}

/** Decrypt with an RSA key pair's private key (`<keyId>`); a ciphertext that does not open is a Cryptographic Failure. */
export async function oaepDecrypt(payload: TtlvItem | undefined, key: KeyState, withMaterial: WithKey): Promise<Payload> {
  requireOaep(payload);
  const data = dataOf(payload);
  const plaintext = await withMaterial((m) => {
    try {
      return privateDecrypt({ key: privateKeyOf(m), ...OAEP }, data);
    } catch {
      return fail(ResultReason.CryptographicFailure, 'the ciphertext does not decrypt with this key', 'authentication-failed');
    }
  });
  return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ttlv.bytes(Tag.Data, plaintext)];
}
