import { ItemType, type TtlvItem } from '@keyward/kmip';
import type { ConformanceCase } from './case-file';
import { bindLoosely, compareResponse, type Bindings, type Difference, type ItemContext } from './compare';
import { enumerationName, knownTag, TAG } from './kmip-dictionary';
import { CaseFormatError, nowPlaceholder, toTtlv } from './xml-ttlv';
import type { XmlElement } from './xml-reader';

/** Sends one request message and answers the decoded response (null: the server closed the connection). */
export interface KmipConnection {
  send(request: TtlvItem): Promise<TtlvItem | null>;
}

/**
 * Who the runner is towards the server. An appliance uses one identity for everything; until the
 * `kmip-client` role exists, an identity may route a batch to another principal by its operations.
 */
export interface ConformanceIdentity {
  readonly label: string;
  connectionFor(operations: readonly string[]): Promise<KmipConnection>;
  close(): Promise<void>;
}

/** Makes a fresh identity (and, in the e2e spec, a fresh tenant) for each profile's series of cases. */
export type IdentityFactory = (profile: string) => Promise<ConformanceIdentity>;

export interface CaseResult {
  readonly id: string;
  readonly profile: string;
  readonly version: string;
  readonly outcome: 'pass' | 'fail' | 'error';
  /** 1-based request number of the first failure. */
  readonly step?: number;
  readonly steps: number;
  readonly difference?: Difference;
  /** One line: why it failed ("Create: PermissionDenied: …"), empty when it passed. */
  readonly cause: string;
  /** With `keepGoing`: the differences of the later requests, each found by going on after the previous one. */
  readonly later: readonly { readonly step: number; readonly cause: string }[];
  readonly ms: number;
}

export interface RunOptions {
  /** Go on after the first difference (binding what the answer still tells) to list the later ones too. */
  readonly keepGoing?: boolean;
  readonly now?: () => Date;
}

const T = knownTag;
const bytesTags = (...names: string[]): number[] => names.map(T);
const CORRELATION = bytesTags('Correlation Value');
const SERVER_IV = bytesTags('Data', 'IV/Counter/Nonce', 'Authenticated Encryption Tag');
const GENERATED_MATERIAL = bytesTags('Key Material', 'Digest Value');
const GENERATED_OUTPUT = bytesTags('Data', 'MAC Data', 'Authenticated Encryption Tag', 'Signature Data');
const CREATING = new Set(['Create', 'CreateKeyPair', 'DeriveKey', 'ReKey', 'ReKeyKeyPair']);

const child = (item: TtlvItem | undefined, tag: number): TtlvItem | undefined =>
  item?.type === ItemType.Structure ? item.value.find((c) => c.tag === tag) : undefined;
const childrenOf = (item: TtlvItem | undefined, tag: number): TtlvItem[] =>
  item?.type === ItemType.Structure ? item.value.filter((c) => c.tag === tag) : [];
const text = (item: TtlvItem | undefined): string | undefined => (item?.type === ItemType.TextString ? item.value : undefined);

/** Replays one case over `identity`: pass, or the first difference from the reference responses. */
export async function runCase(
  testCase: ConformanceCase,
  identity: ConformanceIdentity,
  options: RunOptions = {},
  /** Objects the server generated in earlier cases of the profile (TL-M-3 gets the key TL-M-2 created). */
  generatedBefore: Set<string> = new Set(),
): Promise<CaseResult> {
  const now = options.now ?? (() => new Date());
  let first: { step: number; cause: string; difference: Difference } | undefined;
  const later: { step: number; cause: string }[] = [];
  const started = Date.now();
  const bindings: Bindings = new Map();
  /** The latest value the server answered for each tag: what `$DATA_0` or `$IV_COUNTER_NONCE` in a request mean. */
  const lastByTag = new Map<number, TtlvItem['value']>();
  /** Objects the server generated (Create, in this case or an earlier one of the profile): their material and its outputs are the server's random choice. */
  const generated = generatedBefore;
  const result = (outcome: CaseResult['outcome'], cause = '', step?: number, difference?: Difference): CaseResult => ({
    id: testCase.id,
    profile: testCase.profile,
    version: testCase.version,
    outcome,
    steps: testCase.steps.length,
    cause,
    later,
    ms: Date.now() - started,
    ...(step === undefined ? {} : { step }),
    ...(difference ? { difference } : {}),
  });
  for (const [index, step] of testCase.steps.entries()) {
    const operations = batchOperations(step.request);
    let request: TtlvItem;
    try {
      request = toTtlv(step.request, (placeholder, tag) => {
        const time = nowPlaceholder(placeholder, now());
        if (time !== undefined) return time;
        const bound = bindings.get(placeholder) ?? lastByTag.get(tag);
        if (bound !== undefined) bindings.set(placeholder, bound);
        return bound;
      });
    } catch (err) {
      // After a difference, a placeholder the server never answered ends the case quietly.
      if (first && err instanceof CaseFormatError) break;
      if (err instanceof CaseFormatError) return result('error', `case not runnable: ${err.message}`, index + 1);
      throw err;
    }
    const connection = await identity.connectionFor(operations);
    const actual = await connection.send(request);
    if (!actual) {
      const cause = `${operations.join('+')}: the server closed the connection or did not answer`;
      if (first) later.push({ step: index + 1, cause });
      else first = { step: index + 1, cause, difference: { path: 'ResponseMessage', expected: 'a response', got: '(connection closed)' } };
      if (!options.keepGoing) break;
      continue;
    }
    for (const [i, item] of childrenOf(actual, TAG.BatchItem).entries()) {
      if (!CREATING.has(operations[i] ?? '')) continue;
      const payload = child(item, TAG.ResponsePayload);
      for (const tag of [TAG.UniqueIdentifier, TAG.PrivateKeyUniqueIdentifier, TAG.PublicKeyUniqueIdentifier]) {
        const uid = text(child(payload, tag));
        if (uid) generated.add(uid);
      }
    }
    const contexts = itemContexts(request, actual, operations, generated, literalData(step.request));
    let difference: Difference | null;
    try {
      difference = compareResponse(step.response, actual, contexts, bindings);
    } catch (err) {
      if (err instanceof CaseFormatError) return result('error', `case not runnable: ${err.message}`, index + 1);
      throw err;
    }
    remember(actual, lastByTag);
    if (difference) {
      const cause = causeOf(difference, step.response, actual, operations);
      if (first) later.push({ step: index + 1, cause });
      else first = { step: index + 1, cause, difference };
      if (!options.keepGoing) break;
      bindLoosely(step.response, actual, bindings);
    }
  }
  return first ? result('fail', first.cause, first.step, first.difference) : result('pass');
}

