import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BSON, type Binary } from 'mongodb';
import { unwrapKek, unwrapMaterial } from '@keyward/crypto';
import { testInfra, uniqueName } from '../support/env';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';
import { describeHits, readWholeTopic, SecretSet, type Hit, type TopicMessage } from './support/secret-scan';
import { usageRecordsOf } from '@keyward/keys';

/**
 * Issue 4's acceptance point: a scan of every Kafka message on every topic, every MongoDB document
 * and every log line written while keys are created, rotated and used finds no plaintext key
 * material and no plaintext of the data encrypted. Known markers are planted in every plaintext;
 * the real key material is recovered from the keystore with the root key, by the test itself, so
 * that the scan looks for the actual bytes (raw, hex, base64 and base64url at every alignment).
 *
 * Two key-api instances serve the traffic: the stack's own (LOG_LEVEL=info) and one at
 * LOG_LEVEL=trace, so that nothing leaks at the most verbose level either. All processes are
 * stopped gracefully before the scan, so that every log line and usage record has been written.
 */
jest.setTimeout(300_000);

const MARKER = `KWLEAK-${randomBytes(16).toString('hex')}`;
const MAX_PLAINTEXT = 64 * 1024;

type Op = 'encrypt' | 'decrypt' | 'generate-data-key' | 'rewrap' | 'mac' | 'verify-mac';
const OPS: readonly Op[] = ['encrypt', 'decrypt', 'generate-data-key', 'rewrap', 'mac', 'verify-mac'];
const USAGE_FIELDS = ['at', 'keyId', 'operation', 'outcome', 'principalId', 'requestId', 'role', 'tenantId', 'v', 'version'];

interface KeyAnswer {
  key: { keyId: string; latestVersion: number };
}

