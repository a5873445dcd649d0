import { refuse } from '../shared/domain-error';

/**
 * Client attributes: values a door stores on a key because a client gave them (KMIP Object Group,
 * Application Specific Information, custom attributes...) and must answer back unchanged. The
 * domain does not interpret them; it bounds them and keeps them in the key's events.
 */
export type AttributeValue = string | number | boolean | null | readonly AttributeValue[] | { readonly [name: string]: AttributeValue };

/** Attribute name → its values, in the order given (KMIP attributes may have several instances). */
export type KeyAttributes = Readonly<Record<string, readonly AttributeValue[]>>;

export const ATTRIBUTE_LIMITS = { names: 64, valuesPerName: 32, nameLength: 128, totalBytes: 16 * 1024 } as const;

const ATTRIBUTE_NAME = /^[\x20-\x7e]{1,128}$/;

/** The attributes after a change: `set` replaces whole value lists, `remove` drops names. */
export function changedAttributes(current: KeyAttributes, set: KeyAttributes, remove: readonly string[]): KeyAttributes {
  const removed = new Set(remove);
  const next: Record<string, readonly AttributeValue[]> = {};
  for (const [name, values] of Object.entries(current)) if (!removed.has(name)) next[name] = values;
  for (const [name, values] of Object.entries(set)) next[name] = values;
  return next;
}

/** Refuses attributes beyond the bounds: names, values per name, total size. */
export function validateAttributes(attributes: KeyAttributes): void {
  const names = Object.keys(attributes);
  if (names.length > ATTRIBUTE_LIMITS.names) refuse('invalid', `a key has at most ${ATTRIBUTE_LIMITS.names} client attributes`);
  for (const name of names) {
    if (!ATTRIBUTE_NAME.test(name)) refuse('invalid', `attribute name "${name.slice(0, 40)}" must be 1-128 printable ASCII characters`);
    const values = attributes[name] ?? [];
    if (!Array.isArray(values) || values.length === 0 || values.length > ATTRIBUTE_LIMITS.valuesPerName) {
      refuse('invalid', `attribute "${name}" needs 1-${ATTRIBUTE_LIMITS.valuesPerName} values`);
    }
  }
  if (new TextEncoder().encode(JSON.stringify(attributes)).length > ATTRIBUTE_LIMITS.totalBytes) {
    refuse('invalid', `a key's client attributes take at most ${ATTRIBUTE_LIMITS.totalBytes} bytes`);
  }
}

const same = (a: readonly AttributeValue[] | undefined, b: readonly AttributeValue[]): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The effective change (unchanged lists and absent names dropped), validated against the result. */
export function decideAttributeChange(
  current: KeyAttributes,
  set: KeyAttributes,
  remove: readonly string[],
): { set: KeyAttributes; removed: string[] } {
  const effectiveSet = Object.fromEntries(Object.entries(set).filter(([name, values]) => !same(current[name], values)));
  const removed = remove.filter((name) => Object.hasOwn(current, name) && !Object.hasOwn(set, name));
  validateAttributes(changedAttributes(current, effectiveSet, removed));
  return { set: effectiveSet, removed };
}
