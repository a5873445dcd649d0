import type { KeyState, KeywardCommand } from '@keyward/domain';
import { asDate, asEnum, asInt, asText, child, children, ItemType, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import {
  ATTRIBUTE_TAGS,
  attributeNameOfTag,
  isCustomAttribute,
  keyAttributes,
  nameValue,
  readAttributes,
  writeAttributes,
  type KmipAttribute,
} from '../kmip-attributes';
import { decisionContext, fail, findKey, isKmip2, READERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';

/** A KMIP 2.0 Attribute Reference: an enumeration naming the tag, or a structure with the Attribute Name. */
function referenceName(ref: TtlvItem | undefined): string | undefined {
  const tag = asEnum(ref);
  if (tag !== undefined) return attributeNameOfTag(tag) ?? `0x${tag.toString(16)}`;
  return asText(child(ref, Tag.AttributeName));
}

export async function getAttributes(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, READERS, 'read key attributes');
  const { key } = await findKey(deps, payload, call);
  const wanted = new Set<string>(
    children(payload, Tag.AttributeName)
      .map(asText)
      .filter((n): n is string => n !== undefined),
  );
  for (const ref of children(payload, Tag.AttributeReference)) {
    const name = referenceName(ref);
    if (name) wanted.add(name);
  }
  const all = keyAttributes(key);
  const chosen = wanted.size === 0 ? all : all.filter((a) => wanted.has(a.name));
  const encoded = writeAttributes(chosen, call.version.major);
  return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...(isKmip2(call) ? [ttlv.struct(Tag.Attributes, encoded)] : encoded)];
}

export async function getAttributeList(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, READERS, 'read key attributes');
  const { key } = await findKey(deps, payload, call);
  const names = keyAttributes(key).map((a) => a.name);
  if (isKmip2(call)) {
    // 2.0 answers Attribute References: the tags of standard attributes (custom ones have no tag).
    const tags = names.map((n) => ATTRIBUTE_TAGS[n]).filter((t): t is number => t !== undefined);
    return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...tags.map((t) => ttlv.enum(Tag.AttributeReference, t))];
  }
  return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...names.map((n) => ttlv.text(Tag.AttributeName, n))];
}

/** Attributes the server sets and no client may change. */
const READ_ONLY = new Set([
  'Unique Identifier',
  'Object Type',
  'Cryptographic Algorithm',
  'Cryptographic Length',
  'Cryptographic Usage Mask',
  'State',
  'Initial Date',
  'Compromise Date',
  'Compromise Occurrence Date',
  'Destroy Date',
  'Last Change Date',
]);

const readOnly = (call: Call, name: string): never =>
  fail(
    isKmip2(call) ? ResultReason.AttributeReadOnly : ResultReason.PermissionDenied,
    `the ${name} attribute cannot be changed by a client`,
  );
const unsupported = (call: Call, name: string): never =>
  fail(isKmip2(call) ? ResultReason.UnsupportedAttribute : ResultReason.InvalidField, `Keyward does not keep a ${name} attribute`);
const notFound = (call: Call, name: string): never =>
  fail(isKmip2(call) ? ResultReason.AttributeNotFound : ResultReason.ItemNotFound, `the key has no ${name} attribute`);

type Change = 'add' | 'modify' | 'set';

/**
 * The domain command an attribute change is: Name → key.set-alias (one Name per key), custom "x-"
 * text attributes → key.change-labels, an Activation or Deactivation Date that has come →
 * key.activate / key.deactivate. Future dates cannot be rescheduled (set them at Create).
 * Everything else is refused.
 */
function commandFor(call: Call, key: KeyState, change: Change, attribute: KmipAttribute): KeywardCommand {
  const { name, value } = attribute;
  const keyId = key.keyId;
  if (name === 'Name') {
    const alias = nameValue(value);
    if (alias === undefined) return fail(ResultReason.InvalidField, 'a Name needs a Name Value');
    if (change === 'add' && key.alias !== null && key.alias !== alias)
      fail(
        isKmip2(call) ? ResultReason.AttributeSingleValued : ResultReason.IllegalOperation,
        'a Keyward key has one Name (its alias); use Modify Attribute',
      );
    return { kind: 'key.set-alias', keyId, alias };
  }
  if (isCustomAttribute(name)) {
    const text = value.type === ItemType.TextString ? value.value : undefined;
    if (text === undefined)
      return fail(ResultReason.InvalidField, `custom attribute ${name} must be a Text String (it is kept as a label)`);
    if (change === 'modify' && !Object.hasOwn(key.labels, name)) notFound(call, name);
    return { kind: 'key.change-labels', keyId, set: { [name]: text } };
  }
  if (name === 'Activation Date' || name === 'Deactivation Date') {
    const date = asDate(value);
    if (date === undefined) return fail(ResultReason.InvalidField, `${name} must be a Date-Time`);
    if (date.getTime() > businessNow().getTime())
      fail(ResultReason.FeatureNotSupported, `${name} can be set in the future only when the key is created`);
    return name === 'Activation Date' ? { kind: 'key.activate', keyId } : { kind: 'key.deactivate', keyId };
  }
  if (READ_ONLY.has(name)) return readOnly(call, name);
  return unsupported(call, name);
}