describe('leak scan: no plaintext key material or data in Kafka, MongoDB, logs or files', () => {
  const stack = new KeywardStack();
  let traced: ServiceProcess;
  const secrets = new SecretSet();
  /** Successful crypto answers per operation: each must have exactly one `ok` usage record. */
  const okAnswers = new Map<Op, number>(OPS.map((op) => [op, 0]));
  /** Problem slugs of refusals that reached the data plane: each must have a usage record. */
  const refusedSlugs = new Set<string>();
  const keyUsers = new Map<string, string>(); // principalId -> tenantId
  const versionsMade: { tenantId: string; keyId: string; version: number }[] = [];
  const tenants: string[] = [];
  let dataKeyCount = 0;
  /** Answers that legitimately carry a secret: the scanner must find it there (positive controls). */
  const controls: { what: string; body: string; secret: string }[] = [];
  /** One recovered key version, to prove the scanner finds material in every encoding. */
  const sampleMaterial: { label: string; bytes: Buffer }[] = [];
  let plaintextCount = 0;

  const b64 = (bytes: Buffer | string): string => (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64');

  /** A plaintext with the marker at its start, middle and end; registered as a secret in every form. */
  const plantedPlaintext = (label: string, size = 200): Buffer => {
    const filler = randomBytes(Math.max(16, size - 3 * MARKER.length - label.length)).toString('base64');
    const text = `${MARKER}|${label}|${filler.slice(0, filler.length >> 1)}|${MARKER}|${filler.slice(filler.length >> 1)}|${MARKER}`;
    plaintextCount += 1;
    secrets.addText(`plaintext #${plaintextCount} (${label})`, text);
    return Buffer.from(text, 'utf8');
  };

  const call = async (
    api: ServiceProcess,
    key: string,
    method: string,
    path: string,
    body: unknown,
    status: number,
  ): Promise<HttpAnswer> => {
    const answer = await stack.callOn(api, key, method, path, body);
    if (answer.status !== status) {
      throw new Error(`${method} ${path} on ${api.baseUrl}: expected ${status}, got ${answer.status} ${answer.body.slice(0, 400)}`);
    }
    return answer;
  };

  /** A data-plane call; counts what the usage topic must then hold. */
  const use = async (api: ServiceProcess, key: string, op: Op, path: string, body: unknown, status = 200): Promise<HttpAnswer> => {
    const answer = await call(api, key, 'POST', path, body, status);
    if (status === 200) okAnswers.set(op, okAnswers.get(op)! + 1);
    else refusedSlugs.add(answer.json<{ type: string }>().type.replace('urn:keyward:problem:', ''));
    return answer;
  };

  const newKey = async (api: ServiceProcess, admin: string, tenantId: string, keyType: string): Promise<string> => {
    const created = await call(api, admin, 'POST', '/v1/keys', { keyType, activate: true, description: 'leak-scan' }, 201);
    const { keyId, latestVersion } = created.json<KeyAnswer>().key;
    versionsMade.push({ tenantId, keyId, version: latestVersion });
    return keyId;
  };

  /** Every crypto operation, accepted and refused, on one key-api instance for one tenant. */
  async function exercise(api: ServiceProcess, label: string): Promise<{ user: string; aes: string }> {
    const { tenantId, adminKey: admin } = await stack.onboard(uniqueName(`Leak ${label}`));
    tenants.push(tenantId);
    const made = await call(api, admin, 'POST', '/v1/principals', { name: uniqueName('leak-user'), role: 'key-user' }, 201);
    const { principalId, enrollment } = made.json<{ principalId: string; enrollment: { token: string } }>();
    const user = (await stack.enroll(enrollment.token, api)).apiKey;
    keyUsers.set(principalId, tenantId);

    const aes = await newKey(api, admin, tenantId, 'AES-256-GCM');
    const hmac = await newKey(api, admin, tenantId, 'HMAC-SHA256');
    const aad = b64(`aad for ${label}`);

    // encrypt / decrypt, with and without AAD
    const first = plantedPlaintext(`${label} encrypt with aad`);
    const withAad = (await use(api, user, 'encrypt', `/v1/keys/${aes}/encrypt`, { plaintext: b64(first), aad })).json<{
      ciphertext: string;
    }>().ciphertext;
    const opened = await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: withAad, aad });
    expect(opened.json<{ plaintext: string }>().plaintext).toBe(b64(first));
    controls.push({
      what: `decrypt answer (${label})`,
      body: opened.body,
      secret: `plaintext #${plaintextCount} (${label} encrypt with aad)`,
    });
    const second = plantedPlaintext(`${label} encrypt without aad`, 4000);
    const noAad = (await use(api, user, 'encrypt', `/v1/keys/${aes}/encrypt`, { plaintext: b64(second) })).json<{ ciphertext: string }>()
      .ciphertext;
    expect((await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: noAad })).json<{ plaintext: string }>().plaintext).toBe(
      b64(second),
    );

    // data keys, both variants, every size; their plaintexts are secrets too
    for (const bytes of [16, 24, 32] as const) {
      const dk = (await use(api, user, 'generate-data-key', `/v1/keys/${aes}/data-key`, { bytes, aad })).json<{
        plaintext: string;
        ciphertext: string;
      }>();
      const plain = Buffer.from(dk.plaintext, 'base64');
      expect(plain.length).toBe(bytes);
      secrets.addBytes(`data key #${++dataKeyCount} (${label}, ${bytes} bytes)`, plain);
      controls.push({
        what: `data-key answer (${label}, ${bytes})`,
        body: JSON.stringify(dk),
        secret: `data key #${dataKeyCount} (${label}, ${bytes} bytes)`,
      });
      const back = await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: dk.ciphertext, aad });
      expect(back.json<{ plaintext: string }>().plaintext).toBe(dk.plaintext);

      const hidden = (await use(api, user, 'generate-data-key', `/v1/keys/${aes}/data-key/without-plaintext`, { bytes })).json<{
        plaintext?: string;
        ciphertext: string;
      }>();
      expect(hidden.plaintext).toBeUndefined();
      const revealed = Buffer.from(
        (await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: hidden.ciphertext })).json<{ plaintext: string }>().plaintext,
        'base64',
      );
      expect(revealed.length).toBe(bytes);
      secrets.addBytes(`data key #${++dataKeyCount} (${label}, ${bytes} bytes, without plaintext)`, revealed);
    }

    // rotation, then rewrap moves the old ciphertext to the new version
    const rotated = await call(api, admin, 'POST', `/v1/keys/${aes}/rotate`, undefined, 200);
    const v2 = rotated.json<KeyAnswer>().key.latestVersion;
    expect(v2).toBe(2);
    versionsMade.push({ tenantId, keyId: aes, version: v2 });
    const rewrapped = (await use(api, user, 'rewrap', '/v1/rewrap', { ciphertext: withAad, aad })).json<{
      ciphertext: string;
      version: number;
      previousVersion: number;
    }>();
    expect([rewrapped.previousVersion, rewrapped.version]).toEqual([1, 2]);
    expect(
      (await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: rewrapped.ciphertext, aad })).json<{ plaintext: string }>().plaintext,
    ).toBe(b64(first));
    const third = plantedPlaintext(`${label} encrypt after rotation`);
    const afterRotation = (await use(api, user, 'encrypt', `/v1/keys/${aes}/encrypt`, { plaintext: b64(third) })).json<{
      ciphertext: string;
      version: number;
    }>();
    expect(afterRotation.version).toBe(2);

    // MAC and verification (a wrong MAC is a 200 with valid: false)
    const macData = plantedPlaintext(`${label} mac data`);
    const mac = (await use(api, user, 'mac', `/v1/keys/${hmac}/mac`, { data: b64(macData) })).json<{ mac: string }>().mac;
    expect(
      (await use(api, user, 'verify-mac', `/v1/keys/${hmac}/verify-mac`, { data: b64(macData), mac })).json<{ valid: boolean }>().valid,
    ).toBe(true);
    const otherData = plantedPlaintext(`${label} mac other data`);
    expect(
      (await use(api, user, 'verify-mac', `/v1/keys/${hmac}/verify-mac`, { data: b64(otherData), mac })).json<{ valid: boolean }>().valid,
    ).toBe(false);

    // refused calls, each carrying marked data
    const tampered = Buffer.from(withAad, 'base64');
    const flip = tampered.length - 20;
    tampered.writeUInt8(tampered.readUInt8(flip) ^ 0x01, flip);
    await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: b64(tampered), aad }, 422);
    await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: withAad, aad: b64('the wrong aad') }, 422);
    await use(api, user, 'rewrap', '/v1/rewrap', { ciphertext: withAad, aad: b64(`${MARKER} wrong aad`) }, 422);
    // "ciphertexts" that are really marked plaintext: malformed, and nothing of them may be echoed into a log
    await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: b64(plantedPlaintext(`${label} fake ciphertext`)) }, 400);
    await use(
      api,
      user,
      'verify-mac',
      `/v1/keys/${hmac}/verify-mac`,
      { data: b64(macData), mac: b64(plantedPlaintext(`${label} fake mac`)) },
      400,
    );
    // the wrong kind of key
    await use(api, user, 'encrypt', `/v1/keys/${hmac}/encrypt`, { plaintext: b64(plantedPlaintext(`${label} encrypt with hmac`)) }, 422);
    await use(api, user, 'mac', `/v1/keys/${aes}/mac`, { data: b64(plantedPlaintext(`${label} mac with aes`)) }, 422);
    // unknown key
    await use(
      api,
      user,
      'encrypt',
      '/v1/keys/key_doesnotexist0000000000/encrypt',
      { plaintext: b64(plantedPlaintext(`${label} unknown key`)) },
      404,
    );
    // refused before the data plane: too large, not base64, not a key-user, not authenticated
    const oversized = Buffer.concat([plantedPlaintext(`${label} oversized`), randomBytes(MAX_PLAINTEXT)]);
    await call(api, user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64(oversized) }, 413);
    const notBase64 = `${MARKER} is not base64 ${label}!`;
    secrets.addText(`non-base64 plaintext (${label})`, notBase64);
    await call(api, user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: notBase64 }, 400);
    await call(api, admin, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64(plantedPlaintext(`${label} as admin`)) }, 403);
    await call(
      api,
      'kw_not_a_real_key',
      'POST',
      `/v1/keys/${aes}/encrypt`,
      { plaintext: b64(plantedPlaintext(`${label} unauthenticated`)) },
      401,
    );

    // lifecycle around use: a deactivated key still decrypts; a compromised one only when the policy allows it
    const retiring = await newKey(api, admin, tenantId, 'AES-256-GCM');
    const retiringPlain = plantedPlaintext(`${label} deactivated key`);
    const retiringCt = (await use(api, user, 'encrypt', `/v1/keys/${retiring}/encrypt`, { plaintext: b64(retiringPlain) })).json<{
      ciphertext: string;
    }>().ciphertext;
    await call(api, admin, 'POST', `/v1/keys/${retiring}/deactivate`, undefined, 200);
    await use(
      api,
      user,
      'encrypt',
      `/v1/keys/${retiring}/encrypt`,
      { plaintext: b64(plantedPlaintext(`${label} after deactivation`)) },
      409,
    );
    expect((await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: retiringCt })).json<{ plaintext: string }>().plaintext).toBe(
      b64(retiringPlain),
    );
    await call(api, admin, 'POST', `/v1/keys/${retiring}/compromise`, { reason: `leak-scan ${label}` }, 200);
    await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: retiringCt }, 409);
    await call(api, admin, 'PUT', '/v1/tenant/policy', { allowCompromisedDecrypt: true }, 200);
    expect((await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext: retiringCt })).json<{ plaintext: string }>().plaintext).toBe(
      b64(retiringPlain),
    );
    return { user, aes };
  }

  /** A round trip of marked data through another instance. */
  async function roundTrip(api: ServiceProcess, user: string, aes: string, label: string): Promise<void> {
    const plain = plantedPlaintext(label);
    const { ciphertext } = (await use(api, user, 'encrypt', `/v1/keys/${aes}/encrypt`, { plaintext: b64(plain) })).json<{
      ciphertext: string;
    }>();
    expect((await use(api, user, 'decrypt', '/v1/decrypt', { ciphertext })).json<{ plaintext: string }>().plaintext).toBe(b64(plain));
  }

  /**
   * The root key's own ways in: an instance given it in ROOT_KEY (env), and one started sealed
   * (refusing crypto) and unsealed over HTTP, after a wrong candidate; and an unseal attempt with
   * the real root key on an instance that is already unsealed.
   */
  async function rootKeyPaths(user: string, aes: string): Promise<void> {
    const rootKey = stack.rootKey().toString('base64');
    const fromEnv = await stack.startApi({ ROOT_KEY: rootKey, LOG_LEVEL: 'trace' });
    extraApis.push(['key-api (ROOT_KEY env, trace)', fromEnv]);
    await roundTrip(fromEnv, user, aes, 'root key from env');

    const sealed = await stack.startApi({ ROOT_KEY_GENERATE: 'off', LOG_LEVEL: 'trace' });
    extraApis.push(['key-api (sealed, then unsealed over HTTP, trace)', sealed]);
    // Refused at authentication: while sealed no credential can be verified (its MAC needs the root key),
    // so the request never reaches the data plane and leaves no usage record.
    await call(sealed, user, 'POST', `/v1/keys/${aes}/encrypt`, { plaintext: b64(plantedPlaintext('while sealed')) }, 503);
    const wrong = randomBytes(32);
    secrets.addBytes('a wrong root key candidate', wrong);
    const refused = await stack.callOn(sealed, stack.providerKey, 'POST', '/v1/sys/unseal', { rootKey: wrong.toString('base64') });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    await call(sealed, stack.providerKey, 'POST', '/v1/sys/unseal', { rootKey }, 200);
    await roundTrip(sealed, user, aes, 'after unsealing over HTTP');
    await call(traced, stack.providerKey, 'POST', '/v1/sys/unseal', { rootKey }, 409);
  }

  /** Recovers every tenant KEK and every key version's material from the keystore with the root key. */
  async function recoverKeyMaterial(): Promise<{ keks: number; materials: number }> {
    const rootKey = stack.rootKey();
    secrets.addBytes('root key', rootKey);
    const keystore = stack.db.collection('keystore');
    const keks = new Map<string, Buffer>();
    for (const doc of await keystore.find({ kind: 'kek' }).toArray()) {
      const tenantId = doc.tenantId as string;
      const kek = unwrapKek(rootKey, tenantId, Buffer.from((doc.sealed as Binary).buffer));
      keks.set(tenantId, kek);
      secrets.addBytes(`KEK of ${tenantId}`, kek);
    }
    let materials = 0;
    for (const doc of await keystore.find({ kind: 'material' }).toArray()) {
      const ref = { tenantId: doc.tenantId as string, keyId: doc.keyId as string, version: doc.version as number };
      const kek = keks.get(ref.tenantId);
      if (!kek) throw new Error(`material ${String(doc._id)} has no KEK in the keystore`);
      const material = unwrapMaterial(kek, ref, Buffer.from((doc.sealed as Binary).buffer));
      secrets.addBytes(`material ${ref.keyId} v${ref.version}`, material);
      if (sampleMaterial.length === 0) sampleMaterial.push({ label: `material ${ref.keyId} v${ref.version}`, bytes: material });
      materials += 1;
    }
    return { keks: keks.size, materials };
  }

  let recovered: { keks: number; materials: number };
  /** Instances started for the root-key paths, stopped and scanned like the others. */
  const extraApis: [string, ServiceProcess][] = [];
  const topics: Record<'events' | 'usage', TopicMessage[]> = { events: [], usage: [] };

  beforeAll(async () => {
    await stack.start();
    traced = await stack.startApi({ LOG_LEVEL: 'trace' });
    secrets.addText('marker', MARKER);
    const { user, aes } = await exercise(stack.api, 'info');
    await exercise(traced, 'trace');
    await rootKeyPaths(user, aes);
    // Graceful stops flush the usage records and write the last log lines; the database stays.
    await Promise.all([traced.stop(), stack.api.stop(), ...extraApis.map(([, api]) => api.stop())]);
    await stack.projector.stop();
    recovered = await recoverKeyMaterial();
    const brokers = testInfra().brokers;
    topics.events = await readWholeTopic(brokers, stack.env.KAFKA_TOPIC_EVENTS!);
    topics.usage = await readWholeTopic(brokers, stack.env.KAFKA_TOPIC_USAGE!);
  });
  afterAll(async () => {
    await Promise.all(extraApis.map(([, api]) => api.stop()));
    await (traced as ServiceProcess | undefined)?.stop();
    await stack.stop();
  });

  it('knows the secrets it looks for: the marker, every plaintext, every data key, the root key, every KEK and every key version', () => {
    // positive controls: the scanner finds secrets where they legitimately are
    expect(secrets.find('root.key', readFileSync(join(stack.dataDir, 'root.key'))).map((h) => h.secret)).toContain('root key');
    expect(controls.length).toBeGreaterThan(0);
    for (const { what, body, secret } of controls)
      expect({ what, found: secrets.find(what, body).map((h) => h.secret) }).toEqual({
        what,
        found: expect.arrayContaining([secret]) as string[],
      });
    // ...in every encoding, at every alignment, whatever surrounds it
    for (const { label, bytes } of [{ label: 'marker', bytes: Buffer.from(MARKER) }, ...sampleMaterial]) {
      for (let offset = 0; offset < 3; offset++) {
        const embedded = Buffer.concat([randomBytes(offset + 5), bytes, randomBytes(7)]);
        for (const text of [
          embedded.toString('base64'),
          embedded.toString('base64url'),
          embedded.toString('hex'),
          embedded.toString('hex').toUpperCase(),
        ]) {
          expect({ label, offset, found: secrets.find('control', `{"field":"${text}"}`).map((h) => h.secret) }).toEqual({
            label,
            offset,
            found: expect.arrayContaining([label]) as string[],
          });
        }
        expect(secrets.find('control', embedded).map((h) => h.secret)).toContain(label);
      }
    }

    expect(recovered.keks).toBe(tenants.length);
    // every version made is in the keystore (nothing was destroyed), and was recovered
    expect(recovered.materials).toBe(versionsMade.length);
    for (const v of versionsMade) expect(secrets.secrets).toContain(`material ${v.keyId} v${v.version}`);
    expect(dataKeyCount).toBe(12);
    expect(secrets.size).toBe(1 + plaintextCount + 2 + dataKeyCount + 1 + 1 + recovered.keks + recovered.materials);
  });

  it('no Kafka message of the stack (events and usage topics, every partition, from offset 0) holds a secret', () => {
    expect(topics.events.length).toBeGreaterThan(10);
    expect(topics.usage.flatMap((m) => usageRecordsOf(m.value)).length).toBeGreaterThan(10);
    const hits: Hit[] = [];
    for (const m of [...topics.events, ...topics.usage]) {
      const where = `topic ${m.topic} partition ${m.partition} offset ${m.offset}`;
      if (m.key) hits.push(...secrets.find(`${where} key`, m.key));
      if (m.value) hits.push(...secrets.find(`${where} value`, m.value));
      for (const [name, value] of Object.entries(m.headers ?? {})) {
        for (const v of [value].flat()) if (v !== undefined) hits.push(...secrets.find(`${where} header ${name}`, Buffer.from(v)));
      }
    }
    if (hits.length > 0) throw new Error(`secrets found in Kafka:\n${describeHits(hits)}`);
  });

  it('no MongoDB document of the stack (every collection, as raw BSON and as canonical EJSON) holds a secret', async () => {
    const collections = (await stack.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    expect(collections).toEqual(expect.arrayContaining(['commits', 'keystore']));
    const hits: Hit[] = [];
    let documents = 0;
    for (const name of collections) {
      const raw = (await stack.db.collection(name).find({}, { raw: true }).toArray()) as unknown as Buffer[];
      for (const bytes of raw) {
        documents += 1;
        const doc = BSON.deserialize(bytes);
        const where = `collection ${name} _id ${BSON.EJSON.stringify(doc._id)}`;
        hits.push(...secrets.find(`${where} (BSON)`, Buffer.from(bytes)));
        hits.push(...secrets.find(`${where} (EJSON)`, BSON.EJSON.stringify(doc, { relaxed: false })));
      }
    }
    expect(documents).toBeGreaterThan(50);
    if (hits.length > 0) throw new Error(`secrets found in MongoDB (${collections.join(', ')}):\n${describeHits(hits)}`);
  });

  it('no log line of any key-api (info, trace, root key from env, unsealed over HTTP) or the projector holds a secret', () => {
    const hits: Hit[] = [];
    let lines = 0;
    const processes: [string, ServiceProcess][] = [
      ['key-api (info)', stack.api],
      ['key-api (trace)', traced],
      ...extraApis,
      ['projector', stack.projector],
    ];
    expect(processes).toHaveLength(5);
    for (const [name, process] of processes) {
      const log = process.log.split('\n');
      lines += log.length;
      log.forEach((line, i) => hits.push(...secrets.find(`${name} log line ${i + 1}`, line)));
    }
    expect(lines).toBeGreaterThan(100);
    // the trace instance did log the requests it served (so the scan had something to look at)
    expect(traced.log).toContain('/v1/decrypt');
    if (hits.length > 0) throw new Error(`secrets found in logs:\n${describeHits(hits)}`);
  });

  it('no file the services wrote into their data folder holds a secret (the development root key file aside)', () => {
    const hits: Hit[] = [];
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(stack.dataDir);
    for (const path of files) {
      const name = relative(stack.dataDir, path);
      if (name === 'root.key') continue; // the development root key lives there by design
      hits.push(...secrets.find(`file ${name}`, readFileSync(path)));
    }
    expect(files.map((f) => relative(stack.dataDir, f))).toContain('root.key');
    if (hits.length > 0) throw new Error(`secrets found in data files:\n${describeHits(hits)}`);
  });

  it('the usage topic records every crypto operation: principal, key, version, operation and outcome, never data', () => {
    const records = topics.usage.flatMap((m) => usageRecordsOf(m.value) as Record<string, unknown>[]);
    for (const record of records) {
      expect(Object.keys(record).sort()).toEqual(USAGE_FIELDS);
      expect(keyUsers.get(record.principalId as string)).toBe(record.tenantId);
      expect(record.role).toBe('key-user');
    }
    // exactly one `ok` record per successful answer, per operation (none lost at the graceful stop)
    const okRecords = Object.fromEntries(OPS.map((op) => [op, records.filter((r) => r.operation === op && r.outcome === 'ok').length]));
    expect(okRecords).toEqual(Object.fromEntries(okAnswers));
    for (const op of OPS) expect(okAnswers.get(op)).toBeGreaterThan(0);
    // successful records name the key version used
    for (const r of records.filter((r) => r.outcome === 'ok')) {
      expect(r.keyId).toMatch(/^key_/);
      expect(typeof r.version).toBe('number');
    }
    // every refusal that reached the data plane left a record with the problem slug
    const outcomes = new Set(records.map((r) => r.outcome));
    for (const slug of refusedSlugs) expect(outcomes).toContain(slug);
    expect([...refusedSlugs].sort()).toEqual(
      expect.arrayContaining(['authentication-failed', 'key-unusable', 'malformed-ciphertext', 'not-found', 'wrong-key-usage']),
    );
  });
});
