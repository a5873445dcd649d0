import type { KmipCipherParameters } from '@keyward/domain';
import { asStruct, ItemType, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { fail } from './kmip-call';

type FieldKind = 'enum' | 'int' | 'bool';

/** Every Cryptographic Parameters field of KMIP 1.4, by tag: its name in a key's stored parameters and its type. */
const FIELDS: ReadonlyMap<number, { readonly name: string; readonly label: string; readonly kind: FieldKind }> = new Map([
  [Tag.BlockCipherMode, { name: 'blockCipherMode', label: 'Block Cipher Mode', kind: 'enum' }],
  [Tag.PaddingMethod, { name: 'paddingMethod', label: 'Padding Method', kind: 'enum' }],
  [Tag.HashingAlgorithm, { name: 'hashingAlgorithm', label: 'Hashing Algorithm', kind: 'enum' }],
  [Tag.KeyRoleType, { name: 'keyRoleType', label: 'Key Role Type', kind: 'enum' }],
  [Tag.DigitalSignatureAlgorithm, { name: 'digitalSignatureAlgorithm', label: 'Digital Signature Algorithm', kind: 'enum' }],
  [Tag.CryptographicAlgorithm, { name: 'cryptographicAlgorithm', label: 'Cryptographic Algorithm', kind: 'enum' }],
  [Tag.RandomIv, { name: 'randomIv', label: 'Random IV', kind: 'bool' }],
  [Tag.IvLength, { name: 'ivLength', label: 'IV Length', kind: 'int' }],
  [Tag.TagLength, { name: 'tagLength', label: 'Tag Length', kind: 'int' }],
  [Tag.FixedFieldLength, { name: 'fixedFieldLength', label: 'Fixed Field Length', kind: 'int' }],
  [Tag.InvocationFieldLength, { name: 'invocationFieldLength', label: 'Invocation Field Length', kind: 'int' }],
  [Tag.CounterLength, { name: 'counterLength', label: 'Counter Length', kind: 'int' }],
  [Tag.InitialCounterValue, { name: 'initialCounterValue', label: 'Initial Counter Value', kind: 'int' }],
  [Tag.SaltLength, { name: 'saltLength', label: 'Salt Length', kind: 'int' }],
  [Tag.MaskGenerator, { name: 'maskGenerator', label: 'Mask Generator', kind: 'enum' }],
  [Tag.MaskGeneratorHashingAlgorithm, { name: 'maskGeneratorHashingAlgorithm', label: 'Mask Generator Hashing Algorithm', kind: 'enum' }],
  [Tag.TrailerField, { name: 'trailerField', label: 'Trailer Field', kind: 'int' }],
]);
const BY_NAME = new Map([...FIELDS].map(([tag, field]) => [field.name, { tag, ...field }]));

const ITEM_TYPES: Record<FieldKind, number> = { enum: ItemType.Enumeration, int: ItemType.Integer, bool: ItemType.Boolean };

/** The fields of a Cryptographic Parameters structure, each checked for its type; unknown fields are refused. */
export function readCipherParameters(item: TtlvItem | undefined): KmipCipherParameters | undefined {
  if (item === undefined) return undefined;
  const struct = asStruct(item);
  if (struct === undefined) return fail(ResultReason.InvalidField, 'Cryptographic Parameters must be a structure');
  const out: Record<string, number | boolean> = {};
  for (const field of struct.value) {
    if (field.tag === Tag.PSource) fail(ResultReason.FeatureNotSupported, 'P Source (RSA-OAEP) does not apply to the keys Keyward holds');
    const known = FIELDS.get(field.tag);
    if (known === undefined)
      return fail(ResultReason.InvalidField, `Cryptographic Parameters has an unknown field 0x${field.tag.toString(16)}`);
    if (
      field.type !== ITEM_TYPES[known.kind] ||
      (field.type !== ItemType.Enumeration && field.type !== ItemType.Integer && field.type !== ItemType.Boolean)
    ) {
      return fail(ResultReason.InvalidField, `${known.label} has the wrong type`);
    }
    if (Object.hasOwn(out, known.name)) fail(ResultReason.InvalidField, `${known.label} appears twice in Cryptographic Parameters`);
    out[known.name] = field.value;
  }
  return out;
}

/** The KMIP label of a stored parameter name (for messages). */
export const parameterLabel = (name: string): string => BY_NAME.get(name)?.label ?? name;

/** A key's stored parameters as a Cryptographic Parameters structure (Get Attributes answers them back). */
export function cipherParametersItem(tag: number, parameters: KmipCipherParameters): TtlvItem {
  const items: TtlvItem[] = [];
  for (const [name, value] of Object.entries(parameters)) {
    const field = BY_NAME.get(name);
    if (field === undefined) continue;
    if (field.kind === 'bool') items.push(ttlv.bool(field.tag, value === true));
    else if (field.kind === 'enum') items.push(ttlv.enum(field.tag, Number(value)));
    else items.push(ttlv.int(field.tag, Number(value)));
  }
  return ttlv.struct(tag, items);
}
