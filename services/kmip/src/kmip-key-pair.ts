import { isAsymmetricKeyType, type KeyState } from '@keyward/domain';
import { ObjectType } from '@keyward/kmip';

/**
 * The two KMIP managed objects of one Keyward asymmetric key (docs/kmip.md, "Key pairs"): the
 * Private Key is the key itself, its Unique Identifier the key id (`key_…`, as REST names it); the
 * Public Key is `<keyId>.public`. Key ids are `key_` and letters and digits only, so the suffix
 * can never be part of one. Both objects share the key's state, versions, owner and grants:
 * Activate, Revoke and Destroy of either act on the pair.
 *
 * A public key registered alone (KeyState.publicOnly) is one object, a Public Key named by the key id
 * itself: it has no private key object, and no `.public` name.
 */
export const PUBLIC_KEY_SUFFIX = '.public';

/** Which object of a key a Unique Identifier names: the key itself (a private or symmetric key, secret data) or a pair's public key. */
export type KeyPart = 'key' | 'public';

/** The public key object's Unique Identifier. */
export const publicKeyUid = (keyId: string): string => `${keyId}${PUBLIC_KEY_SUFFIX}`;

/** The key a Unique Identifier names, and which of its objects. */
export function objectOf(uid: string): { keyId: string; part: KeyPart } {
  return uid.endsWith(PUBLIC_KEY_SUFFIX) && uid.length > PUBLIC_KEY_SUFFIX.length
    ? { keyId: uid.slice(0, -PUBLIC_KEY_SUFFIX.length), part: 'public' }
    : { keyId: uid, part: 'key' };
}

/** The key a Unique Identifier names in a tenant's keys: a `.public` name only for an asymmetric key. */
export function keyOfObject(keys: ReadonlyMap<string, KeyState>, uid: string): { key: KeyState | undefined; part: KeyPart } {
  const { keyId, part } = objectOf(uid);
  const key = keys.get(keyId);
  if (part === 'public' && key !== undefined && (!isAsymmetricKeyType(key.keyType) || key.publicOnly === true))
    return { key: undefined, part };
  return { key, part: key?.publicOnly === true ? 'public' : part };
}

/** The Unique Identifier of an object of a key (a public key alone is named by its key id). */
export const uidOf = (key: KeyState, part: KeyPart): string =>
  part === 'public' && key.publicOnly !== true ? publicKeyUid(key.keyId) : key.keyId;

/** The managed objects of a key: a pair's private and public key, a public key alone, or the one object of any other key. */
export function objectsOf(key: KeyState): { key: KeyState; part: KeyPart }[] {
  if (key.publicOnly === true) return [{ key, part: 'public' }];
  return isAsymmetricKeyType(key.keyType)
    ? [
        { key, part: 'key' },
        { key, part: 'public' },
      ]
    : [{ key, part: 'key' }];
}

/** The KMIP Object Type of the public key object. */
export const PUBLIC_OBJECT_TYPE = ObjectType.PublicKey;
