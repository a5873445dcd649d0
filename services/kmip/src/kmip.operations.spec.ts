import type { TenantLog } from '@keyward/domain';
import type { CommandExecutor } from '@keyward/event-log';
import { asEnum, asText, child, children, ItemType, Operation, ResultReason, ResultStatus, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { auditUnavailableError, type KeyMaterialService, type UsageRecorder } from '@keyward/keys';
import { keyAttributes, readAttributes, writeAttributes } from './kmip-attributes';
import { identityOf, principalOf } from './kmip-principal';
import { KmipOperations } from './kmip.operations';

const log = {
  tenant: { status: 'Active' },
  keys: new Map(),
  principals: new Map([
    ['prn_admin', { principalId: 'prn_admin', name: 'a', role: 'tenant-admin', createdAt: '', revokedAt: null }],
    ['prn_gone', { principalId: 'prn_gone', name: 'g', role: 'key-user', createdAt: '', revokedAt: '2026-01-01T00:00:00Z' }],
    ['prn_loose', { principalId: 'prn_loose', name: 'l', role: 'key-user', createdAt: '', revokedAt: null }],
  ]),
  certificates: new Map([
    ['prn_admin', { fingerprint: 'ab'.repeat(32), boundAt: '', boundBy: 'prn_admin' }],
    ['prn_gone', { fingerprint: 'cd'.repeat(32), boundAt: '', boundBy: 'prn_admin' }],
    ['prn_loose', { subject: 'CN=prn_loose, O=ten_1', boundAt: '', boundBy: 'prn_admin' }],
  ]),
} as unknown as TenantLog;

const executor = { current: () => Promise.resolve(log) } as unknown as CommandExecutor;
const operations = new KmipOperations(
  executor,
  {} as KeyMaterialService,
  { record: () => undefined, admit: () => undefined } as unknown as UsageRecorder,
);
const admin = { tenantId: 'ten_1', principalId: 'prn_admin', fingerprint: 'ab'.repeat(32), subjectAttributes: ['CN=prn_admin', 'O=ten_1'] };

function request(version: [number, number], items: [number, TtlvItem[]][]): TtlvItem {
  return ttlv.struct(Tag.RequestMessage, [
    ttlv.struct(Tag.RequestHeader, [
      ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, version[0]), ttlv.int(Tag.ProtocolVersionMinor, version[1])]),
      ttlv.int(Tag.BatchCount, items.length),
    ]),
    ...items.map(([op, payload]) => ttlv.struct(Tag.BatchItem, [ttlv.enum(Tag.Operation, op), ttlv.struct(Tag.RequestPayload, payload)])),
  ]);
}
const results = (response: TtlvItem): [number | undefined, number | undefined][] =>
  children(response, Tag.BatchItem).map((i) => [asEnum(child(i, Tag.ResultStatus)), asEnum(child(i, Tag.ResultReason))]);

describe('KmipOperations', () => {
  it('negotiates versions and answers in the version asked', async () => {
    const response = await operations.handle(request([1, 2], [[Operation.DiscoverVersions, []]]), admin);
    expect(results(response)).toEqual([[ResultStatus.Success, undefined]]);
    const header = child(response, Tag.ResponseHeader);
    expect(child(child(header, Tag.ProtocolVersion), Tag.ProtocolVersionMinor)).toMatchObject({ value: 2 });
    const payload = child(children(response, Tag.BatchItem)[0], Tag.ResponsePayload);
    expect(children(payload, Tag.ProtocolVersion)).toHaveLength(7);
  });

  it('answers an unsupported version, an unknown operation and a non-request with KMIP errors', async () => {
    expect(results(await operations.handle(request([3, 0], [[Operation.Query, []]]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.InvalidMessage],
    ]);
    expect(results(await operations.handle(request([1, 4], [[0x2c, []]]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.OperationNotSupported],
    ]);
    expect(results(await operations.handle(ttlv.struct(Tag.ResponseMessage, []), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.InvalidMessage],
    ]);
  });

  it('refuses unauthenticated callers and callers whose role does not allow the operation', async () => {
    expect(results(await operations.handle(request([1, 4], [[Operation.Query, []]]), 'no client certificate'))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.AuthenticationNotSuccessful],
    ]);
    const encrypt: [number, TtlvItem[]] = [
      Operation.Encrypt,
      [ttlv.text(Tag.UniqueIdentifier, 'key_1'), ttlv.bytes(Tag.Data, Buffer.from('x'))],
    ];
    expect(results(await operations.handle(request([1, 4], [encrypt]), admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.PermissionDenied],
    ]);
  });

  it('continues after a failed item only when asked to', async () => {
    const missing: [number, TtlvItem[]] = [Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, 'key_missing')]];
    const stop = await operations.handle(request([1, 4], [missing, [Operation.Query, []]]), admin);
    expect(results(stop)).toEqual([[ResultStatus.OperationFailed, ResultReason.ItemNotFound]]);
    const message = request([1, 4], [missing, [Operation.Query, []]]);
    const header = child(message, Tag.RequestHeader);
    if (header?.type === ItemType.Structure) header.value.push(ttlv.enum(Tag.BatchErrorContinuationOption, 1));
    expect(results(await operations.handle(message, admin))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.ItemNotFound],
      [ResultStatus.Success, undefined],
    ]);
  });
});

