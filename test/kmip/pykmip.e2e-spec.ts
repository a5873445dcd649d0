import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate, keyCheckValue } from '@keyward/crypto';
import { uniqueName } from '../support/env';
import { KeywardStack } from '../support/keyward-stack';
import { readUsage } from '../support/usage-topic';
import { freePort } from '../support/ports';
import { opensslVerifies } from '../support/openssl';
import {
  asBytes,
  asEnum,
  asText,
  child,
  children,
  encodeTtlv,
  ItemType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { KmipService } from './kmip-service';
import { requestMessage, TtlvClient } from './ttlv-client';
import { pykmipPython, runScenario } from './pykmip';

jest.setTimeout(900_000);

/** Writes a client certificate and key for `subject`, issued by the stack's development CA. */
async function clientCert(stack: KeywardStack, dir: string, file: string, subject: string): Promise<[string, string]> {
  return (await issuedCert(stack, dir, file, subject)).files;
}

async function issuedCert(
  stack: KeywardStack,
  dir: string,
  file: string,
  subject: string,
): Promise<{ files: [string, string]; fingerprint: string }> {
  const issued = await issueClientCertificate({ subject, days: 1, ca: { dir: join(stack.dataDir, 'tls') } });
  const [cert, key] = [join(dir, `${file}.crt`), join(dir, `${file}.key`)];
  writeFileSync(cert, issued.certPem);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  return { files: [cert, key], fingerprint: issued.fingerprint };
}

/**
 * Creates a principal with the test helper; answers its key and its id (from the views: the one new
 * principal of that role, once the views list the `existing` ones).
 */
async function newPrincipal(stack: KeywardStack, adminKey: string, role: string, existing: number): Promise<[key: string, id: string]> {
  const ids = async (): Promise<string[]> =>
    (await stack.call(adminKey, 'GET', '/v1/principals?limit=100'))
      .json<{ items: { principalId: string; role: string }[] }>()
      .items.filter((p) => p.role === role)
      .map((p) => p.principalId);
  let before: string[] = [];
  await stack.api.waitFor(async () => (before = await ids()).length === existing, 30_000);
  const key = await stack.principal(adminKey, role);
  let id: string | undefined;
  await stack.api.waitFor(async () => (id = (await ids()).find((p) => !before.includes(p))) !== undefined, 30_000);
  return [key, id!];
}

/**
 * Issues a certificate naming the principal (O=<tenant>, CN=<principal>) and binds its SHA-256
 * fingerprint to the principal: KMIP authenticates only by the bound certificate.
 */
async function boundCert(
  stack: KeywardStack,
  adminKey: string,
  dir: string,
  file: string,
  tenantId: string,
  principalId: string,
): Promise<[string, string]> {
  const issued = await issuedCert(stack, dir, file, `CN=${principalId}, O=${tenantId}`);
  const bound = await stack.call(adminKey, 'PUT', `/v1/principals/${principalId}/certificate`, { fingerprint: issued.fingerprint });
  if (bound.status !== 200) throw new Error(`binding ${principalId}: ${bound.status} ${bound.body}`);
  return issued.files;
}

describe('KMIP interoperability: PyKMIP ProxyKmipClient against the kmip service', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let python: string | null;
  let tenant: { tenantId: string; adminKey: string };
  let adminId: string;
  let userId: string;
  let admin: [string, string];
  let user: [string, string];
  let stranger: [string, string];
  let name: string;
  let ca: string;
  let dir: string;

  beforeAll(async () => {
    python = await pykmipPython();
    await stack.start();
    kmip = await KmipService.start(stack.env, await freePort());
    const onboarded = await stack.onboard(uniqueName('KmipTenant'));
    tenant = { tenantId: onboarded.tenantId, adminKey: onboarded.adminKey };
    // The REST admin stays unbound (its API key works without a certificate); a second admin is the
    // KMIP client. Dual control off first, as with one admin, so the scenarios' REST steps run at once.
    const policy = await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', { dualControl: { quorum: null, operations: [] } });
    expect(policy.status).toBe(200);
    [, adminId] = await newPrincipal(stack, tenant.adminKey, 'tenant-admin', 1);
    [, userId] = await newPrincipal(stack, tenant.adminKey, 'key-user', 0);

    dir = mkdtempSync(join(tmpdir(), 'kw-kmip-'));
    admin = await boundCert(stack, tenant.adminKey, dir, 'admin', tenant.tenantId, adminId);
    user = await boundCert(stack, tenant.adminKey, dir, 'user', tenant.tenantId, userId);
    stranger = await clientCert(stack, dir, 'stranger', `CN=prn_nobody, O=${tenant.tenantId}`);
    name = uniqueName('kmip-key');
    ca = join(stack.dataDir, 'tls', 'ca.crt');
  });

  afterAll(async () => {
    await kmip.stop();
    await stack.stop();
  });

  it('runs create, get_attributes, activate, locate, get, encrypt/decrypt, revoke and destroy, cross-checked over REST and in the log', async () => {
    if (python === null) throw new Error('PyKMIP could not be installed (python3 -m venv and PyPI are needed)');
    const out = await runScenario(python, [
      '127.0.0.1',
      String(kmip.port),
      ca,
      ...admin,
      ...user,
      ...stranger,
      name,
      stack.api.baseUrl,
      tenant.adminKey,
    ]);

    expect(out.discover_versions).toEqual(['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
    expect(out.query_operations).toEqual(
      expect.arrayContaining(['CREATE', 'GET', 'LOCATE', 'ACTIVATE', 'REVOKE', 'DESTROY', 'ENCRYPT', 'DECRYPT']),
    );
    expect(out.create_aes512).toBe('INVALID_FIELD');
    expect(out.state_created).toBe('PRE_ACTIVE');
    expect(out.name).toBe(name);
    expect(out.algorithm).toBe('AES');
    expect(out.length).toBe(256);
    expect(out.attribute_list).toEqual(expect.arrayContaining(['State', 'Name', 'Unique Identifier', 'Initial Date']));
    expect(out.state_activated).toBe('ACTIVE');
    expect(out.activate_again).toBe('ILLEGAL_OPERATION');
    expect(out.locate_name).toEqual([out.uid]);
    expect(out.locate_active_has_both).toBe(true);
    expect(out.locate_type_count).toBe(2);
    expect(out.admin_encrypt).toBe('PERMISSION_DENIED');
    expect(out.admin_get).toBe('PERMISSION_DENIED');
    expect(out.user_create).toBe('PERMISSION_DENIED');
    expect(out.get_length).toBe(32);
    expect(out.get_before_enable).toBe('ILLEGAL_OPERATION');
    expect(out.enable_export).toEqual([200, 422]);
    expect(out.get_not_exportable).toBe('ILLEGAL_OPERATION');
    expect(out.encrypt_matches_local).toBe(true);
    expect(out.encrypt_not_under_subkey).toBe(true);
    expect(out.decrypt_12).toBe(true);
    expect(out.decrypt_roundtrip).toBe(true);
    expect(out.decrypt_wrong_aad).toBe('CRYPTOGRAPHIC_FAILURE');
    expect(out.decrypt_cbc).toBe('INVALID_FIELD'); // CBC is served, but its IV is 16 bytes, not the 12 sent
    expect(out.mac_matches_local).toBe(true);
    expect(out.mac_with_aes_key).toBe('ILLEGAL_OPERATION');
    expect(out.state_revoked).toBe('DEACTIVATED');
    expect(out.state_compromised).toBe('COMPROMISED');
    expect(out.encrypt_after_revoke).toBe('ILLEGAL_OPERATION');
    expect(out.destroy).toBe('ILLEGAL_OPERATION');
    expect(out.get_unknown).toBe('ITEM_NOT_FOUND');
    expect(out.stranger).toBe('AUTHENTICATION_NOT_SUCCESSFUL');

    // The same keys over REST (through the projector's views) and in the tenant's commit log.
    const uid = out.uid as string;
    const uid2 = out.uid2 as string;
    await stack.api.waitFor(async () => {
      const a = await stack.call(tenant.adminKey, 'GET', `/v1/keys/${uid}`);
      const b = await stack.call(tenant.adminKey, 'GET', `/v1/keys/${uid2}`);
      return a.status === 200 && a.json<{ state: string }>().state === 'Deactivated' && b.json<{ state: string }>().state === 'Compromised';
    }, 30_000);
    const rest = (await stack.call(tenant.adminKey, 'GET', `/v1/keys/${uid}`)).json<{
      alias: string;
      keyType: string;
      exportable: boolean;
    }>();
    expect(rest).toMatchObject({ alias: name, keyType: 'AES-256-GCM', exportable: true });

    const commits = await stack.db.collection('commits').find({ tenantId: tenant.tenantId }).sort({ seq: 1 }).toArray();
    const events = commits.flatMap((c) => c.events as { type: string; data: { keyId?: string } }[]);
    const ofKey = events.filter((e) => e.data.keyId === uid).map((e) => e.type);
    expect(ofKey).toEqual(['key.created.v1', 'key.activated.v1', 'key.export-enabled.v1', 'key.deactivated.v1']);
    expect(events.filter((e) => e.data.keyId === uid2).map((e) => e.type)).toEqual([
      'key.created.v1',
      'key.activated.v1',
      'key.compromised.v1',
    ]);

    // The crypto operations are in the usage audit, as over REST: who, which key version, how it ended.
    const usage = (await readUsage(stack.env.KAFKA_TOPIC_USAGE!, 13)).filter((r) => r.principalId === userId);
    expect(usage.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(
      [
        'encrypt:ok',
        'encrypt:ok',
        'decrypt:ok',
        'decrypt:ok',
        'decrypt:authentication-failed',
        'decrypt:kmip-error',
        'encrypt:key-unusable',
        'mac:ok',
        'mac:wrong-usage',
        'export:key-unusable',
        'export:key-unusable',
        'export:ok',
        'export:ok',
      ].sort(),
    );
    expect(usage.every((r) => r.tenantId === tenant.tenantId && r.role === 'key-user')).toBe(true);
    // Parameters are checked against the key (its own Cryptographic Parameters may apply), so even the
    // refused CBC Decrypt (a 12-byte IV) names its key in the record.
    expect(usage.filter((r) => r.keyId === null)).toEqual([]);
    expect(usage.find((r) => r.outcome === 'kmip-error')?.keyId).toBe(out.uid);
  });

  it('runs the rest of the operation set: AES-128/192, register (keys, secret data), wrapped get, locate by dates, attributes, illegal transitions', async () => {
    if (python === null) throw new Error('PyKMIP could not be installed (python3 -m venv and PyPI are needed)');
    const [user2Key, user2Id] = await newPrincipal(stack, tenant.adminKey, 'key-user', 1);
    const user2 = await boundCert(stack, tenant.adminKey, dir, 'user2', tenant.tenantId, user2Id);
    const prefix = uniqueName('kmipops');
    const out = await runScenario(
      python,
      ['127.0.0.1', String(kmip.port), ca, ...admin, ...user2, prefix, stack.api.baseUrl, tenant.adminKey],
      'pykmip-operations.py',
    );

    expect(out.created_lengths).toEqual([128, 192, 256]);
    expect(out.create_aes512).toBe('INVALID_FIELD');
    expect(out.aes_roundtrips).toEqual([true, true]);
    expect(out.register_default_name).toBe('INVALID_FIELD'); // PyKMIP's default name "Symmetric Key" is not a Keyward alias
    expect(out.register_by_user).toBe('PERMISSION_DENIED');
    expect(out.registered_encrypts_like_local).toBe(true);
    expect(out.secret_object_type).toBe('SECRET_DATA');
    expect(out.secret_get_before_enable).toBe('ILLEGAL_OPERATION');
    expect(out.secret_encrypt).toBe('ILLEGAL_OPERATION');
    expect(out.enable_export).toEqual([200, 200]);
    expect(out.secret_get).toEqual(['SecretData', true]);
    expect(out.get_raw_matches).toBe(true);
    expect(out.wrap_nist).toEqual([true, 'ENCRYPT']);
    expect(out.wrap_gcm).toBe(true);
    expect(out.wrap_padding).toBe(true);
    expect(out.wrap_with_secret).toBe('ILLEGAL_OPERATION');
    expect(out.locate_name).toEqual([out.reg]);
    expect(out.locate_secret_type).toEqual([out.secret]);
    expect(out.locate_initial_range_has_all).toBe(true);
    expect(out.locate_initial_range_past).toEqual([]);
    expect(out.locate_activation_range_has_all).toBe(true);
    expect(out.attribute_list_secret).toEqual(expect.arrayContaining(['Object Type', 'State', 'Name', 'Initial Date']));
    expect(out.attribute_list_secret).not.toContain('Cryptographic Algorithm');
    expect(out.locate_renamed).toEqual([out.reg]);
    expect(out.delete_name).toBe('PERMISSION_DENIED');
    expect(out.delete_custom_missing).toBe('ITEM_NOT_FOUND');
    expect(out.modify_state).toBe('PERMISSION_DENIED');
    expect(out.modify_by_user).toBe('PERMISSION_DENIED');
    expect(out.delete_state_20).toBe('ATTRIBUTE_READ_ONLY');
    expect(out.state_compromised).toBe('COMPROMISED');
    expect(out.activate_compromised).toBe('ILLEGAL_OPERATION');
    expect(out.destroy_compromised).toBe('ILLEGAL_OPERATION');
    expect(out.encrypt_compromised).toBe('ILLEGAL_OPERATION');
    expect(out.revoke_again).toBe('ILLEGAL_OPERATION');

    // Over REST: the key types, the renamed alias and the states; in the log: key.create with origin imported.
    const createdIds = out.created as Record<string, string>;
    const reg = out.reg as string;
    const secret = out.secret as string;
    await stack.api.waitFor(async () => {
      const r = await stack.call(tenant.adminKey, 'GET', `/v1/keys/${reg}`);
      return r.status === 200 && r.json<{ state: string }>().state === 'Compromised';
    }, 30_000);
    const rest = async (id: string) =>
      (await stack.call(tenant.adminKey, 'GET', `/v1/keys/${id}`)).json<{ keyType: string; alias: string | null; state: string }>();
    expect((await rest(createdIds['128']!)).keyType).toBe('AES-128-GCM');
    expect((await rest(createdIds['192']!)).keyType).toBe('AES-192-GCM');
    expect((await rest(createdIds['256']!)).keyType).toBe('AES-256-GCM');
    expect(await rest(reg)).toMatchObject({ keyType: 'AES-256-GCM', alias: `${prefix}-renamed`, state: 'Compromised' });
    expect(await rest(secret)).toMatchObject({ keyType: 'SECRET', alias: `${prefix}-secret`, state: 'Active' });

    // Keys created over KMIP are KMIP keys: REST's data plane refuses them (wrong-key-usage, 422); a SECRET refuses
    // to encrypt; an AES-128 key created over REST round-trips over REST and is a 128-bit key over KMIP.
    const plaintext = Buffer.from('over REST').toString('base64');
    // user2 is bound to its certificate: its API key works over mutual TLS presenting it.
    const clientCert = { cert: readFileSync(user2[0], 'utf8'), key: readFileSync(user2[1], 'utf8') };
    const asUser2 = (method: string, path: string, body: unknown) =>
      stack.api.request(method, path, { headers: { authorization: `Bearer ${user2Key}` }, body, clientCert });
    const kmipKeyOverRest = await asUser2('POST', `/v1/keys/${createdIds['192']!}/encrypt`, { plaintext });
    expect(kmipKeyOverRest.status).toBe(422);
    expect(kmipKeyOverRest.json<{ detail: string }>().detail).toContain('used over KMIP only');
    expect((await asUser2('POST', `/v1/keys/${secret}/encrypt`, { plaintext })).status).toBe(422);
    const restKey = await stack.call(tenant.adminKey, 'POST', '/v1/keys', { keyType: 'AES-128-GCM', activate: true });
    expect(restKey.status).toBe(201);
    const restKeyId = restKey.json<{ key: { keyId: string } }>().key.keyId;
    const encrypted = await asUser2('POST', `/v1/keys/${restKeyId}/encrypt`, { plaintext });
    expect(encrypted.status).toBe(200);
    const ciphertext = encrypted.json<{ ciphertext: string }>().ciphertext;
    expect(Buffer.from(ciphertext, 'base64')[3]).toBe(3);
    const decrypted = await asUser2('POST', '/v1/decrypt', { ciphertext });
    expect(decrypted.json<{ plaintext: string }>().plaintext).toBe(plaintext);
    const c = await TtlvClient.open(kmip.port, ca, admin);
    const length = await c.request(
      [1, 4],
      [[Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, restKeyId), ttlv.text(Tag.AttributeName, 'Cryptographic Length')]]],
    );
    c.close();
    expect(child(child(payloadOf(length), Tag.Attribute), Tag.AttributeValue)).toMatchObject({ value: 128 });

    const commits = await stack.db.collection('commits').find({ tenantId: tenant.tenantId }).sort({ seq: 1 }).toArray();
    const events = commits.flatMap((c) => c.events as { type: string; data: Record<string, unknown> }[]);
    const material = Buffer.from(out.registered_material_hex as string, 'hex');
    const regCreated = events.find((e) => e.type === 'key.created.v1' && e.data.keyId === reg);
    expect(regCreated?.data).toMatchObject({ keyType: 'AES-256-GCM', origin: 'imported', exportable: true });
    expect((regCreated?.data.version as { kcv: string }).kcv).toBe(keyCheckValue(material));
    expect(events.filter((e) => e.data.keyId === reg).map((e) => e.type)).toEqual([
      'key.created.v1',
      'key.activated.v1',
      'key.export-enabled.v1',
      'key.alias-set.v1',
      'key.compromised.v1',
    ]);
    expect(events.find((e) => e.type === 'key.created.v1' && e.data.keyId === secret)?.data).toMatchObject({
      keyType: 'SECRET',
      origin: 'imported',
    });
    // Issue 23 finding 7: the registered password's check value is keyed by the tenant, not HMAC(password, zeros).
    const passwordKcv = keyCheckValue(Buffer.from('correct horse battery'));
    const secretKcv = (events.find((e) => e.type === 'key.created.v1' && e.data.keyId === secret)?.data.version as { kcv: string }).kcv;
    expect(secretKcv).toMatch(/^t1\.[0-9a-f]{16}$/);
    expect(JSON.stringify([commits, (await stack.call(tenant.adminKey, 'GET', `/v1/keys/${secret}`)).body])).not.toContain(passwordKcv);
    // The imported material is stored wrapped like generated material, and never appears in the log.
    const entry = await stack.db.collection('keystore').findOne({ tenantId: tenant.tenantId, keyId: reg });
    expect(entry).not.toBeNull();
    const everything = JSON.stringify([commits, entry]);
    for (const encoding of ['hex', 'base64'] as const) expect(everything.includes(material.toString(encoding))).toBe(false);

    // Usage audit: exports (raw, wrapped three ways, secret), wrapping-key use, refusals.
    // 13 records of the first test's key-user, then 18 KMIP and 4 REST operations of this one.
    const usage = (await readUsage(stack.env.KAFKA_TOPIC_USAGE!, 13 + 22)).filter((r) => r.principalId === user2Id);
    const count = (what: string): number => usage.filter((r) => `${r.operation}:${r.outcome}` === what).length;
    expect(count('export:ok')).toBe(5);
    expect(usage.filter((r) => r.operation === 'encrypt' && r.keyId === out.kek && r.outcome === 'ok')).toHaveLength(3);
    expect(count('export:key-unusable')).toBe(1);
    expect(count('encrypt:wrong-usage')).toBe(2);
    expect(usage.map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(
      [
        ...Array<string>(3).fill('decrypt:ok'), // two over KMIP (AES-128, AES-192), one over REST
        ...Array<string>(7).fill('encrypt:ok'), // two round trips, the registered key, the KEK three times, REST
        'encrypt:key-unusable', // the Compromised key
        'encrypt:wrong-key-usage', // REST encrypt with the SECRET
        'encrypt:wrong-key-usage', // REST encrypt with a key created over KMIP
        'encrypt:wrong-usage', // KMIP encrypt with the SECRET
        'encrypt:wrong-usage', // the SECRET named as wrapping key...
        'export:wrong-usage', // ...fails that Get
        'export:key-unusable', // the SECRET before export was enabled
        ...Array<string>(5).fill('export:ok'), // raw, NIST, GCM, padded, the secret
      ].sort(),
    );
  });

  it('serves /health/live, /health/ready and /metrics on its HTTP port', async () => {
    expect((await fetch(`${kmip.httpUrl}/health/live`)).status).toBe(200);
    const ready = await fetch(`${kmip.httpUrl}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ok', info: { keystore: { status: 'up' }, kmip: { status: 'up' } } });
    const metrics = await (await fetch(`${kmip.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/keyward_kmip_operations_total\{operation="Get",result="Success",service="kmip"\} [1-9]/);
    expect(metrics).toMatch(/keyward_kmip_operations_total\{operation="Register",result="Success",service="kmip"\} [1-9]/);
    expect(metrics).toMatch(/keyward_kmip_connections_total\{outcome="accepted",service="kmip"\} [1-9]/);
    expect(metrics).toMatch(/keyward_kmip_open_connections\{service="kmip"\} \d+/);
    expect(metrics).toMatch(/keyward_kmip_operation_duration_seconds_count\{[^}]*operation="Get"[^}]*\} [1-9]/);
  });

  /** Result status and reason of each batch item of a response. */
  const results = (response: TtlvItem | null): [number | undefined, number | undefined][] =>
    children(response ?? undefined, Tag.BatchItem).map((item) => [
      asEnum(child(item, Tag.ResultStatus)),
      asEnum(child(item, Tag.ResultReason)),
    ]);
  const payloadOf = (response: TtlvItem | null, i = 0): TtlvItem | undefined =>
    child(children(response ?? undefined, Tag.BatchItem)[i], Tag.ResponsePayload);
  const discover = (): [number, TtlvItem[]] => [Operation.DiscoverVersions, []];
  /** Opens a connection and sends one Discover Versions; null when refused (handshake or connection closed). */
  const tryDiscover = (cert?: [string, string], caFile = ca): Promise<TtlvItem | null> =>
    TtlvClient.open(kmip.port, caFile, cert)
      .then(async (c) => {
        const answer = await c.request([1, 4], [discover()]);
        c.close();
        return answer;
      })
      .catch(() => null);

  it("runs an appliance's flows with ONE kmip-client identity: create, register, get, encrypt, MAC, locate, revoke, destroy", async () => {
    if (python === null) throw new Error('PyKMIP could not be installed (python3 -m venv and PyPI are needed)');
    const array = await stack.principalWithId(tenant.adminKey, 'kmip-client', uniqueName('array'));
    const other = await stack.principalWithId(tenant.adminKey, 'kmip-client', uniqueName('tape'));
    const arrayCert = await boundCert(stack, tenant.adminKey, dir, 'array', tenant.tenantId, array.principalId);
    const otherCert = await boundCert(stack, tenant.adminKey, dir, 'tape', tenant.tenantId, other.principalId);
    // Appliances retiring a volume shred its key at once (the tenant's choice; the default is a pending destruction).
    const policy = await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', { kmipDestroy: 'immediate-for-owner' });
    expect(policy.status).toBe(200);
    const prefix = uniqueName('appliance');
    const out = await runScenario(
      python,
      ['127.0.0.1', String(kmip.port), ca, ...arrayCert, ...otherCert, prefix, stack.api.baseUrl, tenant.adminKey],
      'pykmip-appliance.py',
    );
    expect(out.state_created).toBe('PRE_ACTIVE');
    expect(out.attribute_list).toEqual(expect.arrayContaining(['Digest', 'Fresh', 'Sensitive', 'Original Creation Date', 'State']));
    expect(out.state_activated).toBe('ACTIVE');
    expect(out.get_length).toBe(32);
    expect(out.encrypt_matches_local).toBe(true);
    expect(out.decrypt_roundtrip).toBe(true);
    expect(out.registered_state).toBe('PRE_ACTIVE');
    expect(out.mac_matches_local).toBe(true);
    expect(out.locate_name).toEqual([out.uid]);
    expect(out.locate_all_own).toHaveLength(3);
    expect(out.other_locate).toEqual([]);
    expect(out.other_get).toBe('ITEM_NOT_FOUND');
    expect(out.other_encrypt).toBe('ITEM_NOT_FOUND');
    expect(out.other_destroy).toBe('ITEM_NOT_FOUND');
    expect(out.destroy_active).toBe('PERMISSION_DENIED');
    expect(out.state_revoked).toBe('DEACTIVATED');
    expect(out.state_destroyed).toBe('DESTROYED');
    expect(out.get_after_destroy).toBe('ILLEGAL_OPERATION');
    expect(out.registered_destroyed).toBe('DESTROYED');
    // Shredded: no keystore entry is left for the destroyed keys; the log names the appliance as owner and actor.
    const uid = out.uid as string;
    expect(await stack.db.collection('keystore').countDocuments({ tenantId: tenant.tenantId, keyId: uid })).toBe(0);
    const commits = await stack.db.collection('commits').find({ tenantId: tenant.tenantId }).toArray();
    const events = commits.flatMap(
      (c) => c.events as { type: string; actor: { principalId: string }; data: { keyId?: string; owner?: string } }[],
    );
    const ofKey = events.filter((e) => e.data.keyId === uid);
    expect(ofKey.map((e) => e.type)).toEqual(['key.created.v1', 'key.activated.v1', 'key.deactivated.v1', 'key.destroyed.v1']);
    expect(ofKey[0]?.data.owner).toBe(array.principalId);
    expect(ofKey.every((e) => e.actor.principalId === array.principalId)).toBe(true);
    const usage = (await readUsage(stack.env.KAFKA_TOPIC_USAGE!, 5)).filter((r) => r.principalId === array.principalId);
    expect(usage.map((r) => r.operation)).toEqual(expect.arrayContaining(['export', 'encrypt', 'decrypt', 'mac']));
    expect((await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', { kmipDestroy: 'pending' })).status).toBe(200);
  });

  it('refuses connections without a certificate, with an untrusted one, and principals of another tenant', async () => {
    expect(await tryDiscover()).toBeNull();
    const rogueCa = mkdtempSync(join(tmpdir(), 'kw-rogue-ca-'));
    const rogue = await issueClientCertificate({ subject: `CN=${adminId}, O=${tenant.tenantId}`, days: 1, ca: { dir: rogueCa } });
    writeFileSync(join(dir, 'rogue.crt'), rogue.certPem);
    writeFileSync(join(dir, 'rogue.key'), rogue.keyPem);
    expect(await tryDiscover([join(dir, 'rogue.crt'), join(dir, 'rogue.key')])).toBeNull();

    // Another tenant: its admin cannot see this tenant's keys, and this tenant's admin id is unknown there.
    const other = await stack.onboard(uniqueName('KmipOther'));
    const crossed = await clientCert(stack, dir, 'crossed', `CN=${adminId}, O=${other.tenantId}`);
    expect(results(await tryDiscover(crossed))).toEqual([[ResultStatus.OperationFailed, ResultReason.AuthenticationNotSuccessful]]);
    let otherAdminId = '';
    await stack.api.waitFor(async () => {
      const items = (await stack.call(other.adminKey, 'GET', '/v1/principals')).json<{ items: { principalId: string }[] }>().items;
      otherAdminId = items[0]?.principalId ?? '';
      return otherAdminId !== '';
    }, 30_000);
    const otherAdmin = await boundCert(stack, other.adminKey, dir, 'other-admin', other.tenantId, otherAdminId);
    const mine = await TtlvClient.open(kmip.port, ca, admin);
    const created = await mine.request([1, 4], [[Operation.Create, createPayload14()]]);
    const uid = asText(child(payloadOf(created), Tag.UniqueIdentifier))!;
    mine.close();
    const theirs = await TtlvClient.open(kmip.port, ca, otherAdmin);
    expect(results(await theirs.request([1, 4], [[Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, uid)]]]))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.ItemNotFound],
    ]);
    expect(results(await theirs.request([1, 4], [[Operation.Locate, []]]))).toEqual([[ResultStatus.Success, undefined]]);
    theirs.close();
  });

  it('answers malformed, oversized and deeply nested messages with an error or a closed connection, and keeps serving', async () => {
    const header = (type: number, length: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeUIntBE(Tag.RequestMessage, 0, 3);
      b.writeUInt8(type, 3);
      b.writeUInt32BE(length, 4);
      return b;
    };
    let nested: TtlvItem = ttlv.int(Tag.BatchCount, 1);
    for (let i = 0; i < 40; i++) nested = ttlv.struct(Tag.RequestMessage, [nested]);
    const cases: Buffer[] = [
      Buffer.concat([header(ItemType.Integer, 4), Buffer.alloc(8)]), // not a structure
      header(ItemType.Structure, 0x7ffffff8), // far beyond KMIP_MAX_MESSAGE_BYTES
      encodeTtlv(nested), // deeper than KMIP_MAX_DEPTH
      Buffer.concat([header(ItemType.Structure, 16), Buffer.from('420069020000000400000001000000ff', 'hex')]), // non-zero padding
      encodeTtlv(ttlv.struct(Tag.RequestMessage, [ttlv.text(Tag.Operation, 'x')])), // well-formed TTLV, not a request
    ];
    for (const bytes of cases) {
      const c = await TtlvClient.open(kmip.port, ca, admin);
      const answer = await c.send(bytes);
      if (answer !== null) expect(results(answer)).toEqual([[ResultStatus.OperationFailed, ResultReason.InvalidMessage]]);
      c.close();
    }
    // A truncated message followed by a hang-up.
    const t = await TtlvClient.open(kmip.port, ca, admin);
    t.socket.write(header(ItemType.Structure, 64));
    t.close();
    expect(results(await tryDiscover(admin))).toEqual([[ResultStatus.Success, undefined]]);

    // 50 pipelined requests in one write are answered in order (the reader is paused while 8 wait).
    const p = await TtlvClient.open(kmip.port, ca, admin);
    p.socket.write(Buffer.concat(Array.from({ length: 50 }, () => encodeTtlv(requestMessage([1, 4], [discover()])))));
    for (let i = 0; i < 50; i++) expect(results(await p.receive())).toEqual([[ResultStatus.Success, undefined]]);
    p.close();
  });

  it('destroys a key once its scheduled destruction is due, shredding its material, and refuses it before', async () => {
    const c = await TtlvClient.open(kmip.port, ca, admin);
    const uid = asText(child(payloadOf(await c.request([1, 4], [[Operation.Create, createPayload14()]])), Tag.UniqueIdentifier))!;
    expect(await stack.db.collection('keystore').countDocuments({ tenantId: tenant.tenantId, keyId: uid })).toBe(1);
    const scheduled = await stack.call(tenant.adminKey, 'POST', `/v1/keys/${uid}/schedule-destruction`, { waitingPeriodDays: 1 });
    expect(scheduled.status).toBe(200);
    expect(results(await c.request([1, 4], [[Operation.Destroy, [ttlv.text(Tag.UniqueIdentifier, uid)]]]))).toEqual([
      [ResultStatus.OperationFailed, ResultReason.IllegalOperation],
    ]);
    c.close();
    // Two days later (a kmip service on a shifted business clock, test runs only), Destroy is allowed.
    const later = await KmipService.start({ ...stack.env, KEYWARD_CLOCK_OFFSET_MS: String(2 * 86_400_000) }, await freePort());
    try {
      const d = await TtlvClient.open(later.port, ca, admin);
      expect(results(await d.request([1, 4], [[Operation.Destroy, [ttlv.text(Tag.UniqueIdentifier, uid)]]]))).toEqual([
        [ResultStatus.Success, undefined],
      ]);
      const attributes = await d.request(
        [1, 4],
        [[Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, uid), ttlv.text(Tag.AttributeName, 'State')]]],
      );
      expect(asEnum(child(child(payloadOf(attributes), Tag.Attribute), Tag.AttributeValue))).toBe(5);
      d.close();
    } finally {
      await later.stop();
    }
    expect(await stack.db.collection('keystore').countDocuments({ tenantId: tenant.tenantId, keyId: uid })).toBe(0);
    await stack.api.waitFor(
      async () => (await stack.call(tenant.adminKey, 'GET', `/v1/keys/${uid}`)).json<{ state: string }>().state === 'Destroyed',
      30_000,
    );
  });

  it('speaks KMIP 2.0 (Attributes structures), batches with ID placeholders, and echoes correlation values', async () => {
    const c = await TtlvClient.open(kmip.port, ca, admin);
    const versions = await c.request(
      [2, 0],
      [
        [
          Operation.DiscoverVersions,
          [ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, 2), ttlv.int(Tag.ProtocolVersionMinor, 0)])],
        ],
      ],
    );
    expect(children(payloadOf(versions), Tag.ProtocolVersion)).toHaveLength(1);
    const create20: TtlvItem[] = [
      ttlv.enum(Tag.ObjectType, 2),
      ttlv.struct(Tag.Attributes, [
        ttlv.enum(Tag.CryptographicAlgorithm, 3),
        ttlv.int(Tag.CryptographicLength, 256),
        ttlv.struct(Tag.Name, [ttlv.text(Tag.NameValue, uniqueName('kmip20')), ttlv.enum(Tag.NameType, 1)]),
      ]),
    ];
    // Create then Activate and Get Attributes on the ID placeholder, in one batch.
    const batch = await c.request(
      [2, 0],
      [
        [Operation.Create, create20],
        [Operation.Activate, []],
        [Operation.GetAttributes, []],
      ],
    );
    expect(results(batch)).toEqual([
      [ResultStatus.Success, undefined],
      [ResultStatus.Success, undefined],
      [ResultStatus.Success, undefined],
    ]);
    const attributes = child(payloadOf(batch, 2), Tag.Attributes);
    expect(asEnum(child(attributes, Tag.State))).toBe(2);
    expect(asEnum(child(attributes, Tag.CryptographicAlgorithm))).toBe(3);
    // Correlation values: the client's is echoed, the server adds its own.
    const message = requestMessage([1, 4], [discover()]);
    const header = child(message, Tag.RequestHeader)!;
    if (header.type === ItemType.Structure) header.value.push(ttlv.text(Tag.ClientCorrelationValue, 'corr-42'));
    const answer = await c.send(encodeTtlv(message));
    expect(asText(child(child(answer ?? undefined, Tag.ResponseHeader), Tag.ClientCorrelationValue))).toBe('corr-42');
    expect(asText(child(child(answer ?? undefined, Tag.ResponseHeader), Tag.ServerCorrelationValue))).toBeDefined();
    // A failing item stops the batch (the default Batch Error Continuation Option is Stop).
    const stopped = await c.request([1, 4], [[Operation.Activate, [ttlv.text(Tag.UniqueIdentifier, 'key_missing')]], discover()]);
    expect(results(stopped)).toEqual([[ResultStatus.OperationFailed, ResultReason.ItemNotFound]]);
    c.close();
  });

  it('runs key pairs through PyKMIP: create, get the public key, sign and verify (openssl agrees), RSA-OAEP, refusals', async () => {
    if (python === null) throw new Error('PyKMIP could not be installed (python3 -m venv and PyPI are needed)');
    const prefix = uniqueName('kmippair');
    const out = await runScenario(python, ['127.0.0.1', String(kmip.port), ca, ...admin, ...user, prefix], 'pykmip-key-pair.py');
    const rsaPrivate = out.rsa_private as string;
    expect(out.rsa_public).toBe(`${rsaPrivate}.public`);
    expect(out.ec_public).toBe(`${out.ec_private as string}.public`);
    expect(out).toMatchObject({
      state_created: 'PRE_ACTIVE',
      state_public: 'ACTIVE',
      create_rsa_1536: 'INVALID_FIELD',
      rsa_1024_sign: 'PERMISSION_DENIED',
      create_by_user: 'PERMISSION_DENIED',
      names_differ: 'INVALID_FIELD',
      sign_pre_active: 'ILLEGAL_OPERATION',
      public_object_type: 'PUBLIC_KEY',
      private_object_type: 'PRIVATE_KEY',
      public_algorithm: 'RSA',
      public_length: 2048,
      rsa_public_type: 'PublicKey',
      rsa_public_format: 'X_509',
      get_private: 'ILLEGAL_OPERATION',
      pkcs1_verify: ['VALID', 'INVALID', 'INVALID'],
      pss_verify: ['VALID', 'INVALID', 'INVALID'],
      ecdsa_verify: ['VALID', 'INVALID', 'INVALID'],
      sign_with_public: 'ILLEGAL_OPERATION',
      ec_sign_rsa_scheme: 'INVALID_FIELD', // Cryptographic Algorithm RSA does not match an EC key
      admin_sign: 'PERMISSION_DENIED',
      oaep_length: 256,
      oaep_roundtrip: true,
      oaep_sha1: 'INVALID_FIELD',
      ec_encrypt: 'ILLEGAL_OPERATION',
      locate_name: [rsaPrivate, `${rsaPrivate}.public`],
      locate_public: [`${rsaPrivate}.public`],
      state_revoked: ['DEACTIVATED', 'DEACTIVATED'],
      sign_after_revoke: 'ILLEGAL_OPERATION',
      verify_after_revoke: 'VALID',
      registered_signature_verifies_locally: true,
      registered_public_matches: true,
      public_alone_served: true,
      public_alone_verify: ['VALID', 'INVALID'],
      public_alone_sign: 'ILLEGAL_OPERATION',
    });

    // openssl, a verifier Keyward did not write, accepts the KMIP signatures with the public keys Get served.
    const hex = (name: string): Buffer => Buffer.from(out[name] as string, 'hex');
    const pem = (der: Buffer): string =>
      createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
    const message = hex('message_hex');
    const rsaPem = pem(hex('rsa_public_der_hex'));
    const work = mkdtempSync(join(tmpdir(), 'kw-kmip-pair-'));
    expect(opensslVerifies(work, rsaPem, 'RSA-PKCS1-SHA256', message, hex('pkcs1_signature_hex'))).toBe(true);
    expect(opensslVerifies(work, rsaPem, 'RSA-PSS-SHA256', message, hex('pss_signature_hex'))).toBe(true);
    expect(opensslVerifies(work, pem(hex('ec_public_der_hex')), 'ECDSA-SHA256', message, hex('ecdsa_signature_hex'))).toBe(true);
    expect(opensslVerifies(work, rsaPem, 'RSA-PKCS1-SHA256', Buffer.from('another message'), hex('pkcs1_signature_hex'))).toBe(false);
    // The same check with pkeyutl over the SHA-256 digest (PKCS#1 v1.5).
    writeFileSync(join(work, 'pub.pem'), rsaPem);
    writeFileSync(join(work, 'digest.bin'), createHash('sha256').update(message).digest());
    writeFileSync(join(work, 'rsa.sig'), hex('pkcs1_signature_hex'));
    const pkeyutl = execFileSync(
      'openssl',
      ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-in', 'digest.bin', '-sigfile', 'rsa.sig', '-pkeyopt', 'digest:sha256'],
      { cwd: work, encoding: 'utf8', input: '' },
    );
    expect(pkeyutl).toMatch(/Signature Verified Successfully/);

    // An RSA-OAEP ciphertext openssl makes with the served public key opens with KMIP Decrypt on the private key.
    writeFileSync(join(work, 'pub.pem'), rsaPem);
    writeFileSync(join(work, 'secret.bin'), 'sealed by openssl');
    execFileSync(
      'openssl',
      [
        'pkeyutl',
        '-encrypt',
        '-pubin',
        '-inkey',
        'pub.pem',
        '-in',
        'secret.bin',
        '-out',
        'secret.enc',
        '-pkeyopt',
        'rsa_padding_mode:oaep',
        '-pkeyopt',
        'rsa_oaep_md:sha256',
        '-pkeyopt',
        'rsa_mgf1_md:sha256',
      ],
      { cwd: work },
    );
    const c = await TtlvClient.open(kmip.port, ca, user);
    const opened = await c.request(
      [1, 4],
      [[Operation.Decrypt, [ttlv.text(Tag.UniqueIdentifier, rsaPrivate), ttlv.bytes(Tag.Data, readFileSync(join(work, 'secret.enc')))]]],
    );
    // A signature openssl makes with another key does not verify with the pair's public key.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = sign('sha256', message, other.privateKey);
    const verified = await c.request(
      [1, 4],
      [
        [
          Operation.SignatureVerify,
          [ttlv.text(Tag.UniqueIdentifier, `${rsaPrivate}.public`), ttlv.bytes(Tag.Data, message), ttlv.bytes(Tag.SignatureData, forged)],
        ],
      ],
    );
    // The Link attributes tie the two objects together (PyKMIP 0.10 cannot decode Link, so read here).
    const links = await c.request(
      [1, 4],
      [
        [Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, `${rsaPrivate}.public`), ttlv.text(Tag.AttributeName, 'Link')]],
        [Operation.GetAttributes, [ttlv.text(Tag.UniqueIdentifier, rsaPrivate), ttlv.text(Tag.AttributeName, 'Link')]],
      ],
    );
    c.close();
    const linkOf = (i: number): [number | undefined, string | undefined] => {
      const value = child(child(payloadOf(links, i), Tag.Attribute), Tag.AttributeValue);
      return [asEnum(child(value, Tag.LinkType)), asText(child(value, Tag.LinkedObjectIdentifier))];
    };
    expect(linkOf(0)).toEqual([0x103, rsaPrivate]); // Private Key Link
    expect(linkOf(1)).toEqual([0x102, `${rsaPrivate}.public`]); // Public Key Link
    expect(asBytes(child(payloadOf(opened), Tag.Data))?.toString()).toBe('sealed by openssl');
    expect(asEnum(child(payloadOf(verified), Tag.ValidityIndicator))).toBe(2);

    // The registered pair: an imported RSA-2048 key whose check value is its public key's digest.
    const commits = await stack.db.collection('commits').find({ tenantId: tenant.tenantId }).toArray();
    const created = commits
      .flatMap((c) => c.events as { type: string; data: Record<string, unknown> }[])
      .find((e) => e.type === 'key.created.v1' && e.data.keyId === out.registered);
    expect(created?.data).toMatchObject({ keyType: 'RSA-2048', origin: 'imported', exportable: false });
    expect((created?.data.version as { kcv: string }).kcv).toMatch(/^pk1\.[0-9a-f]{64}$/);

    // Over REST: one key of type RSA-2048, a KMIP key; its /public-key is the key KMIP served.
    const rest = await stack.call(tenant.adminKey, 'GET', `/v1/keys/${rsaPrivate}`);
    expect(rest.json<{ keyType: string; alias: string }>()).toMatchObject({ keyType: 'RSA-2048', alias: `${prefix}-rsa` });
    const [auditorKey] = await newPrincipal(stack, tenant.adminKey, 'auditor', 0);
    const published = await stack.call(auditorKey, 'GET', `/v1/keys/${rsaPrivate}/public-key`);
    expect(published.status).toBe(200);
    expect(published.json<{ pem: string }>().pem).toBe(rsaPem);
  });
});

function createPayload14(): TtlvItem[] {
  const attribute = (name: string, value: TtlvItem): TtlvItem =>
    ttlv.struct(Tag.Attribute, [ttlv.text(Tag.AttributeName, name), { ...value, tag: Tag.AttributeValue }]);
  return [
    ttlv.enum(Tag.ObjectType, 2),
    ttlv.struct(Tag.TemplateAttribute, [
      attribute('Cryptographic Algorithm', ttlv.enum(0, 3)),
      attribute('Cryptographic Length', ttlv.int(0, 256)),
    ]),
  ];
}
