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
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
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

/** The operations of the matrix. Decrypt runs on a ciphertext the tenant-admin's setup made with the key. */
type Op = 'Get' | 'Encrypt' | 'Decrypt' | 'MAC' | 'GetAttributes' | 'Locate';
const OPS: readonly Op[] = ['Get', 'Encrypt', 'Decrypt', 'MAC', 'GetAttributes', 'Locate'];
/**
 * What a matrix cell answers: Success, Item Not Found (as if the key did not exist), Permission
 * Denied, or Illegal Operation (access allowed, the key's type refuses: MAC with an AES key);
 * Locate: listed or not.
 */
type Outcome = 'ok' | 'not-found' | 'denied' | 'illegal' | 'listed' | 'unlisted';

interface Who {
  readonly principalId: string;
  readonly cert: [string, string];
}
interface Sealed {
  readonly data: Buffer;
  readonly iv: Buffer;
  readonly tag: Buffer;
}

const uid = (id: string): TtlvItem => ttlv.text(Tag.UniqueIdentifier, id);
const attribute = (name: string, value: TtlvItem): TtlvItem =>
  ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue }]);
const createPayload = (algorithm: number, bits: number, mask: number): TtlvItem[] => [
  ttlv.enum(Tag.ObjectType, ObjectType.SymmetricKey),
  ttlv.struct(Tag.TemplateAttribute, [
    attribute('Cryptographic Algorithm', ttlv.enum(0, algorithm)),
    attribute('Cryptographic Length', ttlv.int(0, bits)),
    attribute('Cryptographic Usage Mask', ttlv.int(0, mask)),
  ]),
];
const AES_MASK = CryptographicUsageMask.Encrypt | CryptographicUsageMask.Decrypt | CryptographicUsageMask.Export;

/**
 * Issue 18 over KMIP, against the real kmip service, key-api, Kafka and FerretDB: a matrix of
 * principals (key-user with grants, key-user without, kmip-clients, a key-user of an open tenant)
 * x keys x operations (Get, Encrypt, Decrypt, MAC, Locate, Get Attributes). In a grants-required
 * tenant what a grant allows succeeds; a key no grant covers does not exist for the caller (Item
 * Not Found, absent from Locate); a grant that covers the key without the operation is Permission
 * Denied; a revoked grant is refused afterwards; an appliance identity uses the keys it owns, and
 * every other key (another appliance's, an administrator's) does not exist for it: Item Not Found
 * for uses, reads and lifecycle operations alike, exactly as for an id that exists nowhere (the
 * domain's one rule, authorize / requireKnownKey in libs/domain/src/grant/authorize.ts).
 */