/** Runs every case, a fresh identity per profile (cases of a profile build on each other, e.g. TL-M-3 locates TL-M-2's key). */
export async function runCases(
  cases: readonly ConformanceCase[],
  identityFor: IdentityFactory,
  options: RunOptions = {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const profiles = [...new Set(cases.map((c) => `${c.version}/${c.profile}`))];
  for (const key of profiles) {
    const identity = await identityFor(key);
    const generated = new Set<string>();
    try {
      for (const c of cases.filter((x) => `${x.version}/${x.profile}` === key)) {
        results.push(await runCase(c, identity, options, generated));
      }
    } finally {
      await identity.close();
    }
  }
  return results;
}

function batchOperations(request: XmlElement): string[] {
  return request.children
    .filter((c) => c.name === 'BatchItem')
    .map((item) => item.children.find((c) => c.name === 'Operation')?.attributes.value ?? '?');
}

/** For each batch item: whether its request carries Data written out in the case (not a `$NAME` the server answered earlier). */
function literalData(request: XmlElement): boolean[] {
  return request.children
    .filter((c) => c.name === 'BatchItem')
    .map((item) => {
      const data = item.children.find((c) => c.name === 'RequestPayload')?.children.find((c) => c.name === 'Data');
      return data?.attributes.value !== undefined && !data.attributes.value.startsWith('$');
    });
}

function itemContexts(
  request: TtlvItem,
  response: TtlvItem,
  operations: readonly string[],
  generated: ReadonlySet<string>,
  literal: readonly boolean[],
): ItemContext[] {
  const requested = childrenOf(request, TAG.BatchItem);
  const answered = childrenOf(response, TAG.BatchItem);
  return operations.map((operation, i) => {
    const payload = child(requested[i], TAG.RequestPayload);
    const uid = text(child(child(answered[i], TAG.ResponsePayload), TAG.UniqueIdentifier)) ?? text(child(payload, TAG.UniqueIdentifier));
    const variable = new Set(CORRELATION);
    if (operation === 'RNGRetrieve') variable.add(T('Data'));
    if (operation === 'Encrypt' && !child(payload, TAG.IvCounterNonce)) SERVER_IV.forEach((t) => variable.add(t));
    if (uid && generated.has(uid)) {
      GENERATED_MATERIAL.forEach((t) => variable.add(t));
      if (['Encrypt', 'MAC', 'Sign'].includes(operation)) GENERATED_OUTPUT.forEach((t) => variable.add(t));
      // A ciphertext written in the case decrypts to the reference key's plaintext only: under the server's key, to bytes
      // of the same length. A ciphertext the server made itself (a `$NAME`) must decrypt to the expected plaintext exactly.
      if (operation === 'Decrypt' && literal[i] === true) variable.add(T('Data'));
    }
    const named = childrenOf(payload, TAG.AttributeName).length + childrenOf(payload, TAG.AttributeReference).length;
    return {
      operation,
      variableTags: variable,
      allAttributes: operation === 'GetAttributeList' || (operation === 'GetAttributes' && named === 0),
    };
  });
}

function remember(item: TtlvItem, lastByTag: Map<number, TtlvItem['value']>): void {
  if (item.type === ItemType.Structure) item.value.forEach((c) => remember(c, lastByTag));
  else lastByTag.set(item.tag, item.value);
}

/**
 * One line for the table: the server's refusal of an item the reference server carried out (the most
 * telling cause, even when the first difference is elsewhere, e.g. a shorter batch), else the difference.
 */
function causeOf(difference: Difference, expected: XmlElement, actual: TtlvItem, operations: readonly string[]): string {
  const expectedItems = expected.children.filter((c) => c.name === 'BatchItem');
  for (const [i, item] of childrenOf(actual, TAG.BatchItem).entries()) {
    const status = child(item, TAG.ResultStatus);
    const wanted = expectedItems[i]?.children.find((c) => c.name === 'ResultStatus')?.attributes.value;
    if (status?.type !== ItemType.Enumeration || status.value === 0 || wanted !== 'Success') continue;
    const reason = child(item, TAG.ResultReason);
    const reasonName = reason?.type === ItemType.Enumeration ? enumerationName('Result Reason', reason.value) : '?';
    return `${operations[i] ?? '?'}: ${reasonName}: ${text(child(item, TAG.ResultMessage)) ?? ''}`.trim();
  }
  const index = Number(/BatchItem\[([0-9]+)\]/.exec(difference.path)?.[1] ?? '-1');
  const operation = operations[index] ?? operations.join('+');
  const where = difference.path.replace(/^ResponseMessage\//, '').replace(/^BatchItem\[[0-9]+\]\//, '');
  return `${operation}: ${where}: expected ${difference.expected}, got ${difference.got}`;
}
