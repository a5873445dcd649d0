import { pkcs8OfRsaComponents, privateKeyTypeOf, publicKeyTypeOf, spkiOf, spkiOfRsaComponents } from '@keyward/crypto';
import type { AsymmetricKeyType } from '@keyward/domain';
import { children, ItemType, KeyFormatType, ResultReason, Tag, type TtlvItem } from '@keyward/kmip';
import { fail, isKmip2, type Call } from './kmip-call';
import { KMIP_PAIR_TYPES, SUPPORTED_KEY_PAIRS } from './kmip-key-types';
import { keyBlockOf } from './operations/kmip-create.operations';

/**
 * What a Register reads of an asymmetric key beyond DER private keys: Transparent RSA keys (their
 * integers, checked and turned into PKCS#8 or SPKI by libs/crypto), a Public Key's X.509 or PKCS#1
 * bytes, and the key type the key itself has.
 */

/** The type of a registered private (or public) key, read from the key; the Cryptographic Algorithm and Length given must agree. */
export function registeredType(
  material: Buffer,
  given: { algorithm?: number | undefined; bits?: number | undefined },
  call: Call,
  which: 'private' | 'public' = 'private',
): AsymmetricKeyType {
  const keyType = which === 'private' ? privateKeyTypeOf(material) : publicKeyTypeOf(material);
  if (keyType === undefined) return fail(ResultReason.InvalidField, `the ${which} key is of no type Keyward holds: ${SUPPORTED_KEY_PAIRS}`);
  const type = KMIP_PAIR_TYPES[keyType];
  if ((given.algorithm !== undefined && !type.named.includes(given.algorithm)) || (given.bits !== undefined && given.bits !== type.bits))
    fail(ResultReason.InvalidField, `Cryptographic Algorithm or Length does not match the key material, a ${keyType} key`);
  if (type.kmip2 === true && !isKmip2(call)) fail(ResultReason.InvalidField, `${keyType} keys are KMIP 2.0 objects`);
  return keyType;
}

/** The positive Big Integer `tag` of a Transparent key's Key Material (one, exactly). */
export function keyInteger(fields: TtlvItem, tag: number, name: string): bigint {
  const found = children(fields, tag);
  const item = found.length === 1 ? found[0] : undefined;
  const value = item?.type === ItemType.BigInteger ? item.value : undefined;
  if (value === undefined) return fail(ResultReason.InvalidField, `the Key Material needs one ${name} (Big Integer)`);
  if (value <= 0n) return fail(ResultReason.InvalidField, `the Key Material's ${name} is not a positive integer`);
  return value;
}

/** A Transparent RSA Private Key as PKCS#8 DER (undefined: its integers are not one RSA key). */
export function transparentRsaPrivateKey(fields: TtlvItem): Buffer | undefined {
  return pkcs8OfRsaComponents({
    modulus: keyInteger(fields, Tag.Modulus, 'Modulus'),
    publicExponent: keyInteger(fields, Tag.PublicExponent, 'Public Exponent'),
    privateExponent: keyInteger(fields, Tag.PrivateExponent, 'Private Exponent'),
    p: keyInteger(fields, Tag.P, 'P'),
    q: keyInteger(fields, Tag.Q, 'Q'),
    primeExponentP: keyInteger(fields, Tag.PrimeExponentP, 'Prime Exponent P'),
    primeExponentQ: keyInteger(fields, Tag.PrimeExponentQ, 'Prime Exponent Q'),
    crtCoefficient: keyInteger(fields, Tag.CRTCoefficient, 'CRT Coefficient'),
  });
}

/** The public key of a Register's Public Key object as SPKI DER, from X.509 (SPKI), PKCS#1 or Transparent RSA Public Key. */
export function registeredPublicKey(object: TtlvItem | undefined): { spki: Buffer; format: number; algorithm?: number; bits?: number } {
  const block = keyBlockOf(object, [KeyFormatType.X509, KeyFormatType.PKCS1, KeyFormatType.TransparentRSAPublicKey]);
  const { format } = block;
  const spki =
    block.fields !== undefined
      ? spkiOfRsaComponents({
          modulus: keyInteger(block.fields, Tag.Modulus, 'Modulus'),
          publicExponent: keyInteger(block.fields, Tag.PublicExponent, 'Public Exponent'),
        })
      : spkiOf(block.material, format === KeyFormatType.PKCS1 ? 'pkcs1' : 'spki');
  if (spki === undefined)
    return fail(
      ResultReason.InvalidField,
      format === KeyFormatType.TransparentRSAPublicKey
        ? 'the Transparent RSA Public Key is not an RSA public key'
        : `the Key Material is not a ${format === KeyFormatType.PKCS1 ? 'PKCS#1' : 'X.509 (SPKI)'} public key (DER)`,
    );
  return {
    spki,
    format,
    ...(block.algorithm === undefined ? {} : { algorithm: block.algorithm }),
    ...(block.bits === undefined ? {} : { bits: block.bits }),
  };
}