describe('KMIP grants matrix (issue 18): principals x keys x operations, real kmip service', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let ca: string;
  /** The grants-required tenant and its principals. */
  let required: { tenantId: string; adminKey: string };
  let admin: Who;
  let user: Who;
  let bare: Who;
  let array: Who;
  let tape: Who;
  /** A key-user of an open tenant, with its tenant-admin. */
  let open: { tenantId: string; adminKey: string };
  let openAdmin: Who;
  let openUser: Who;
  const keys = {} as Record<'aes' | 'hmac' | 'arrayAes' | 'arrayHmac' | 'openAes' | 'openHmac', string>;
  const sealed = {} as Record<string, Sealed>;
  const grants = {} as Record<'aes' | 'hmac', string>;

  async function bound(of: { tenantId: string; adminKey: string }, role: string): Promise<Who> {
    const { principalId } = await stack.principalWithId(of.adminKey, role);
    const issued = await issueClientCertificate({
      subject: `CN=${principalId}, O=${of.tenantId}`,
      days: 1,
      ca: { dir: join(stack.dataDir, 'tls') },
    });
    const answer = await stack.call(of.adminKey, 'PUT', `/v1/principals/${principalId}/certificate`, { fingerprint: issued.fingerprint });
    if (answer.status !== 200) throw new Error(`binding ${principalId}: ${answer.status} ${answer.body}`);
    const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-grants-'));
    const cert: [string, string] = [join(dir, 'c.crt'), join(dir, 'c.key')];
    writeFileSync(cert[0], issued.certPem);
    writeFileSync(cert[1], issued.keyPem, { mode: 0o600 });
    return { principalId, cert };
  }

  /** One request (KMIP 1.4) on a fresh connection: the batch item's status, reason and payload. */
  async function send(who: Who, op: number, payload: TtlvItem[]): Promise<{ status?: number; reason?: number; payload?: TtlvItem }> {
    const client = await TtlvClient.open(kmip.port, ca, who.cert);
    try {
      const item = children((await client.request([1, 4], [[op, payload]])) ?? undefined, Tag.BatchItem)[0];
      return {
        status: asEnum(child(item, Tag.ResultStatus)),
        reason: asEnum(child(item, Tag.ResultReason)),
        payload: child(item, Tag.ResponsePayload),
      };
    } finally {
      client.close();
    }
  }
  async function ok(who: Who, op: number, payload: TtlvItem[]): Promise<TtlvItem | undefined> {
    const answer = await send(who, op, payload);
    if (answer.status !== ResultStatus.Success) throw new Error(`operation ${op}: status ${answer.status}, reason ${answer.reason}`);
    return answer.payload;
  }
  async function createKey(who: Who, algorithm: number, bits: number, mask: number): Promise<string> {
    const id = asText(child(await ok(who, Operation.Create, createPayload(algorithm, bits, mask)), Tag.UniqueIdentifier)) ?? '';
    await ok(who, Operation.Activate, [uid(id)]);
    return id;
  }
  /** Enables export over REST (no dual control in these tenants), once key-api has heard of the KMIP-created key. */
  async function enableExport(adminKey: string, keyId: string): Promise<void> {
    await stack.api.waitFor(async () => (await stack.call(adminKey, 'POST', `/v1/keys/${keyId}/enable-export`, {})).status === 200, 30_000);
  }
  async function seal(who: Who, keyId: string): Promise<Sealed> {
    const out = await ok(who, Operation.Encrypt, [uid(keyId), ttlv.bytes(Tag.Data, Buffer.from('matrix plaintext'))]);
    return {
      data: asBytes(child(out, Tag.Data)) ?? Buffer.alloc(0),
      iv: asBytes(child(out, Tag.IvCounterNonce)) ?? Buffer.alloc(0),
      tag: asBytes(child(out, Tag.AuthenticatedEncryptionTag)) ?? Buffer.alloc(0),
    };
  }

  /** One matrix cell: `who` runs `op` on `keyId`. */
  async function cell(who: Who, op: Op, keyId: string): Promise<Outcome> {
    if (op === 'Locate') {
      const found = children(await ok(who, Operation.Locate, []), Tag.UniqueIdentifier).map(asText);
      return found.includes(keyId) ? 'listed' : 'unlisted';
    }
    const ct = sealed[keyId];
    const payload: Record<Exclude<Op, 'Locate'>, [number, TtlvItem[]]> = {
      Get: [Operation.Get, [uid(keyId)]],
      Encrypt: [Operation.Encrypt, [uid(keyId), ttlv.bytes(Tag.Data, Buffer.from('x'))]],
      Decrypt: [
        Operation.Decrypt,
        ct === undefined
          ? [uid(keyId), ttlv.bytes(Tag.Data, Buffer.alloc(16)), ttlv.bytes(Tag.IvCounterNonce, Buffer.alloc(12))]
          : [
              uid(keyId),
              ttlv.bytes(Tag.Data, ct.data),
              ttlv.bytes(Tag.IvCounterNonce, ct.iv),
              ttlv.bytes(Tag.AuthenticatedEncryptionTag, ct.tag),
            ],
      ],
      MAC: [Operation.Mac, [uid(keyId), ttlv.bytes(Tag.Data, Buffer.from('x'))]],
      GetAttributes: [Operation.GetAttributes, [uid(keyId)]],
    };
    const [code, items] = payload[op];
    const answer = await send(who, code, items);
    if (answer.status === ResultStatus.Success) {
      if (op === 'Decrypt') expect(asBytes(child(answer.payload, Tag.Data))?.toString()).toBe('matrix plaintext');
      return 'ok';
    }
    if (answer.reason === ResultReason.ItemNotFound) return 'not-found';
    if (answer.reason === ResultReason.PermissionDenied) return 'denied';
    if (answer.reason === ResultReason.IllegalOperation) return 'illegal';
    return `reason ${answer.reason}` as Outcome;
  }

  /** Runs a row of the matrix and compares it with the expected outcomes, whole (every mismatch shows at once). */
  async function row(who: Who, keyId: string, expected: Readonly<Record<Op, Outcome>>): Promise<void> {
    const got = {} as Record<Op, Outcome>;
    for (const op of OPS) got[op] = await cell(who, op, keyId);
    expect(got).toEqual(expected);
  }
  /** The lifecycle operations a kmip-client may send on the keys it owns, each on `keyId`, as matrix outcomes. */
  async function lifecycleCells(who: Who, keyId: string): Promise<Record<string, Outcome>> {
    const reason = ttlv.struct(Tag.RevocationReason, [ttlv.enum(Tag.RevocationReasonCode, 6)]);
    const group = attribute('Object Group', ttlv.text(0, 'matrix'));
    const ops: Record<string, [number, TtlvItem[]]> = {
      Activate: [Operation.Activate, [uid(keyId)]],
      Revoke: [Operation.Revoke, [uid(keyId), reason]],
      Destroy: [Operation.Destroy, [uid(keyId)]],
      AddAttribute: [Operation.AddAttribute, [uid(keyId), group]],
    };
    const got: Record<string, Outcome> = {};
    for (const [name, [code, items]] of Object.entries(ops)) {
      const answer = await send(who, code, items);
      got[name] =
        answer.status === ResultStatus.Success
          ? 'ok'
          : answer.reason === ResultReason.ItemNotFound
            ? 'not-found'
            : answer.reason === ResultReason.PermissionDenied
              ? 'denied'
              : (`reason ${answer.reason}` as Outcome);
    }
    return got;
  }
  const LIFECYCLE_NOT_FOUND: Record<string, Outcome> = {
    Activate: 'not-found',
    Revoke: 'not-found',
    Destroy: 'not-found',
    AddAttribute: 'not-found',
  };
  const all = (outcome: 'not-found' | 'denied'): Record<Op, Outcome> => ({
    Get: outcome,
    Encrypt: outcome,
    Decrypt: outcome,
    MAC: outcome,
    GetAttributes: outcome,
    Locate: 'unlisted',
  });

  beforeAll(async () => {
    await stack.start();
    ca = join(stack.dataDir, 'tls', 'ca.crt');
    required = await stack.onboard('Grants Required Co', 'required');
    open = await stack.onboard('Grants Open Co', 'open');
    for (const tenant of [required, open]) {
      const policy = await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', { dualControl: { quorum: 1, operations: [] } });
      if (policy.status !== 200) throw new Error(`policy: ${policy.status} ${policy.body}`);
    }
    admin = await bound(required, 'tenant-admin');
    user = await bound(required, 'key-user');
    bare = await bound(required, 'key-user');
    array = await bound(required, 'kmip-client');
    tape = await bound(required, 'kmip-client');
    openAdmin = await bound(open, 'tenant-admin');
    openUser = await bound(open, 'key-user');
    kmip = await KmipService.start(stack.env, await freePort());

    keys.aes = await createKey(admin, CryptographicAlgorithm.AES, 256, AES_MASK);
    keys.hmac = await createKey(admin, CryptographicAlgorithm.HMAC_SHA256, 256, CryptographicUsageMask.MacGenerate);
    keys.arrayAes = await createKey(array, CryptographicAlgorithm.AES, 256, AES_MASK);
    keys.arrayHmac = await createKey(array, CryptographicAlgorithm.HMAC_SHA256, 256, CryptographicUsageMask.MacGenerate);
    keys.openAes = await createKey(openAdmin, CryptographicAlgorithm.AES, 256, AES_MASK);
    keys.openHmac = await createKey(openAdmin, CryptographicAlgorithm.HMAC_SHA256, 256, CryptographicUsageMask.MacGenerate);
    await enableExport(required.adminKey, keys.aes);
    await enableExport(open.adminKey, keys.openAes);

    // The grants: the AES key for Get, Encrypt, Decrypt and reading it; the HMAC key for MAC only (no read).
    const grant = async (operations: string[], keyId: string): Promise<string> => {
      const answer = await stack.call(required.adminKey, 'POST', '/v1/grants', {
        principalId: user.principalId,
        operations,
        keys: { ids: [keyId] },
      });
      if (answer.status !== 201) throw new Error(`grant: ${answer.status} ${answer.body}`);
      return answer.json<{ grant: { grantId: string } }>().grant.grantId;
    };
    grants.aes = await grant(['encrypt', 'decrypt', 'export', 'read'], keys.aes);
    grants.hmac = await grant(['mac'], keys.hmac);

    // Ciphertexts for Decrypt, each made by a principal allowed to.
    sealed[keys.aes] = await seal(user, keys.aes);
    sealed[keys.arrayAes] = await seal(array, keys.arrayAes);
    sealed[keys.openAes] = await seal(openUser, keys.openAes);
  });

  afterAll(async () => {
    await kmip.stop();
    await stack.stop();
  });

  it('a key-user with grants: what they allow succeeds, the rest of a covered key is Permission Denied, an appliance key does not exist for it', async () => {
    await row(user, keys.aes, { Get: 'ok', Encrypt: 'ok', Decrypt: 'ok', MAC: 'denied', GetAttributes: 'ok', Locate: 'listed' });
    // MAC only: no read, so the key is not listed and its attributes are refused (a grant covers it: 403, not 404).
    await row(user, keys.hmac, {
      Get: 'denied',
      Encrypt: 'denied',
      Decrypt: 'denied',
      MAC: 'ok',
      GetAttributes: 'denied',
      Locate: 'unlisted',
    });
    await row(user, keys.arrayAes, all('not-found'));
    await row(user, keys.arrayHmac, all('not-found'));
    // Every allowed use is audited with the grant that allowed it.
    let usage: Awaited<ReturnType<typeof readUsage>> = [];
    await stack.api.waitFor(async () => {
      usage = (await readUsage(stack.env.KAFKA_TOPIC_USAGE!, 1)).filter((r) => r.principalId === user.principalId && r.outcome === 'ok');
      return ['encrypt', 'decrypt', 'export', 'mac'].every((op) => usage.some((r) => r.operation === op));
    }, 60_000);
    for (const r of usage) expect(r.grantId).toBe(r.keyId === keys.hmac ? grants.hmac : grants.aes);
  });

  it('a key-user without grants: no key of the tenant exists for it, and Locate answers nothing', async () => {
    for (const keyId of Object.values(keys).filter((k) => k !== keys.openAes && k !== keys.openHmac))
      await row(bare, keyId, all('not-found'));
    expect(children(await ok(bare, Operation.Locate, []), Tag.UniqueIdentifier)).toEqual([]);
  });

  it('kmip-clients: each uses and sees the keys it owns; every other key does not exist for it (Item Not Found) and is not located', async () => {
    await row(array, keys.arrayAes, { Get: 'ok', Encrypt: 'ok', Decrypt: 'ok', MAC: 'illegal', GetAttributes: 'ok', Locate: 'listed' });
    expect(await cell(array, 'MAC', keys.arrayHmac)).toBe('ok');
    await row(array, keys.aes, all('not-found'));
    await row(tape, keys.arrayAes, all('not-found'));
    await row(tape, keys.arrayHmac, all('not-found'));
    expect(children(await ok(tape, Operation.Locate, []), Tag.UniqueIdentifier)).toEqual([]);
    // Lifecycle operations answer the same: another appliance's key, an administrator's key and an id
    // that exists nowhere are indistinguishable (and nothing changes).
    const nowhere = 'key_nowhere0000000000';
    for (const [who, keyId] of [
      [tape, keys.arrayAes],
      [array, keys.aes],
      [tape, nowhere],
    ] as const) {
      expect({ keyId, outcomes: await lifecycleCells(who, keyId) }).toEqual({ keyId, outcomes: LIFECYCLE_NOT_FOUND });
    }
    expect(await cell(array, 'Encrypt', keys.arrayAes)).toBe('ok');
  });

  it('a grants-open tenant: a key-user with no grant uses and sees every key, as before grants', async () => {
    await row(openUser, keys.openAes, { Get: 'ok', Encrypt: 'ok', Decrypt: 'ok', MAC: 'illegal', GetAttributes: 'ok', Locate: 'listed' });
    expect(await cell(openUser, 'MAC', keys.openHmac)).toBe('ok');
    expect(await cell(openUser, 'Locate', keys.openHmac)).toBe('listed');
    // Grants never cross tenants: the required tenant's keys do not exist for it.
    await row(openUser, keys.aes, all('not-found'));
  });

  it('a revoked grant: refused afterwards (the key no longer exists for the key-user); the other grant still works', async () => {
    expect(await cell(user, 'Encrypt', keys.aes)).toBe('ok');
    const revoked = await stack.call(required.adminKey, 'DELETE', `/v1/grants/${grants.aes}`);
    expect(revoked.status).toBe(200);
    // The kmip service drops its copy of the tenant log when keyward.events carries the revocation.
    await stack.api.waitFor(async () => (await cell(user, 'Encrypt', keys.aes)) === 'not-found', 30_000);
    await row(user, keys.aes, all('not-found'));
    expect(await cell(user, 'MAC', keys.hmac)).toBe('ok');
    // A new grant applies at once (a refusal is confirmed against the store before it is answered).
    const again = await stack.call(required.adminKey, 'POST', '/v1/grants', {
      principalId: user.principalId,
      operations: ['read'],
      keys: { ids: [keys.aes] },
    });
    expect(again.status).toBe(201);
    expect(await cell(user, 'GetAttributes', keys.aes)).toBe('ok');
    expect(await cell(user, 'Locate', keys.aes)).toBe('listed');
    expect(await cell(user, 'Encrypt', keys.aes)).toBe('denied');
  });
  it("a kmip-client's ownership is a revocable grant: revoked, its own key no longer exists for it; an owned grant narrows it", async () => {
    const standing = `grtown_${array.principalId.slice(array.principalId.indexOf('_') + 1)}`;
    const listed = await stack.call(required.adminKey, 'GET', `/v1/grants?principalId=${array.principalId}`);
    expect(listed.json<{ items: { grantId: string; keys: unknown; operations: string[] }[] }>().items).toEqual([
      expect.objectContaining({ grantId: standing, keys: { owned: true } }),
    ]);
    expect((await stack.call(required.adminKey, 'DELETE', `/v1/grants/${standing}`)).status).toBe(200);
    await stack.api.waitFor(async () => (await cell(array, 'Encrypt', keys.arrayAes)) === 'not-found', 30_000);
    await row(array, keys.arrayAes, all('not-found'));
    expect(await cell(array, 'MAC', keys.arrayHmac)).toBe('not-found');
    // Still the owner (REST shows it); an administrator gives it back less: encrypt, decrypt and read on what it owns.
    expect((await stack.call(required.adminKey, 'GET', `/v1/keys/${keys.arrayAes}`)).json<{ owner: string }>().owner).toBe(
      array.principalId,
    );
    const narrowed = await stack.call(required.adminKey, 'POST', '/v1/grants', {
      principalId: array.principalId,
      operations: ['encrypt', 'decrypt', 'read'],
      keys: { owned: true },
    });
    expect(narrowed.status).toBe(201);
    await row(array, keys.arrayAes, { Get: 'denied', Encrypt: 'ok', Decrypt: 'ok', MAC: 'denied', GetAttributes: 'ok', Locate: 'listed' });
    expect(await cell(array, 'MAC', keys.arrayHmac)).toBe('denied');
    // Still bounded by ownership: the owned grant reaches no key it does not own (it does not exist for it).
    await row(array, keys.aes, all('not-found'));
    expect(await lifecycleCells(array, keys.aes)).toEqual(LIFECYCLE_NOT_FOUND);
  });
});
