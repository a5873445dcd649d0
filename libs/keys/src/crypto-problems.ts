import { ProblemError } from '@keyward/platform';

export const sealedProblem = (reason: string): ProblemError =>
  new ProblemError(503, 'sealed', 'Sealed', `the key manager is sealed: ${reason}; unseal it to use keys`, {}, { 'retry-after': '5' });

export const malformedProblem = (what: 'ciphertext' | 'MAC', reason: string): ProblemError =>
  new ProblemError(400, `malformed-${what === 'MAC' ? 'mac' : 'ciphertext'}`, `Malformed ${what}`, `not a Keyward ${what}: ${reason}`);

export const authenticationFailedProblem = (): ProblemError =>
  new ProblemError(
    422,
    'authentication-failed',
    'Authentication failed',
    'the ciphertext or its AAD failed authentication: it was altered, or the AAD differs from the one used when encrypting',
  );

export const materialGoneProblem = (keyId: string, version: number): ProblemError =>
  new ProblemError(409, 'key-destroyed', 'Key destroyed', `the material of version ${version} of key ${keyId} no longer exists`, {
    keyId,
    version,
  });

export const keystoreIntegrityProblem = (what: string): ProblemError =>
  new ProblemError(
    503,
    'keystore-integrity',
    'Keystore integrity failure',
    `${what} failed authentication in the keystore; it may have been altered. Restore it from a backup.`,
  );

export const payloadTooLargeProblem = (field: string, limit: number): ProblemError =>
  new ProblemError(413, 'payload-too-large', 'Payload too large', `${field} is larger than ${limit} bytes`, { field, limit });

export const kekGoneProblem = (tenantId: string): ProblemError =>
  new ProblemError(409, 'key-destroyed', 'Key destroyed', `the key-encrypting key of tenant ${tenantId} no longer exists`, { tenantId });

export const auditUnavailableProblem = (retryAfterSeconds: number): ProblemError =>
  new ProblemError(
    503,
    'audit-unavailable',
    'Usage audit unavailable',
    "this tenant's usage audit records can be neither sent nor stored right now (the usage topic and the outbox are unavailable or full), so no crypto operation runs; retry later",
    {},
    { 'retry-after': String(retryAfterSeconds) },
  );
