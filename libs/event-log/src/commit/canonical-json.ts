import { createHash } from 'node:crypto';

/**
 * Canonical JSON for hashing (in the spirit of RFC 8785): object keys sorted by code unit,
 * no whitespace, `undefined` members dropped. Input must be plain JSON data.
 *
 * Every commit is hashed through this on the write path and on each replay, so it builds the
 * string in one pass (no entry arrays, no intermediate joins), sorts the few keys of an object by
 * insertion, and remembers how the usual member names are quoted. Both sorts compare UTF-16 code
 * units, the same order as `<` on strings.
 */
/** `"name":` for member names seen before (bounded: past the limit, names are quoted each time). */
const quotedNames = new Map<string, string>();
const QUOTED_NAMES_MAX = 10_000;

function quotedName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(name)}:`;
    if (quotedNames.size < QUOTED_NAMES_MAX) quotedNames.set(name, quoted);
  }
  return quoted;
}

function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > key; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = key;
  }
  return keys;
}

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : canonicalJson(item);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      let out = '{';
      let first = true;
      for (const key of sortedKeys(record)) {
        const member = record[key];
        if (member === undefined) continue;
        if (first) first = false;
        else out += ',';
        out += quotedName(key) + canonicalJson(member);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`cannot canonicalise a ${typeof value}`);
  }
}

/** SHA-256 (hex) of a value's canonical JSON: the one digest of commits and of views. */
export function canonicalDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
