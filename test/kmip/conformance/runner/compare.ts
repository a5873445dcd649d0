import { ItemType, type TtlvItem } from '@keyward/kmip';
import { enumerationName, knownTag, looseName, TAG, tagName } from './kmip-dictionary';
import { elementTag, elementType, leafValue, valueContext } from './xml-ttlv';
import type { XmlElement } from './xml-reader';

/** The first place where a response differs from the case's expected response. */
export interface Difference {
  /** Element names from the message down, with batch item and child positions ("BatchItem[1]/ResponsePayload/Data"). */
  readonly path: string;
  readonly expected: string;
  readonly got: string;
}

/** What the runner knows about each batch item of the request, to tell the variable parts of its answer. */
export interface ItemContext {
  readonly operation: string;
  /** ByteString tags whose value the server chooses (random IVs, generated keys): compared by length only. */
  readonly variableTags: ReadonlySet<number>;
  /** Get Attributes with no names, or Get Attribute List: the server's attribute set, not the reference server's. */
  readonly allAttributes: boolean;
}

export type Bindings = Map<string, TtlvItem['value']>;

const T = knownTag;

/**
 * A Query answer describes the server that answers (its operations, object types, namespaces, vendor and
 * server information), not the reference server: those fields are the server's own.
 */
const QUERY_SELF_DESCRIPTION = new Set([
  T('Operation'),
  T('Object Type'),
  T('Application Namespace'),
  T('Vendor Identification'),
  T('Server Information'),
]);

/**
 * Header fields a server adds on its own (KMIP 1.4 §6.18/6.19, KMIP 2.1 §8: none is required in a
 * response header): an answer may leave out one the reference server sent, and an extra one is no
 * difference.
 */
const OPTIONAL_HEADER_FIELDS = new Set([T('Server Correlation Value'), T('Client Correlation Value'), T('Nonce'), T('Attestation Type')]);
/** Header fields whose value is the server's own (the reference server's "A5E83842-2A456820-4"): compared by type only. */
const SERVER_CHOSEN_HEADER_FIELDS = new Set([T('Server Correlation Value'), T('Nonce')]);

/**
 * Attributes whose presence and value are the server's choice when the client set none (KMIP 1.4 §3:
 * "SHALL always have a value: No", set by the server): tolerated missing, and compared by type only.
 */
export const SERVER_CHOSEN_ATTRIBUTES = [
  'Lease Time',
  'Random Number Generator',
  'Original Creation Date',
  'Fresh',
  'Operation Policy Name',
];
const serverChosen = new Set(SERVER_CHOSEN_ATTRIBUTES.map(looseName));
const isServerChosen = (name: string | undefined): boolean => name !== undefined && serverChosen.has(looseName(name));

const plain = (value: TtlvItem['value']): string => {
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return '(structure)';
  return String(value);
};

class Mismatch extends Error {
  constructor(readonly difference: Difference) {
    super(`${difference.path}: expected ${difference.expected}, got ${difference.got}`);
  }
}

const describe = (item: TtlvItem | undefined): string => {
  if (!item) return '(absent)';
  if (item.type === ItemType.Structure)
    return `<${tagName(item.tag)}> with ${item.value.map((c) => tagName(c.tag)).join(', ') || 'no children'}`;
  if (item.type === ItemType.Enumeration) return `${tagName(item.tag)}=${enumerationName(tagName(item.tag), item.value)}`;
  return `${tagName(item.tag)}=${plain(item.value)}`;
};

const describeExpected = (e: XmlElement | undefined): string =>
  !e
    ? '(absent)'
    : e.attributes.value !== undefined
      ? `${e.name}=${e.attributes.value}`
      : `<${e.name}> with ${e.children.map((c) => c.name).join(', ') || 'no children'}`;

/**
 * Compares a decoded response with the expected one, binding the case's `$NAME` placeholders to the
 * server's values on first sight (later sights must agree). Answers the first difference, or null.
 * `bindings` is updated only when the whole message matches.
 */
export function compareResponse(
  expected: XmlElement,
  actual: TtlvItem,
  items: readonly ItemContext[],
  bindings: Bindings,
): Difference | null {
  const scratch: Bindings = new Map(bindings);
  try {
    new Comparison(items, scratch).node(expected, undefined, actual, expected.name, false);
  } catch (err) {
    if (err instanceof Mismatch) return err.difference;
    throw err;
  }
  for (const [k, v] of scratch) bindings.set(k, v);
  return null;
}

class Comparison {
  private batchIndex = -1;

  constructor(
    private readonly items: readonly ItemContext[],
    private bindings: Bindings,
  ) {}

