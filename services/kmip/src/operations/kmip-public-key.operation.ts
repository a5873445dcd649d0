import { publicKeyOf } from '@keyward/crypto';
import { authorizePublicKey } from '@keyward/domain';
import { asEnum, child, KeyFormatType, ObjectType, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import { algorithmOf, lengthOf } from '../kmip-attributes';
import { fail, requireKeyUse, requireRole, USERS, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { keyOfObject } from '../kmip-key-pair';
import { decideFresh } from '../kmip-tenant-reads';

/**
 * Get of a key pair's public key object (`<keyId>.public`): the SPKI (X.509 key format, the
 * default) or, for RSA, PKCS#1 public key of a version, derived from the private key. As REST's
 * public-key read: any state while the version's material exists, no export needed, no usage
 * record; the caller must be allowed to verify with the key (requireKeyUse: tenant, ownership,
 * grants).
 */
export async function getPublicKey(deps: KmipDeps, payload: TtlvItem | undefined, call: Call, uid: string): Promise<Payload> {
  requireRole(call, USERS, 'read public keys');
  const { tenantId } = call.principal;
  const format = asEnum(child(payload, Tag.KeyFormatType)) ?? KeyFormatType.X509;
  const { key, version } = await decideFresh(deps.executor, tenantId, (log) => {
    const { key: found } = keyOfObject(log.keys, uid);
    requireKeyUse(call, log, found, uid, 'verify', {}, businessNow());
    return { key: found, version: authorizePublicKey(log.tenant, tenantId, found, uid) };
  });
  if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${uid} not found`, 'not-found');
  const rsa = key.keyType.startsWith('RSA-');
  if (format !== KeyFormatType.X509 && !(rsa && format === KeyFormatType.PKCS1))
    fail(ResultReason.KeyFormatTypeNotSupported, `a public key is served as X.509 (SPKI)${rsa ? ' or PKCS#1' : ''}`);
  const ref = { tenantId, keyId: key.keyId, version: version.version };
  const der = await deps.materials.withMaterial(ref, version.kcv, (m) =>
    publicKeyOf(m).export({ format: 'der', type: format === KeyFormatType.PKCS1 ? 'pkcs1' : 'spki' }),
  );
  call.placeholder = uid;
  const algorithm = algorithmOf(key);
  const bits = lengthOf(key);
  const block = ttlv.struct(Tag.KeyBlock, [
    ttlv.enum(Tag.KeyFormatType, format),
    ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, der)]),
    ...(algorithm === undefined ? [] : [ttlv.enum(Tag.CryptographicAlgorithm, algorithm)]),
    ...(bits === undefined ? [] : [ttlv.int(Tag.CryptographicLength, bits)]),
  ]);
  return [ttlv.enum(Tag.ObjectType, ObjectType.PublicKey), ttlv.text(Tag.UniqueIdentifier, uid), ttlv.struct(Tag.PublicKey, [block])];
}