/** The attribute of a 1.x request (Attribute structure) or a 2.0 one (New Attribute holding one tagged item). */
function attributeOf(payload: TtlvItem | undefined, call: Call): KmipAttribute {
  const found = isKmip2(call)
    ? readAttributes(child(payload, Tag.NewAttribute))
    : readAttributes(ttlv.struct(Tag.Attributes, children(payload, Tag.Attribute)));
  const attribute = found[0];
  if (attribute === undefined) {
    const tag = unknownTagOf(child(payload, Tag.NewAttribute));
    return tag === undefined ? fail(ResultReason.MissingData, 'the attribute is missing') : unsupported(call, `0x${tag.toString(16)}`);
  }
  const index = asInt(child(child(payload, Tag.Attribute), Tag.AttributeIndex));
  if (index !== undefined && index !== 0) fail(ResultReason.IndexOutOfBounds, 'every Keyward attribute has a single instance (index 0)');
  return attribute;
}

/** The tag of the single item inside a 2.0 New Attribute that Keyward does not know. */
function unknownTagOf(item: TtlvItem | undefined): number | undefined {
  return item?.type === ItemType.Structure ? item.value[0]?.tag : undefined;
}

async function change(deps: KmipDeps, payload: TtlvItem | undefined, call: Call, kind: Change): Promise<Payload> {
  requireRole(call, ['tenant-admin'], 'change key attributes');
  const { key } = await findKey(deps, payload, call);
  const attribute = attributeOf(payload, call);
  await deps.executor.execute(call.principal.tenantId, commandFor(call, key, kind, attribute), decisionContext(call));
  const after = (await deps.executor.current(call.principal.tenantId)).keys.get(key.keyId);
  const current = after ? keyAttributes(after).find((a) => a.name === attribute.name) : undefined;
  // 1.x answers the attribute as it now is; 2.0 only the identifier.
  return [ttlv.text(Tag.UniqueIdentifier, key.keyId), ...(!isKmip2(call) && current ? writeAttributes([current], 1) : [])];
}

export const addAttribute = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  change(deps, payload, call, 'add');
export const modifyAttribute = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  change(deps, payload, call, 'modify');
export const setAttribute = (deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> =>
  change(deps, payload, call, 'set');

/**
 * Delete Attribute: custom "x-" attributes (labels) only. A Name cannot be removed (the domain has
 * no alias removal: Modify it instead); the other attributes are the lifecycle's.
 */
export async function deleteAttribute(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, ['tenant-admin'], 'change key attributes');
  const { key } = await findKey(deps, payload, call);
  let name: string | undefined = asText(child(payload, Tag.AttributeName));
  const current = child(payload, Tag.CurrentAttribute);
  if (name === undefined && current !== undefined) name = readAttributes(current)[0]?.name;
  if (name === undefined) name = referenceName(child(payload, Tag.AttributeReference));
  if (name === undefined) return fail(ResultReason.MissingData, 'name the attribute to delete');
  const index = asInt(child(payload, Tag.AttributeIndex));
  if (index !== undefined && index !== 0) fail(ResultReason.IndexOutOfBounds, 'every Keyward attribute has a single instance (index 0)');
  if (!isCustomAttribute(name)) {
    if (name === 'Name' || name === 'Activation Date' || name === 'Deactivation Date' || READ_ONLY.has(name)) return readOnly(call, name);
    return unsupported(call, name);
  }
  const value = key.labels[name];
  if (value === undefined) return notFound(call, name);
  await deps.executor.execute(
    call.principal.tenantId,
    { kind: 'key.change-labels', keyId: key.keyId, remove: [name] },
    decisionContext(call),
  );
  return [
    ttlv.text(Tag.UniqueIdentifier, key.keyId),
    ...(isKmip2(call) ? [] : writeAttributes([{ name, value: ttlv.text(Tag.AttributeValue, value) }], 1)),
  ];
}
