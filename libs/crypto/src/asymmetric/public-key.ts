import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { ASYMMETRIC_KEY_TYPES, type AsymmetricKeyType } from '@keyward/domain';

/** A public key as relying parties take it: PEM (SPKI) and a JWK with kid, alg and use. */
export interface PublicKeyForms {
  readonly pem: string;
  readonly jwk: JsonWebKey & { kid: string; alg: string; use: 'sig' };
}

/** The PEM and JWK forms of a SPKI DER public key; `alg` is the key type's default JWS algorithm. */
export function publicKeyForms(spki: Buffer, keyType: AsymmetricKeyType, kid: string): PublicKeyForms {
  const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  const pem = key.export({ format: 'pem', type: 'spki' }).toString();
  const alg = ASYMMETRIC_KEY_TYPES[keyType].asymmetric.jwsDefault;
  return { pem, jwk: { ...key.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}
