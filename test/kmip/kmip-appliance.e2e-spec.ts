import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate } from '@keyward/crypto';
import {
  asBytes,
  asEnum,
  asText,
  child,
  children,
  CryptographicAlgorithm,
  CryptographicUsageMask,
  encodeTtlv,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  State,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { KeywardStack } from '../support/keyward-stack';
import { freePort } from '../support/ports';
import { readUsage } from '../support/usage-topic';
import { KmipService } from './kmip-service';
import { TtlvClient } from './ttlv-client';

jest.setTimeout(300_000);

type Result = [number | undefined, number | undefined];
const resultsOf = (response: TtlvItem | null): Result[] =>
  children(response ?? undefined, Tag.BatchItem).map((i) => [asEnum(child(i, Tag.ResultStatus)), asEnum(child(i, Tag.ResultReason))]);
const payloadOf = (response: TtlvItem | null, at = 0): TtlvItem | undefined =>
  child(children(response ?? undefined, Tag.BatchItem)[at], Tag.ResponsePayload);
const uidOf = (response: TtlvItem | null): string => asText(child(payloadOf(response), Tag.UniqueIdentifier)) ?? '';
const uid = (id: string): TtlvItem => ttlv.text(Tag.UniqueIdentifier, id);
const attribute = (name: string, value: TtlvItem): TtlvItem =>
  ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue }]);
const createPayload = (...extra: TtlvItem[]): TtlvItem[] => [
  ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
  ttlv.struct(Tag.TemplateAttribute, [
    attribute('Cryptographic Algorithm', ttlv.enum(0, CryptographicAlgorithm.AES)),
    attribute('Cryptographic Length', ttlv.int(0, 256)),
    attribute(
      'Cryptographic Usage Mask',
      ttlv.int(0, CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt | CryptographicUsageMask.Export),
    ),
    ...extra,
  ]),
];
const revokePayload = (id: string, code = 6): TtlvItem[] => [
  uid(id),
  ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, code)]),
];
const OK: Result = [ResultStatus.Success, undefined];

/**
 * Issue 17: an appliance (storage array, tape library) runs its whole key lifecycle over KMIP with
 * ONE kmip-client identity, on the keys it owns and nothing else of the tenant; Destroy follows the
 * tenant's kmipDestroy policy; attributes are kept; Batch Undo undoes. Real kmip service, key-api,
 * Kafka and FerretDB.
 */
