import type { TenantLog } from '@keyward/domain';
import type { CommandExecutor } from '@keyward/event-log';
import {
  asEnum,
  asInt,
  asText,
  child,
  children,
  CryptographicUsageMask,
  ItemType,
  Operation,
  ResultReason,
  ResultStatus,
  SUPPORTED_VERSIONS,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import type { KeyMaterialService, UsageRecorder } from '@keyward/keys';
import { KmipOperations, servedIn } from './kmip.operations';
import { MAX_LOG_MESSAGE } from './operations/kmip-interop-log.operations';

/** KMIP 2.1 as a protocol version (issue 17): negotiation, the 2.1 operations, and what changes with the version. */
const aesKey = {
  keyId: 'key_aes',
  keyType: 'AES-256-GCM',
  state: 'PreActive',
  alias: null,
  labels: {},
  exportable: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  activationDate: null,
  deactivationDate: null,
  compromiseDate: null,
  destroyedAt: null,
  destroyAfter: null,
  useSuspended: false,
  history: [],
  versions: [],
  latestVersion: 1,
};
const log = {
  tenant: { status: 'Active' },
  keys: new Map([['key_aes', aesKey]]),
  principals: new Map([['prn_admin', { principalId: 'prn_admin', name: 'a', role: 'tenant-admin', createdAt: '', revokedAt: null }]]),
  certificates: new Map([['prn_admin', { fingerprint: 'ab'.repeat(32), boundAt: '', boundBy: 'prn_admin' }]]),
  grants: new Map(),
} as unknown as TenantLog;
const executor = { current: () => Promise.resolve(log) } as unknown as CommandExecutor;
const operations = new KmipOperations(
  executor,
  {} as KeyMaterialService,
  { record: () => undefined, admit: () => undefined } as unknown as UsageRecorder,
);
const admin = { tenantId: 'ten_1', principalId: 'prn_admin', fingerprint: 'ab'.repeat(32), subjectAttributes: ['CN=prn_admin', 'O=ten_1'] };

type Item = [number, TtlvItem[]];
function request(version: [number, number], items: Item[], header: TtlvItem[] = []): TtlvItem {
  return ttlv.struct(Tag.RequestMessage, [
    ttlv.struct(Tag.RequestHeader, [
      ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, version[0]), ttlv.int(Tag.ProtocolVersionMinor, version[1])]),
      ...header,
      ttlv.int(Tag.BatchCount, items.length),
    ]),
    ...items.map(([op, payload]) => ttlv.struct(Tag.BatchItem, [ttlv.enum(Tag.Operation, op), ttlv.struct(Tag.RequestPayload, payload)])),
  ]);
}
const results = (response: TtlvItem): [number | undefined, number | undefined][] =>
  children(response, Tag.BatchItem).map((i) => [asEnum(child(i, Tag.ResultStatus)), asEnum(child(i, Tag.ResultReason))]);
const versionOfResponse = (response: TtlvItem): [number | undefined, number | undefined] => {
  const version = child(child(response, Tag.ResponseHeader), Tag.ProtocolVersion);
  return [asInt(child(version, Tag.ProtocolVersionMajor)), asInt(child(version, Tag.ProtocolVersionMinor))];
};
const interop = (fn: number, id = 'BL-M-1-21'): Item => [
  Operation.Interop,
  [ttlv.enum(Tag.InteropFunction, fn), ttlv.text(Tag.InteropIdentifier, id)],
];
const logItem = (message: string): Item => [Operation.Log, [ttlv.text(Tag.LogMessage, message)]];
const uid = (id: string): TtlvItem => ttlv.text(Tag.UniqueIdentifier, id);
const OK: [number | undefined, number | undefined] = [ResultStatus.Success, undefined];