describe('certificate principals', () => {
  it('reads O=<tenant>, CN=<principal> as where to look, and takes the role from the log', () => {
    const fingerprint256 = 'AB:'.repeat(31) + 'AB';
    const identity = identityOf({ subject: { O: 'ten_1', CN: 'prn_admin' }, fingerprint256 } as never);
    expect(identity).toEqual({
      tenantId: 'ten_1',
      principalId: 'prn_admin',
      fingerprint: 'ab'.repeat(32),
      subjectAttributes: ['CN=prn_admin', 'O=ten_1'],
    });
    expect(principalOf(identity as never, log)).toMatchObject({ role: 'tenant-admin', tenantId: 'ten_1' });
    expect(principalOf({ ...admin, principalId: 'prn_gone', fingerprint: 'cd'.repeat(32) }, log)).toMatch(/revoked/);
    expect(principalOf({ ...admin, principalId: 'prn_other' }, log)).toMatch(/no principal prn_other is bound to this certificate/);
  });

  it('never authenticates by subject text alone: the binding must carry the presented fingerprint', () => {
    // Any CA in the bundle can write O=ten_1, CN=prn_admin; only the bound certificate has this fingerprint.
    expect(principalOf({ ...admin, fingerprint: 'ef'.repeat(32) }, log)).toBe(
      'no principal prn_admin is bound to this certificate (bind its SHA-256 fingerprint: PUT /v1/principals/{id}/certificate)',
    );
    // A binding by subject only is not enough for KMIP either.
    const loose = {
      tenantId: 'ten_1',
      principalId: 'prn_loose',
      fingerprint: 'ef'.repeat(32),
      subjectAttributes: ['CN=prn_loose', 'O=ten_1'],
    };
    expect(typeof principalOf(loose, log)).toBe('string');
    expect(identityOf({ subject: { CN: 'x' }, fingerprint256: '' } as never)).toMatch(/O=<tenantId>/);
    expect(identityOf(undefined)).toBe('no client certificate');
  });
});

describe('attributes', () => {
  const key = {
    keyId: 'key_1',
    keyType: 'AES-256-GCM',
    state: 'Active',
    alias: 'payments',
    labels: { 'x-owner': 'ops', team: 'not a KMIP attribute' },
    exportable: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-02T00:00:00.000Z',
    activationDate: null,
    deactivationDate: null,
    compromiseDate: null,
    destroyedAt: null,
    history: [{ to: 'Active', at: '2026-01-02T00:00:00.000Z' }],
  } as never;

  it('writes 1.x Attribute structures and 2.0 tagged items that read back the same', () => {
    const all = keyAttributes(key);
    for (const major of [1, 2]) {
      const back = readAttributes(ttlv.struct(Tag.Attributes, writeAttributes(all, major)));
      expect(back.map((a) => [a.name, a.value.type, a.value.value])).toEqual(all.map((a) => [a.name, a.value.type, a.value.value]));
    }
    expect(asText(child(all.find((a) => a.name === 'Name')?.value, Tag.NameValue))).toBe('payments');
    expect(all.filter((a) => a.name.startsWith('x-') || a.name === 'team').map((a) => [a.name, a.value.value])).toEqual([
      ['x-owner', 'ops'],
    ]);
  });
});

describe('KmipOperations under a full usage audit (fail closed)', () => {
  it('refuses an audited operation before it runs, and lets unaudited ones through', async () => {
    const tenants: string[] = [];
    const refusing = {
      record: () => undefined,
      admit: (tenantId: string) => {
        tenants.push(tenantId);
        throw auditUnavailableError(5);
      },
    } as unknown as UsageRecorder;
    const guarded = new KmipOperations(executor, {} as KeyMaterialService, refusing);
    const encrypt: [number, TtlvItem[]] = [
      Operation.Encrypt,
      [ttlv.text(Tag.UniqueIdentifier, 'key_1'), ttlv.bytes(Tag.Data, Buffer.from('x'))],
    ];
    const response = await guarded.handle(request([1, 4], [encrypt]), admin);
    // General Failure rather than the role check's Permission Denied: nothing of the operation ran.
    expect(results(response)).toEqual([[ResultStatus.OperationFailed, ResultReason.GeneralFailure]]);
    expect(asText(child(children(response, Tag.BatchItem)[0], Tag.ResultMessage))).toMatch(/usage audit/);
    expect(tenants).toEqual(['ten_1']);
    expect(results(await guarded.handle(request([1, 4], [[Operation.Query, []]]), admin))).toEqual([[ResultStatus.Success, undefined]]);
  });
});
