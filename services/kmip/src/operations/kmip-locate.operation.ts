import { mayReadKey, type KeyState } from '@keyward/domain';
import { businessNow } from '@keyward/platform';
import { isStored, matchesStored } from '../kmip-stored-attributes';
import { asBool, asDate, asEnum, asInt, asText, child, ObjectType, ResultReason, State, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import {
  algorithmOf,
  isCustomAttribute,
  kmipStateOf,
  usageMaskOf,
  usageMaskOfKey,
  keyDates,
  lengthOf,
  nameValue,
  objectTypeOfKey,
  readAttributes,
  type KmipAttribute,
} from '../kmip-attributes';
import { actorOf, fail, READERS, requireRole, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { objectsOf, uidOf, type KeyPart } from '../kmip-key-pair';
import { CERTIFICATE_ATTRIBUTES } from './kmip-certificate.operations';
import { USAGE_DATES, usageDateOf } from '../kmip-usage-dates';

const isUsageDate = (name: string): name is (typeof USAGE_DATES)[number] => (USAGE_DATES as readonly string[]).includes(name);

const DATE_ATTRIBUTES = new Set([
  'Initial Date',
  'Activation Date',
  'Deactivation Date',
  'Compromise Date',
  'Destroy Date',
  'Last Change Date',
  'Original Creation Date',
  // Kept as client attributes (kmip-usage-dates.ts); BL-M-4-21 locates by a Protect Stop Date range.
  ...USAGE_DATES,
]);

const DESTROYED: ReadonlySet<number> = new Set([State.Destroyed, State.DestroyedCompromised]);

/** KMIP dates have one-second precision: keys' millisecond dates are compared by their second. */
const second = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * A date filter: one instance of a date attribute matches that second; two instances of the same
 * name are an inclusive range (KMIP 1.x §4.9, 2.0 §6.1.27), whichever order they come in.
 */
function dateMatcher(name: string, values: readonly KmipAttribute[]): (key: KeyState) => boolean {
  const dates = values.map((v) => asDate(v.value));
  if (dates.some((d) => d === undefined) || dates.length > 2) fail(ResultReason.InvalidField, `${name} takes one date or two (a range)`);
  const seconds = dates.map((d) => second(d as Date));
  const low = Math.min(...seconds);
  const high = Math.max(...seconds);
  return (key) => {
    const date = isUsageDate(name) ? usageDateOf(key, name) : keyDates(key)[name];
    return date !== undefined && second(date) >= low && second(date) <= high;
  };
}

/** A managed object: a key, or a key pair's public key (kmip-key-pair.ts). */
interface KmipObject {
  readonly key: KeyState;
  readonly part: KeyPart;
}
type Matcher = (object: KmipObject) => boolean;

/** Filters on what both objects of a pair share look at the key. */
const ofKey =
  (match: (key: KeyState) => boolean): Matcher =>
  (o) =>
    match(o.key);

function matcher(filter: KmipAttribute): Matcher {
  const { name, value } = filter;
  switch (name) {
    case 'Object Type':
      return (o) => asEnum(value) === (o.part === 'public' ? ObjectType.PublicKey : objectTypeOfKey(o.key));
    case 'Cryptographic Usage Mask': {
      // KMIP 1.4 §4.9: the objects whose mask has every bit of the filter's.
      const bits = asInt(value) ?? 0;
      return (o) =>
        ((o.part === 'public' && o.key.publicOnly !== true ? usageMaskOf(o.key, 'public') : usageMaskOfKey(o.key)) & bits) === bits;
    }
    case 'Unique Identifier':
      return (o) => asText(value) === uidOf(o.key, o.part);
    default:
      return ofKey(keyMatcher(filter));
  }
}

function keyMatcher(filter: KmipAttribute): (key: KeyState) => boolean {
  const { name, value } = filter;
  switch (name) {
    case 'Name':
      return (key) => key.alias !== null && key.alias === nameValue(value);
    case 'State':
      return (key) => asEnum(value) === kmipStateOf(key);
    case 'Extractable':
      return (key) => asBool(value) === key.exportable;
    case 'Cryptographic Algorithm':
      return (key) => asEnum(value) === algorithmOf(key);
    case 'Cryptographic Length':
      return (key) => asInt(value) === lengthOf(key);
    default:
      if (isCustomAttribute(name)) {
        const text = asText(value);
        return (key) => (text !== undefined && key.labels[name] === text) || matchesStored(key, filter);
      }
      if (isStored(name) || CERTIFICATE_ATTRIBUTES.has(name)) return (key) => matchesStored(key, filter);
      return fail(ResultReason.FeatureNotSupported, `Locate by ${name} is not supported`);
  }
}

/** Locate: the tenant's keys the caller may see (ownership, read grants) matching every filter (destroyed ones only when a State is asked for), newest first; Maximum Items and Offset Items page them. */
export async function locate(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, READERS, 'locate keys');
  const filters = [...readAttributes(payload), ...readAttributes(child(payload, Tag.Attributes), true)];
  const matchers: Matcher[] = [];
  const byDate = new Map<string, KmipAttribute[]>();
  for (const filter of filters) {
    if (DATE_ATTRIBUTES.has(filter.name)) byDate.set(filter.name, [...(byDate.get(filter.name) ?? []), filter]);
    else matchers.push(matcher(filter));
  }
  for (const [name, values] of byDate) matchers.push(ofKey(dateMatcher(name, values)));
  // A destroyed key keeps its metadata, but only a Locate that names a State finds it (SKFF-M-5-14).
  if (!filters.some((f) => f.name === 'State')) matchers.push(ofKey((key) => !DESTROYED.has(kmipStateOf(key))));
  const max = asInt(child(payload, Tag.MaximumItems));
  const offset = asInt(child(payload, Tag.OffsetItems)) ?? 0;
  const log = await deps.executor.current(call.principal.tenantId);
  const actor = actorOf(call);
  const now = businessNow();
  // Only the keys the caller may see (the domain's one visibility rule), newest first; a pair answers its private key, then its public key.
  const found = [...log.keys.values()]
    .filter((k) => mayReadKey(log, actor, k, now))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .flatMap((key): KmipObject[] => objectsOf(key))
    .filter((o) => matchers.every((m) => m(o)));
  const page = found.slice(offset, max === undefined ? undefined : offset + Math.max(0, max));
  // The ID placeholder: the next item of the batch acts on the located object (TL-M-3-14: Locate, then Get).
  if (page[0] !== undefined) call.placeholder = uidOf(page[0].key, page[0].part);
  return page.map((o) => ttlv.text(Tag.UniqueIdentifier, uidOf(o.key, o.part)));
}
