import { createPublicKey } from 'node:crypto';
import { publicKeyOf, rsaPublicComponentsOf } from '@keyward/crypto';
import { authorizePublicKey } from '@keyward/domain';
import { asEnum, child, KeyFormatType, ObjectType, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import { algorithmOf, lengthOf } from '../kmip-attributes';
import { fail, requireKeyUse, requireRole, USERS, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { keyOfObject } from '../kmip-key-pair';
import { decideFresh } from '../kmip-tenant-reads';
import { registeredFormatOf } from '../kmip-key-format';

/** A public key's Key Material in a Key Format Type: SPKI or PKCS#1 DER bytes, or a Transparent RSA Public Key's two integers. */
function keyMaterialIn(spki: Buffer, format: number): TtlvItem {
  if (format === KeyFormatType.TransparentRSAPublicKey) {
    const { modulus, publicExponent } = rsaPublicComponentsOf(spki);
    return ttlv.struct(Tag.KeyMaterial, [ttlv.big(Tag.Modulus, modulus), ttlv.big(Tag.PublicExponent, publicExponent)]);
  }
  const der =
    format === KeyFormatType.PKCS1
      ? createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'der', type: 'pkcs1' })
      : spki;
  return ttlv.bytes(Tag.KeyMaterial, der);
}

/**
 * Get of a key pair's public key object (`<keyId>.public`) or of a public key registered alone: the
 * SPKI (X.509 key format, the default) or, for RSA, the PKCS#1 or Transparent RSA public key of a
 * version, derived from the private key (a public key alone: its material). As REST's
 * public-key read: any state while the version's material exists, no export needed, no usage
 * record; the caller must be allowed to verify with the key (requireKeyUse: tenant, ownership,
 * grants).
 */
export async function getPublicKey(deps: KmipDeps, payload: TtlvItem | undefined, call: Call, uid: string): Promise<Payload> {
  requireRole(call, USERS, 'read public keys');
  const { tenantId } = call.principal;
  const { key, version } = await decideFresh(deps.executor, tenantId, (log) => {
    const { key: found } = keyOfObject(log.keys, uid);
    requireKeyUse(call, log, found, uid, 'verify', {}, businessNow());
    return { key: found, version: authorizePublicKey(log.tenant, tenantId, found, uid) };
  });
  if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${uid} not found`, 'not-found');
  // A public key registered alone is served in its registered format (kmip-key-format.ts) unless the Get asks for another.
  const format = asEnum(child(payload, Tag.KeyFormatType)) ?? registeredFormatOf(key) ?? KeyFormatType.X509;
  const rsa = key.keyType.startsWith('RSA-');
  const rsaFormats: readonly number[] = [KeyFormatType.PKCS1, KeyFormatType.TransparentRSAPublicKey];
  if (format !== KeyFormatType.X509 && !(rsa && rsaFormats.includes(format)))
    fail(
      ResultReason.KeyFormatTypeNotSupported,
      `a public key is served as X.509 (SPKI)${rsa ? ', PKCS#1 or Transparent RSA Public Key' : ''}`,
    );
  const ref = { tenantId, keyId: key.keyId, version: version.version };
  const spki = await deps.materials.withMaterial(ref, version.kcv, (m) => publicKeyOf(m).export({ format: 'der', type: 'spki' }));
  call.placeholder = uid;
  const algorithm = algorithmOf(key);
  const bits = lengthOf(key);
  const block = ttlv.struct(Tag.KeyBlock, [
    ttlv.enum(Tag.KeyFormatType, format),
    ttlv.struct(Tag.KeyValue, [keyMaterialIn(spki, format)]),
    ...(algorithm === undefined ? [] : [ttlv.enum(Tag.CryptographicAlgorithm, algorithm)]),
    ...(bits === undefined ? [] : [ttlv.int(Tag.CryptographicLength, bits)]),
  ]);
  return [ttlv.enum(Tag.ObjectType, ObjectType.PublicKey), ttlv.text(Tag.UniqueIdentifier, uid), ttlv.struct(Tag.PublicKey, [block])];
}