  private get item(): ItemContext | undefined {
    return this.items[this.batchIndex];
  }

  /** `typeOnly`: the value of an attribute the server chooses, where tag and type are enough. */
  node(exp: XmlElement, parent: XmlElement | undefined, act: TtlvItem | undefined, path: string, typeOnly: boolean): void {
    const fail = (got = describe(act)): never => {
      throw new Mismatch({ path, expected: describeExpected(exp), got });
    };
    if (!act) return fail();
    if (elementTag(exp) !== act.tag) return fail();
    const type = elementType(exp);
    if (type !== act.type) return fail(`${describe(act)} (type ${act.type}, expected ${exp.attributes.type ?? 'Structure'})`);
    if (act.tag === TAG.BatchItem) this.batchIndex += 1;
    if (typeOnly) return;
    if (act.type === ItemType.Structure) {
      this.children(exp, act.value, path);
      return;
    }
    const raw = exp.attributes.value ?? '';
    if (act.tag === TAG.TimeStamp || raw.startsWith('$NOW')) return;
    if (act.tag === TAG.ResultMessage) return; // free text (KMIP 1.4 §6.11)
    if (raw.startsWith('$')) {
      const bound = this.bindings.get(raw);
      if (bound === undefined) {
        if (raw.startsWith('$UNIQUE_IDENTIFIER_')) {
          for (const [k, v] of this.bindings)
            if (k.startsWith('$UNIQUE_IDENTIFIER_') && v === act.value) fail(`${describe(act)}, already ${k}`);
        }
        this.bindings.set(raw, act.value);
        return;
      }
      if (!same(bound, act.value)) fail(`${describe(act)} (${raw} is ${plain(bound)})`);
      return;
    }
    if (act.type === ItemType.ByteString && this.item?.variableTags.has(act.tag)) {
      const wanted = Buffer.from(raw, 'hex').length;
      if (wanted !== act.value.length) fail(`${act.value.length} bytes (server-chosen value, expected ${wanted} bytes)`);
      return;
    }
    const wanted = leafValue(exp, parent, type);
    if (!same(wanted, act.value)) {
      if (act.type === ItemType.Enumeration) fail(`${tagName(act.tag)}=${enumerationName(valueContext(exp, parent), act.value)}`);
      fail();
    }
  }

  private children(exp: XmlElement, actual: readonly TtlvItem[], path: string): void {
    const tag = elementTag(exp);
    let act = actual.filter((c) => c.tag !== TAG.ResultMessage);
    let expected = exp.children.filter((c) => elementTag(c) !== TAG.ResultMessage);
    if (tag === TAG.ResponsePayload && this.item?.operation === 'Query') {
      act = act.filter((c) => !QUERY_SELF_DESCRIPTION.has(c.tag));
      expected = expected.filter((c) => !QUERY_SELF_DESCRIPTION.has(elementTag(c)));
    }
    if (tag === TAG.ResponseHeader) {
      const named = new Set(expected.map(elementTag));
      const answered = new Set(act.map((c) => c.tag));
      act = act.filter((c) => named.has(c.tag) || !OPTIONAL_HEADER_FIELDS.has(c.tag));
      expected = expected.filter((c) => answered.has(elementTag(c)) || !OPTIONAL_HEADER_FIELDS.has(elementTag(c)));
    }
    const unordered = this.unorderedTags(tag);
    if (unordered === 'all') {
      this.unordered(exp, expected, act, path);
      return;
    }
    if (unordered.size === 0) {
      this.ordered(exp, expected, act, path);
      return;
    }
    // Items of the unordered tags match as a multiset; the others keep their order around them.
    const expFixed = expected.filter((c) => !unordered.has(elementTag(c)));
    const actFixed = act.filter((c) => !unordered.has(c.tag));
    this.ordered(exp, expFixed, actFixed, path);
    this.unordered(
      exp,
      expected.filter((c) => unordered.has(elementTag(c))),
      act.filter((c) => unordered.has(c.tag)),
      path,
    );
  }

  /** Children whose order the specification leaves to the server: attributes, attribute names, located identifiers. */
  private unorderedTags(parentTag: number): Set<number> | 'all' {
    if (parentTag === TAG.Attributes) return 'all';
    if (parentTag !== TAG.ResponsePayload) return new Set();
    const op = this.item?.operation;
    if (op === 'GetAttributes') return new Set([TAG.Attribute]);
    if (op === 'GetAttributeList') return new Set([TAG.AttributeName, TAG.AttributeReference]);
    if (op === 'Locate') return new Set([TAG.UniqueIdentifier]);
    return new Set();
  }

