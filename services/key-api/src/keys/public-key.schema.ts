import { z } from 'zod';

export const publicKeyQuery = z.strictObject({
  version: z.coerce.number().int().min(1).max(0xffffffff).optional().describe('Key version (default: the latest)'),
});

const jwk = z
  .object({ kty: z.string(), kid: z.string(), alg: z.string(), use: z.literal('sig') })
  .catchall(z.unknown())
  .describe('JSON Web Key (RFC 7517); kid is <keyId>:<version>');

export const publicKeyResponse = z.object({
  keyId: z.string(),
  version: z.number().int(),
  keyType: z.string(),
  kcv: z.string().describe("pk1. + SHA-256 of the SPKI DER: the check value the key's events record"),
  pem: z.string().describe('The public key, PEM (SubjectPublicKeyInfo)'),
  jwk,
});

export const jwksResponse = z
  .object({ keys: z.array(jwk) })
  .describe("The tenant's JWKS: every live version of its Active asymmetric keys");
