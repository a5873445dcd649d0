import { newId } from '@keyward/auth';
import { pkcs8Of, type PrivateKeyForm } from '@keyward/crypto';
import type { AsymmetricKeyType } from '@keyward/domain';
import {
  asBool,
  asEnum,
  asInt,
  child,
  CryptographicUsageMask,
  KeyFormatType,
  ObjectType,
  ResultReason,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { nameValue, readAttributes, type KmipAttribute } from '../kmip-attributes';
import { fail, isKmip2, MANAGERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { publicKeyUid } from '../kmip-key-pair';
import { pairTypeFor, SUPPORTED_KEY_PAIRS } from '../kmip-key-types';
import { commitRegistered, createAttributes, createWithMaterial, keyBlockOf, register, requestAttributes } from './kmip-create.operations';
import { registeredType, transparentRsaPrivateKey } from '../kmip-registered-keys';
import { registerPublicKey } from './kmip-register-public-key.operation';
import { registerCertificate } from './kmip-certificate.operations';

/** The attributes of one part of a Create Key Pair request (1.x Template-Attribute, 2.0 Attributes). */
const partAttributes = (payload: TtlvItem | undefined, template: number, attributes: number): KmipAttribute[] => [
  ...readAttributes(child(payload, template)),
  ...readAttributes(child(payload, attributes), true),
];

/** What a Public Key template may say: the pair's own name, algorithm and length again, and a usage mask (the public key's is derived). */
const PUBLIC_ATTRIBUTES = new Set([
  'Name',
  'Cryptographic Algorithm',
  'Cryptographic Length',
  'Recommended Curve',
  'Cryptographic Usage Mask',
]);

/** The public key object shares the key's attributes: what it names must be what the pair is given, or is refused. */
function requirePublicAttributes(publicAttributes: readonly KmipAttribute[], pair: readonly KmipAttribute[]): KmipAttribute[] {
  const extra: KmipAttribute[] = [];
  for (const a of publicAttributes) {
    if (!PUBLIC_ATTRIBUTES.has(a.name))
      fail(
        ResultReason.InvalidField,
        `the public key shares its pair's attributes: give ${a.name} in the common or private key attributes`,
      );
    if (a.name === 'Cryptographic Usage Mask') continue;
    const same = pair.find((b) => b.name === a.name);
    const value = (x: KmipAttribute): string | number | undefined =>
      x.name === 'Name' ? nameValue(x.value) : (asInt(x.value) ?? asEnum(x.value));
    if (same === undefined) extra.push(a);
    else if (value(same) !== value(a)) fail(ResultReason.InvalidField, `the public and private keys of a pair have one ${a.name}`);
  }
  return extra;
}

/**
 * Create Key Pair: one Keyward key of an asymmetric type (RSA-2048/3072/4096, EC-P256/P384, and
 * Ed25519 in KMIP 2.0) with a fresh private key, created through the same use case as Create, and
 * answered as two linked objects: the Private Key `<keyId>` and the Public Key `<keyId>.public`
 * (kmip-key-pair.ts). The common and private key attributes are the key's; the public key's may only
 * repeat them.
 */
export async function createKeyPair(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'create keys');
  const common = partAttributes(payload, Tag.CommonTemplateAttribute, Tag.CommonAttributes);
  const privateAttributes = partAttributes(payload, Tag.PrivateKeyTemplateAttribute, Tag.PrivateKeyAttributes);
  const pair = [...common, ...privateAttributes];
  const all = [...pair, ...requirePublicAttributes(partAttributes(payload, Tag.PublicKeyTemplateAttribute, Tag.PublicKeyAttributes), pair)];
  const curves = all.filter((a) => a.name === 'Recommended Curve');
  if (curves.length > 1) fail(ResultReason.InvalidField, 'Recommended Curve may be given once');
  const { find, options } = createAttributes(
    all.filter((a) => a.name !== 'Recommended Curve'),
    call,
  );
  const algorithm = asEnum(find('Cryptographic Algorithm')?.value);
  const length = asInt(find('Cryptographic Length')?.value);
  const curve = asEnum(curves[0]?.value);
  const keyType = pairTypeFor(algorithm, length, curve, isKmip2(call));
  if (keyType === undefined) {
    return fail(
      ResultReason.InvalidField,
      `Cryptographic Algorithm ${algorithm ?? 'none'} with Cryptographic Length ${length ?? 'none'}${curve === undefined ? '' : ` and Recommended Curve ${curve}`} is not supported: ${SUPPORTED_KEY_PAIRS}`,
    );
  }
  refuseExtractable(find);
  const keyId = newId('key');
  await createWithMaterial(deps, call, keyId, keyType, (kcv) => ({
    kind: 'key.create',
    keyId,
    keyType,
    kcv,
    ...options,
    exportable: false,
  }));
  call.placeholder = keyId;
  return [ttlv.text(Tag.PrivateKeyUniqueIdentifier, keyId), ttlv.text(Tag.PublicKeyUniqueIdentifier, publicKeyUid(keyId))];
}

/**
 * A pair asked to be extractable (Extractable true, or the Export usage) is refused; an appliance's
 * default (its own symmetric keys are extractable) does not apply: a pair's private key never leaves.
 */
function refuseExtractable(find: (name: string) => KmipAttribute | undefined): void {
  const mask = asInt(find('Cryptographic Usage Mask')?.value) ?? 0;
  if (asBool(find('Extractable')?.value) === true || (mask & CryptographicUsageMask.Export) !== 0)
    fail(ResultReason.InvalidField, 'the private key of a pair is not extractable: its public key is served by Get instead');
}

const FORMS: Readonly<Record<number, PrivateKeyForm>> = {
  [KeyFormatType.PKCS8]: 'pkcs8',
  [KeyFormatType.PKCS1]: 'pkcs1',
  [KeyFormatType.ECPrivateKey]: 'sec1',
};
const PRIVATE_KEY_FORMATS = [...Object.keys(FORMS).map(Number), KeyFormatType.TransparentRSAPrivateKey];

/**
 * Register of a Private Key: the caller's key (PKCS#8, PKCS#1 for RSA or EC Private Key, DER) becomes
 * a key pair like one Create Key Pair makes (`<keyId>`, `<keyId>.public`), through the same
 * `key.create` command as every Register (`origin: imported`, the material's length; its check
 * value is the public key's digest). Its type is read from the key itself (Node's crypto), and a
 * Cryptographic Algorithm or Length given must agree. The bytes in the request are zeroed.
 */
async function registerPrivateKey(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'register keys');
  const { find, options } = createAttributes(requestAttributes(payload), call);
  const object = child(payload, Tag.PrivateKey);
  const block = keyBlockOf(object, PRIVATE_KEY_FORMATS);
  const form = FORMS[block.format];
  const material = block.fields !== undefined ? transparentRsaPrivateKey(block.fields) : pkcs8Of(block.material, form ?? 'pkcs8');
  block.material.fill(0);
  if (material === undefined)
    return fail(
      ResultReason.InvalidField,
      form === undefined
        ? 'the Transparent RSA Private Key is not one RSA key (n = p·q, d, the CRT values and e must agree)'
        : `the Key Material is not a ${form.toUpperCase()} private key (DER)`,
    );
  let keyType: AsymmetricKeyType;
  try {
    keyType = registeredType(
      material,
      {
        algorithm: block.algorithm ?? asEnum(find('Cryptographic Algorithm')?.value),
        bits: block.bits ?? asInt(find('Cryptographic Length')?.value),
      },
      call,
    );
    refuseExtractable(find);
  } catch (err: unknown) {
    material.fill(0);
    throw err;
  }
  return await commitRegistered(deps, call, keyType, material, options, { exportable: false });
}

/** Register: a Private Key becomes a key pair (registerPrivateKey), a Public Key a public key alone (registerPublicKey), a Certificate a certificate; the rest as register. */
export function registerObject(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  const objectType = asEnum(child(payload, Tag.ObjectType));
  if (objectType === ObjectType.PrivateKey) return registerPrivateKey(deps, payload, call);
  if (objectType === ObjectType.PublicKey) return registerPublicKey(deps, payload, call);
  if (objectType === ObjectType.Certificate) return registerCertificate(deps, payload, call);
  return register(deps, payload, call);
}