  private ordered(exp: XmlElement, expected: readonly XmlElement[], actual: readonly TtlvItem[], path: string): void {
    const counts = new Map<string, number>();
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i += 1) {
      const e = expected[i];
      const a = actual[i];
      const name = e?.name ?? (a ? tagName(a.tag) : '?');
      const k = counts.get(name) ?? 0;
      counts.set(name, k + 1);
      const childPath = `${path}/${name}${k > 0 || name === 'BatchItem' ? `[${k}]` : ''}`;
      if (!e) throw new Mismatch({ path: childPath, expected: '(absent)', got: describe(a) });
      const typeOnly =
        (e.name === 'AttributeValue' && isServerChosen(attributeNameOf(exp))) ||
        (elementTag(exp) === TAG.ResponseHeader && SERVER_CHOSEN_HEADER_FIELDS.has(elementTag(e)));
      this.node(e, exp, a, childPath, typeOnly);
    }
  }

  private unordered(exp: XmlElement, expected: readonly XmlElement[], actual: readonly TtlvItem[], path: string): void {
    const left = [...actual];
    const tolerant = this.item?.allAttributes === true;
    // In a KMIP 2.x Attributes structure each child is an attribute named by its tag.
    const v2 = elementTag(exp) === TAG.Attributes;
    for (const e of expected) {
      const name = attributeNameOf(e) ?? (v2 ? e.name : e.attributes.value);
      const typeOnly = v2 && isServerChosen(name);
      const childPath = `${path}/${e.name}${name && name !== e.name ? `(${name})` : ''}`;
      const index = left.findIndex((a) => this.trial(() => this.node(e, exp, a, childPath, typeOnly)));
      if (index >= 0) {
        this.node(e, exp, left[index], childPath, typeOnly);
        left.splice(index, 1);
        continue;
      }
      if (tolerant && isServerChosen(name)) continue;
      // Report against the item of the same name if there is one, else as missing.
      const sameName = left.find((a) => (v2 ? a.tag === elementTag(e) : sameAttributeName(a, name)));
      if (sameName) this.node(e, exp, sameName, childPath, typeOnly);
      throw new Mismatch({ path: childPath, expected: describeExpected(e), got: '(absent)' });
    }
    if (left.length > 0 && !tolerant)
      throw new Mismatch({ path: `${path}/${tagName(left[0]!.tag)}`, expected: '(absent)', got: describeLeaf(left[0]!) });
  }

  /** Runs a comparison on a copy of the bindings: true when it matches (the bindings are kept then). */
  private trial(run: () => void): boolean {
    const saved = this.bindings;
    const savedIndex = this.batchIndex;
    this.bindings = new Map(saved);
    try {
      run();
      this.bindings = saved;
      return true;
    } catch (err) {
      if (!(err instanceof Mismatch)) throw err;
      this.bindings = saved;
      return false;
    } finally {
      this.batchIndex = savedIndex;
    }
  }
}

function describeLeaf(item: TtlvItem): string {
  if (item.type === ItemType.Structure) {
    const name = item.value.find((c) => c.tag === TAG.AttributeName);
    if (name?.type === ItemType.TextString) return `Attribute(${name.value})`;
  }
  return describe(item);
}

function attributeNameOf(e: XmlElement): string | undefined {
  return e.name === 'Attribute' ? e.children.find((c) => c.name === 'AttributeName')?.attributes.value : undefined;
}

function sameAttributeName(a: TtlvItem, name: string | undefined): boolean {
  if (!name || a.type !== ItemType.Structure) return false;
  const n = a.value.find((c) => c.tag === TAG.AttributeName);
  return n?.type === ItemType.TextString && n.value === name;
}

function same(a: TtlvItem['value'], b: TtlvItem['value']): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return a === b;
}

/**
 * After a difference, binds what can still be bound so that the case can go on: each `$NAME` of the
 * expected response not bound yet takes the value at the same place in the actual one (children paired
 * by tag and rank). Nothing is compared.
 */
export function bindLoosely(expected: XmlElement, actual: TtlvItem | undefined, bindings: Bindings): void {
  if (!actual || elementTag(expected) !== actual.tag) return;
  if (actual.type !== ItemType.Structure) {
    const raw = expected.attributes.value ?? '';
    if (raw.startsWith('$') && !raw.startsWith('$NOW') && !bindings.has(raw)) bindings.set(raw, actual.value);
    return;
  }
  const rank = new Map<number, number>();
  for (const e of expected.children) {
    const tag = elementTag(e);
    const k = rank.get(tag) ?? 0;
    rank.set(tag, k + 1);
    bindLoosely(e, actual.value.filter((c) => c.tag === tag)[k], bindings);
  }
}
