import { randomBytes } from 'node:crypto';
import { digestAvailable, hashOf, type DigestName } from '@keyward/crypto';
import { asBytes, asInt, child, HashingAlgorithm, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { fail, MAX_DATA, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { parameterLabel, readCipherParameters } from '../kmip-cipher-parameters';
import { refuseStreaming } from '../kmip-crypto-use';

/** The most random bytes one RNG Retrieve returns. */
export const MAX_RNG_BYTES = 4096;

/** Who may use the server's RNG and hashes: they touch no key, but stay with the tenant's working roles. */
const CRYPTO_SERVICE_ROLES = ['tenant-admin', 'key-user', 'kmip-client'] as const;

/** RNG Retrieve: Data Length (1-4096) bytes from the operating system's CSPRNG (Node's randomBytes). */
export function rngRetrieve(_deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Payload {
  requireRole(call, CRYPTO_SERVICE_ROLES, 'retrieve random bytes');
  const length = asInt(child(payload, Tag.DataLength));
  if (length === undefined) return fail(ResultReason.MissingData, 'Data Length is required');
  if (!Number.isInteger(length) || length < 1 || length > MAX_RNG_BYTES) {
    fail(ResultReason.InvalidField, `Data Length must be 1-${MAX_RNG_BYTES} bytes`);
  }
  return [ttlv.bytes(Tag.Data, randomBytes(length))];
}

/** RNG Seed: refused; Keyward's RNG is the operating system's CSPRNG, which takes no seed from a client. */
export function rngSeed(_deps: KmipDeps, _payload: TtlvItem | undefined, call: Call): Payload {
  requireRole(call, CRYPTO_SERVICE_ROLES, 'seed the RNG');
  return fail(
    ResultReason.OperationNotSupported,
    "RNG Seed is not supported: Keyward draws from the operating system's CSPRNG, which takes no seed data from clients",
  );
}

const HASHES: ReadonlyMap<number, DigestName> = new Map([
  [HashingAlgorithm.SHA_1, 'SHA-1'],
  [HashingAlgorithm.SHA_224, 'SHA-224'],
  [HashingAlgorithm.SHA_256, 'SHA-256'],
  [HashingAlgorithm.SHA_384, 'SHA-384'],
  [HashingAlgorithm.SHA_512, 'SHA-512'],
  [HashingAlgorithm.SHA_512_224, 'SHA-512/224'],
  [HashingAlgorithm.SHA_512_256, 'SHA-512/256'],
  [HashingAlgorithm.SHA3_224, 'SHA3-224'],
  [HashingAlgorithm.SHA3_256, 'SHA3-256'],
  [HashingAlgorithm.SHA3_384, 'SHA3-384'],
  [HashingAlgorithm.SHA3_512, 'SHA3-512'],
] as [number, DigestName][]);

/** Hash: the digest of Data with the Hashing Algorithm of the Cryptographic Parameters (SHA-1, SHA-2, SHA-3). */
export function hash(_deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Payload {
  requireRole(call, CRYPTO_SERVICE_ROLES, 'hash data');
  refuseStreaming(payload);
  const parameters = readCipherParameters(child(payload, Tag.CryptographicParameters));
  if (parameters === undefined) return fail(ResultReason.MissingData, 'Cryptographic Parameters with a Hashing Algorithm are required');
  const code = parameters.hashingAlgorithm;
  if (typeof code !== 'number') return fail(ResultReason.MissingData, 'Cryptographic Parameters must name a Hashing Algorithm');
  for (const name of Object.keys(parameters)) {
    if (name !== 'hashingAlgorithm') fail(ResultReason.InvalidField, `${parameterLabel(name)} does not apply to Hash`);
  }
  const digest = HASHES.get(code);
  if (digest === undefined || !digestAvailable(digest)) {
    return fail(
      ResultReason.FeatureNotSupported,
      `Hashing Algorithm ${code} is not supported: SHA-1, SHA-224/256/384/512, SHA-512/224, SHA-512/256, SHA3-224/256/384/512`,
    );
  }
  const data = asBytes(child(payload, Tag.Data));
  if (data === undefined) return fail(ResultReason.MissingData, 'Data is required');
  if (data.length > MAX_DATA) fail(ResultReason.InvalidField, `Data is larger than ${MAX_DATA} bytes`, 'payload-too-large');
  return [ttlv.bytes(Tag.Data, hashOf(digest, data))];
}