describe('KMIP 2.1 as a protocol version', () => {
  it('is negotiated first by Discover Versions, and a 2.1 request is answered in 2.1', async () => {
    expect(SUPPORTED_VERSIONS[0]).toEqual({ major: 2, minor: 1 });
    const all = await operations.handle(request([2, 1], [[Operation.DiscoverVersions, []]]), admin);
    const offered = children(child(children(all, Tag.BatchItem)[0], Tag.ResponsePayload), Tag.ProtocolVersion).map((v) => [
      asInt(child(v, Tag.ProtocolVersionMajor)),
      asInt(child(v, Tag.ProtocolVersionMinor)),
    ]);
    expect(offered).toEqual([
      [2, 1],
      [2, 0],
      [1, 4],
      [1, 3],
      [1, 2],
      [1, 1],
      [1, 0],
    ]);
    expect(versionOfResponse(all)).toEqual([2, 1]);
    const query = await operations.handle(request([2, 1], [[Operation.Query, [ttlv.enum(Tag.QueryFunction, 1)]]]), admin);
    expect(results(query)).toEqual([OK]);
    expect(versionOfResponse(query)).toEqual([2, 1]);
  });

  it('still refuses a version it does not speak (2.2, 3.0) as Invalid Message, answering in 1.4', async () => {
    for (const version of [
      [2, 2],
      [3, 0],
    ] as [number, number][]) {
      const response = await operations.handle(request(version, [[Operation.Query, []]]), admin);
      expect(results(response)).toEqual([[ResultStatus.OperationFailed, ResultReason.InvalidMessage]]);
      expect(versionOfResponse(response)).toEqual([1, 4]);
    }
  });

  it('serves Interop Begin/End and Log in 2.1 only; Query lists them only to 2.1 clients', async () => {
    expect(
      results(await operations.handle(request([2, 1], [interop(1), logItem('Registered a symmetric key.'), interop(2)]), admin)),
    ).toEqual([OK, OK, OK]);
    for (const version of [
      [2, 0],
      [1, 4],
    ] as [number, number][]) {
      expect(results(await operations.handle(request(version, [interop(1)]), admin))).toEqual([
        [ResultStatus.OperationFailed, ResultReason.OperationNotSupported],
      ]);
      expect(results(await operations.handle(request(version, [logItem('x')]), admin))).toEqual([
        [ResultStatus.OperationFailed, ResultReason.OperationNotSupported],
      ]);
    }
    expect(servedIn(Operation.Log, { major: 2, minor: 1 })).toBe(true);
    expect(servedIn(Operation.Log, { major: 2, minor: 0 })).toBe(false);
    expect(servedIn(Operation.Check, { major: 1, minor: 0 })).toBe(true);
    const listed = async (version: [number, number]): Promise<(number | undefined)[]> => {
      const response = await operations.handle(request(version, [[Operation.Query, [ttlv.enum(Tag.QueryFunction, 1)]]]), admin);
      return children(child(children(response, Tag.BatchItem)[0], Tag.ResponsePayload), Tag.Operation).map(asEnum);
    };
    expect(await listed([2, 1])).toEqual(expect.arrayContaining([Operation.Log, Operation.Interop, Operation.Check]));
    const old = await listed([1, 4]);
    expect(old).toContain(Operation.Check);
    expect(old).not.toContain(Operation.Log);
    expect(old).not.toContain(Operation.Interop);
  });

  it('refuses malformed Interop and Log requests precisely (Reset, missing or oversized fields, unknown functions)', async () => {
    const refused = async (item: Item): Promise<number | undefined> =>
      results(await operations.handle(request([2, 1], [item]), admin))[0]?.[1];
    expect(await refused(interop(3))).toBe(ResultReason.FeatureNotSupported);
    expect(await refused(interop(9))).toBe(ResultReason.InvalidField);
    expect(await refused(interop(1, 'x'.repeat(129)))).toBe(ResultReason.InvalidField);
    expect(await refused([Operation.Interop, [ttlv.enum(Tag.InteropFunction, 1)]])).toBe(ResultReason.MissingData);
    expect(await refused([Operation.Interop, [ttlv.text(Tag.InteropIdentifier, 'BL-M-1-21')]])).toBe(ResultReason.MissingData);
    expect(await refused([Operation.Log, []])).toBe(ResultReason.MissingData);
    expect(await refused(logItem('x'.repeat(MAX_LOG_MESSAGE + 1)))).toBe(ResultReason.InvalidField);
    expect(await refused(logItem('line one\nforged line'))).toBeUndefined();
  });

  it('refuses Interop and Log to an unauthenticated caller', async () => {
    expect(results(await operations.handle(request([2, 1], [interop(1), logItem('x')]), 'no client certificate'))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.AuthenticationNotSuccessful],
    ]);
  });

  it('names an unknown object Object Not Found in 2.1, Item Not Found in 2.0 and 1.x', async () => {
    const activate: Item = [Operation.Activate, [uid('key_missing')]];
    expect(results(await operations.handle(request([2, 1], [activate]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.ObjectNotFound],
    ]);
    for (const version of [
      [2, 0],
      [1, 4],
    ] as [number, number][]) {
      expect(results(await operations.handle(request(version, [activate]), admin))).toEqual([
        [ResultStatus.OperationFailed, ResultReason.ItemNotFound],
      ]);
    }
  });

  it('Check: the usage mask the key allows passes, one it does not is Incompatible Cryptographic Usage Mask (2.x)', async () => {
    const check = (mask: number): Item => [Operation.Check, [uid('key_aes'), ttlv.int(Tag.CryptographicUsageMask, mask)]];
    const passed = await operations.handle(
      request([2, 1], [check(CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt)]),
      admin,
    );
    expect(results(passed)).toEqual([OK]);
    expect(asText(child(child(children(passed, Tag.BatchItem)[0], Tag.ResponsePayload), Tag.UniqueIdentifier))).toBe('key_aes');
    expect(results(await operations.handle(request([2, 1], [check(CryptographicUsageMask.Sign)]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.IncompatibleCryptographicUsageMask],
    ]);
    expect(results(await operations.handle(request([1, 4], [check(CryptographicUsageMask.Sign)]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.IllegalOperation],
    ]);
    // Lease Time and Usage Limits Count are refused, not ignored.
    const lease: Item = [Operation.Check, [uid('key_aes'), ttlv.interval(Tag.LeaseTime, 60)]];
    expect(results(await operations.handle(request([2, 1], [lease]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.FeatureNotSupported],
    ]);
  });

  it('Undo: the items undone keep the payload they would have answered (2.1 BL-M-2)', async () => {
    const check = (mask: number): Item => [Operation.Check, [uid('key_aes'), ttlv.int(Tag.CryptographicUsageMask, mask)]];
    const response = await operations.handle(
      request(
        [2, 1],
        [check(CryptographicUsageMask.Encrypt), check(CryptographicUsageMask.Sign)],
        [ttlv.enum(Tag.BatchErrorContinuationOption, 3)],
      ),
      admin,
    );
    expect(results(response)).toEqual([
      [ResultStatus.OperationUndone, undefined],
      [ResultStatus.OperationFailed, ResultReason.IncompatibleCryptographicUsageMask],
    ]);
    const undone = children(response, Tag.BatchItem)[0];
    expect(undone?.type).toBe(ItemType.Structure);
    expect(asText(child(child(undone, Tag.ResponsePayload), Tag.UniqueIdentifier))).toBe('key_aes');
  });
});