describe('KMIP appliance identity (kmip-client)', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let ca: string;
  let tenant: { tenantId: string; adminKey: string };
  let other: { tenantId: string; adminKey: string };
  let array: { principalId: string; apiKey: string; cert: [string, string] };
  let tape: { principalId: string; apiKey: string; cert: [string, string] };
  let foreign: { principalId: string; apiKey: string; cert: [string, string] };

  const appliance = async (of: { tenantId: string; adminKey: string }, name: string) => {
    const made = await stack.principalWithId(of.adminKey, 'kmip-client', name);
    const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-app-'));
    const issued = await issueClientCertificate({
      subject: `CN=${made.principalId}, O=${of.tenantId}`,
      days: 1,
      ca: { dir: join(stack.dataDir, 'tls') },
    });
    const cert: [string, string] = [join(dir, 'c.crt'), join(dir, 'c.key')];
    writeFileSync(cert[0], issued.certPem);
    writeFileSync(cert[1], issued.keyPem, { mode: 0o600 });
    const bound = await stack.call(of.adminKey, 'PUT', `/v1/principals/${made.principalId}/certificate`, {
      fingerprint: issued.fingerprint,
    });
    expect(bound.status).toBe(200);
    return { ...made, cert };
  };
  const send = async (who: { cert: [string, string] }, items: [number, TtlvItem[]][], version: [number, number] = [1, 4]) => {
    const c = await TtlvClient.open(kmip.port, ca, who.cert);
    try {
      return await c.request(version, items);
    } finally {
      c.close();
    }
  };
  /** A batch with a Batch Error Continuation Option (3: Undo). */
  const sendBatch = async (who: { cert: [string, string] }, option: number, items: [number, TtlvItem[]][]) => {
    const c = await TtlvClient.open(kmip.port, ca, who.cert);
    try {
      return await c.send(
        encodeTtlv(
          ttlv.struct(Tag.RequestMessage, [
            ttlv.struct(Tag.RequestHeader, [
              ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, 1), ttlv.int(Tag.ProtocolVersionMinor, 4)]),
              ttlv.enum(Tag.BatchErrorContinuationOption, option),
              ttlv.int(Tag.BatchCount, items.length),
            ]),
            ...items.map(([op, payload]) =>
              ttlv.struct(Tag.BatchItem, [ttlv.enum(Tag.Operation, op), ttlv.struct(Tag.RequestPayload, payload)]),
            ),
          ]),
        ),
      );
    } finally {
      c.close();
    }
  };
  const keyView = (id: string) => stack.call(tenant.adminKey, 'GET', `/v1/keys/${id}`);

  beforeAll(async () => {
    await stack.start();
    kmip = await KmipService.start(stack.env, await freePort());
    ca = join(stack.dataDir, 'tls', 'ca.crt');
    tenant = await stack.onboard('Storage Array Co');
    other = await stack.onboard('Other Tenant');
    array = await appliance(tenant, 'array-7');
    tape = await appliance(tenant, 'tape-2');
    foreign = await appliance(other, 'array-x');
  });
  afterAll(async () => {
    await kmip.stop();
    await stack.stop();
  });

  it('runs create → activate → get → encrypt → revoke → destroy with one identity; events name it; usage is audited', async () => {
    const created = await send(array, [[Operation.Create, createPayload()]]);
    expect(resultsOf(created)).toEqual([OK]);
    const id = uidOf(created);
    expect(resultsOf(await send(array, [[Operation.Activate, [uid(id)]]]))).toEqual([OK]);
    const got = await send(array, [[Operation.Get, [uid(id)]]]);
    expect(resultsOf(got)).toEqual([OK]);
    const material = asBytes(child(child(child(child(payloadOf(got), Tag.SymmetricKey), Tag.KeyBlock), Tag.KeyValue), Tag.KeyMaterial));
    expect(material).toHaveLength(32);
    const encrypted = await send(array, [[Operation.Encrypt, [uid(id), ttlv.bytes(Tag.Data, Buffer.from('volume 7 block 0'))]]]);
    expect(resultsOf(encrypted)).toEqual([OK]);
    expect(resultsOf(await send(array, [[Operation.Revoke, revokePayload(id)]]))).toEqual([OK]);
    // The tenant's default kmipDestroy policy is pending: unusable at once, reported to KMIP as destroyed.
    expect(resultsOf(await send(array, [[Operation.Destroy, [uid(id)]]]))).toEqual([OK]);
    const state = await send(array, [[Operation.GetAttributes, [uid(id), ttlv.text(Tag.AttributeName, 'State')]]]);
    expect(asEnum(child(child(payloadOf(state), Tag.Attribute), Tag.AttributeValue))).toBe(State.Destroyed);
    const decrypt = [uid(id), ttlv.bytes(Tag.Data, Buffer.alloc(16)), ttlv.bytes(Tag.IvCounterNonce, Buffer.alloc(12))];
    expect(resultsOf(await send(array, [[Operation.Decrypt, decrypt]]))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.IllegalOperation],
    ]);

    // Over REST: the owner, the pending destruction, and every state change by the appliance.
    await stack.api.waitFor(async () => (await keyView(id)).json<{ useSuspended?: boolean }>().useSuspended === true, 30_000);
    const view = (await keyView(id)).json<{
      owner: string;
      history: { actor: { principalId: string; role: string } }[];
      destroyAfter: string;
    }>();
    expect(view.owner).toBe(array.principalId);
    expect(view.destroyAfter).not.toBeNull();
    expect(view.history.every((h) => h.actor.principalId === array.principalId && h.actor.role === 'kmip-client')).toBe(true);
    // The commits carry the appliance as actor and owner (the log, not a view, is the record).
    const commits = await stack.db
      .collection<{ events: { type: string; actor: { principalId: string }; data: { keyId?: string; owner?: string } }[] }>('commits')
      .find({ tenantId: tenant.tenantId })
      .toArray();
    const events = commits.flatMap((c) => c.events).filter((e) => e.data.keyId === id);
    expect(events.map((e) => e.type)).toEqual(['key.created.v1', 'key.activated.v1', 'key.deactivated.v1', 'key.destruction-scheduled.v1']);
    expect(events[0]?.data.owner).toBe(array.principalId);
    expect(new Set(events.map((e) => e.actor.principalId))).toEqual(new Set([array.principalId]));
    // Every use is in the usage audit, by the appliance (the refused Decrypt included).
    let usage: Awaited<ReturnType<typeof readUsage>> = [];
    await stack.api.waitFor(async () => {
      usage = (await readUsage(stack.env.KAFKA_TOPIC_USAGE!, 3)).filter((r) => r.principalId === array.principalId && r.keyId === id);
      return usage.length >= 3;
    }, 60_000);
    expect(usage.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['decrypt:key-destroyed', 'encrypt:ok', 'export:ok']);
    expect(usage.every((r) => r.role === 'kmip-client' && r.tenantId === tenant.tenantId)).toBe(true);
  });

  it("the keys it does not own do not exist for it (Item Not Found, as another tenant's); Locate shows only its own", async () => {
    const mine = uidOf(await send(array, [[Operation.Create, createPayload()]]));
    const adminKey = (await stack.call(tenant.adminKey, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key
      .keyId;
    for (const [op, payload] of [
      [Operation.Get, [uid(mine)]],
      [Operation.Activate, [uid(mine)]],
      [Operation.GetAttributes, [uid(mine)]],
      [Operation.Destroy, [uid(mine)]],
      [Operation.Revoke, revokePayload(mine)],
      [Operation.Encrypt, [uid(adminKey), ttlv.bytes(Tag.Data, Buffer.from('x'))]],
    ] as [number, TtlvItem[]][]) {
      expect(resultsOf(await send(tape, [[op, payload]]))).toEqual([[ResultStatus.OperationFailed, ResultReason.ItemNotFound]]);
    }
    expect(resultsOf(await send(foreign, [[Operation.GetAttributes, [uid(mine)]]]))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.ItemNotFound],
    ]);
    const located = children(payloadOf(await send(array, [[Operation.Locate, []]])), Tag.UniqueIdentifier).map(asText);
    expect(located).toContain(mine);
    expect(located).not.toContain(adminKey);
    // An administrator assigns the key to the tape library over REST: now it may use it.
    const assigned = await stack.call(tenant.adminKey, 'PUT', `/v1/keys/${adminKey}/owner`, { owner: tape.principalId });
    expect(assigned.status).toBe(200);
    expect(assigned.json<{ key: { owner: string } }>().key.owner).toBe(tape.principalId);
    expect(resultsOf(await send(tape, [[Operation.Encrypt, [uid(adminKey), ttlv.bytes(Tag.Data, Buffer.from('x'))]]]))).toEqual([OK]);
    // Only a kmip-client can own keys; only a tenant-admin assigns them.
    const userKey = await stack.principal(tenant.adminKey, 'key-user');
    expect((await stack.call(tenant.adminKey, 'PUT', `/v1/keys/${adminKey}/owner`, { owner: 'prn_nobody000001' })).status).toBe(422);
    expect((await stack.call(userKey, 'PUT', `/v1/keys/${adminKey}/owner`, { owner: array.principalId })).status).toBe(403);
    // The REST API refuses a kmip-client: its bound API key needs the certificate (401), and even an
    // unbound kmip-client's API key is refused by role on every route (403).
    expect((await stack.call(array.apiKey, 'GET', '/v1/keys')).status).toBe(401);
    const unbound = await stack.principalWithId(tenant.adminKey, 'kmip-client');
    expect((await stack.call(unbound.apiKey, 'GET', '/v1/keys')).status).toBe(403);
    expect((await stack.call(unbound.apiKey, 'POST', `/v1/keys/${mine}/encrypt`, { plaintext: 'eA==' })).status).toBe(403);
    expect((await stack.call(unbound.apiKey, 'POST', '/v1/keys', {})).status).toBe(403);
  });

  it('Destroy: never-activated keys at once (shredded); Active refused; immediate-for-owner shreds a revoked key', async () => {
    const fresh = uidOf(await send(array, [[Operation.Create, createPayload()]]));
    expect(await stack.db.collection('keystore').countDocuments({ tenantId: tenant.tenantId, keyId: fresh })).toBe(1);
    expect(resultsOf(await send(array, [[Operation.Destroy, [uid(fresh)]]]))).toEqual([OK]);
    expect(await stack.db.collection('keystore').countDocuments({ tenantId: tenant.tenantId, keyId: fresh })).toBe(0);

    const id = uidOf(await send(array, [[Operation.Create, createPayload()]]));
    expect(resultsOf(await send(array, [[Operation.Activate, [uid(id)]]]))).toEqual([OK]);
    expect(resultsOf(await send(array, [[Operation.Destroy, [uid(id)]]]))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.PermissionDenied],
    ]);
    const policy = await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', { kmipDestroy: 'immediate-for-owner' });
    expect(policy.status).toBe(200);
    expect(resultsOf(await send(array, [[Operation.Revoke, revokePayload(id, 2)]]))).toEqual([OK]);
    // The command is decided on the log caught up with the store: the new policy applies at once.
    expect(resultsOf(await send(array, [[Operation.Destroy, [uid(id)]]]))).toEqual([OK]);
    expect(await stack.db.collection('keystore').countDocuments({ tenantId: tenant.tenantId, keyId: id })).toBe(0);
    await stack.api.waitFor(async () => (await keyView(id)).json<{ state: string }>().state === 'DestroyedCompromised', 30_000);
    expect((await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', { kmipDestroy: 'pending' })).status).toBe(200);
  });

  it('keeps the attributes of a Create, answers them back, finds by them, and changes them as events', async () => {
    const asi = ttlv.struct(0, [ttlv.text(Tag.ApplicationNamespace, 'volume'), ttlv.text(Tag.ApplicationData, 'lun-42')]);
    const created = await send(array, [
      [
        Operation.Create,
        createPayload(
          attribute('Object Group', ttlv.text(0, 'array-7-volumes')),
          attribute('Application Specific Information', asi),
          attribute('x-lun', ttlv.int(0, 42)),
        ),
      ],
    ]);
    const id = uidOf(created);
    const all = payloadOf(await send(array, [[Operation.GetAttributes, [uid(id)]]]));
    const names = children(all, Tag.Attribute).map((a) => asText(child(a, Tag.AttributeName)));
    expect(names).toEqual(
      expect.arrayContaining(['Object Group', 'Application Specific Information', 'x-lun', 'Digest', 'Fresh', 'Original Creation Date']),
    );
    const locate = async (...filters: TtlvItem[]) =>
      children(payloadOf(await send(array, [[Operation.Locate, filters]])), Tag.UniqueIdentifier).map(asText);
    expect(await locate(attribute('Object Group', ttlv.text(0, 'array-7-volumes')))).toEqual([id]);
    expect(
      await locate(attribute('Application Specific Information', ttlv.struct(0, [ttlv.text(Tag.ApplicationNamespace, 'volume')]))),
    ).toEqual([id]);
    expect(resultsOf(await send(array, [[Operation.AddAttribute, [uid(id), attribute('Object Group', ttlv.text(0, 'retired'))]]]))).toEqual(
      [OK],
    );
    expect(await locate(attribute('Object Group', ttlv.text(0, 'retired')))).toEqual([id]);
    await stack.api.waitFor(
      async () => (await keyView(id)).json<{ attributes?: Record<string, unknown[]> }>().attributes?.['Object Group']?.length === 2,
      30_000,
    );
    // Refused with the reason, never dropped.
    expect(resultsOf(await send(array, [[Operation.Create, createPayload(attribute('Lease Time', ttlv.interval(0, 60)))]]))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.InvalidField],
    ]);
  });

  it('Batch Undo: an Activate in a failed batch is undone (nothing committed); a good batch commits', async () => {
    const id = uidOf(await send(array, [[Operation.Create, createPayload()]]));
    const answer = await sendBatch(array, 3, [
      [Operation.Activate, [uid(id)]],
      [Operation.Activate, [uid(id)]],
    ]);
    expect(resultsOf(answer)).toEqual([
      [ResultStatus.OperationUndone, undefined],
      [ResultStatus.OperationFailed, ResultReason.IllegalOperation],
    ]);
    const state = await send(array, [[Operation.GetAttributes, [uid(id), ttlv.text(Tag.AttributeName, 'State')]]]);
    expect(asEnum(child(child(payloadOf(state), Tag.Attribute), Tag.AttributeValue))).toBe(State.PreActive);
    expect(
      resultsOf(
        await sendBatch(array, 3, [
          [Operation.Activate, [uid(id)]],
          [Operation.GetAttributes, [uid(id)]],
        ]),
      ),
    ).toEqual([OK, OK]);
    await stack.api.waitFor(async () => (await keyView(id)).json<{ state: string }>().state === 'Active', 30_000);
  });
});
