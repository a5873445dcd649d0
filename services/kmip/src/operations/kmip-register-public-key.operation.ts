import { asBool, asEnum, asInt, child, KeyFormatType, ResultReason, Tag, type TtlvItem } from '@keyward/kmip';
import { fail, MANAGERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { registeredFormatAttribute } from '../kmip-key-format';
import { registeredPublicKey, registeredType } from '../kmip-registered-keys';
import { commitRegistered, createAttributes, requestAttributes } from './kmip-create.operations';

/**
 * Register of a Public Key alone (no private key): a key that verifies signatures (RSA: also
 * encrypts with OAEP) and never signs or decrypts (KeyState.publicOnly), one object named by its key
 * id; its material is the public key (SPKI DER) and its check value the key's digest, as a pair's.
 * Its type is read from the key, as a private key's; Get answers it in the format it was registered
 * in (X.509, PKCS#1 or Transparent RSA Public Key) unless the Get asks for another.
 */
export async function registerPublicKey(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'register keys');
  const { find, options } = createAttributes(requestAttributes(payload), call);
  const { spki, format, algorithm, bits } = registeredPublicKey(child(payload, Tag.PublicKey));
  const keyType = registeredType(
    spki,
    { algorithm: algorithm ?? asEnum(find('Cryptographic Algorithm')?.value), bits: bits ?? asInt(find('Cryptographic Length')?.value) },
    call,
    'public',
  );
  if (asBool(find('Extractable')?.value) === false)
    fail(ResultReason.InvalidField, 'a public key is always readable: it cannot be registered not extractable');
  const records = format === KeyFormatType.X509 ? {} : registeredFormatAttribute(format);
  return await commitRegistered(deps, call, keyType, spki, options, { records, exportable: false, publicOnly: true });
}
