import type { Commit } from '@keyward/event-log';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';
import { uniqueName } from '../support/env';

/**
 * Issue 4's acceptance point: after a key is deactivated, compromised or destroyed (or its tenant
 * suspended, or a principal revoked) EVERY key-api instance refuses within 1 s. Commands go to
 * instance A; the refusal is measured on instance B, which only learns of them from keyward.events.
 *
 * B runs with CRYPTO_STATE_TTL_MS=10 min so that its cached key and tenant states never expire on
 * their own during the spec: a refusal within 1 s can only come from the event-stream invalidation,
 * not from a state TTL that happened to run out.
 */
jest.setTimeout(300_000);

const LIMIT_MS = 1_000;
/**
 * Destruction needs Deactivated or Compromised first, so a destroyed key already refused to
 * encrypt: the issue's 1 s holds trivially there (and is checked). What destruction adds is that
 * decrypt must stop too. That commit is made by the scheduler, on whichever instance holds the
 * scheduler lease, usually not the relay-lease holder, so it reaches keyward.events only at the
 * relay holder's next idle poll (250 ms) instead of at once; measured 0.1–1.0 s on a loaded
 * machine. The bound for that extension is therefore looser; the times are printed either way.
 */
const DESTRUCTION_LIMIT_MS = 2_000;
const SAMPLES = 3;
/** Poll B this often; each probe's time is taken when its answer arrives (so latency counts against us). */
const POLL_MS = 20;
/** Give up polling long after the limit, so a failure reports the real time instead of a timeout. */
const GIVE_UP_MS = 10_000;

interface Probe {
  readonly elapsedMs: number;
  readonly answer: HttpAnswer;
  readonly probes: number;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const problemType = (answer: HttpAnswer): string | undefined => {
  try {
    return answer.json<{ type?: string }>().type;
  } catch {
    return undefined;
  }
};
const describeAnswer = (answer: HttpAnswer): string => `${answer.status} ${answer.body.slice(0, 300)}`;

/**
 * Calls `probe` every POLL_MS until it answers `status`; the elapsed time runs from `since`
 * (the moment instance A answered the command) to the arrival of the first refusal. Any answer
 * other than 200 or `status` fails at once: it would mean the probe itself is wrong.
 */
async function pollUntil(since: number, status: number, probe: () => Promise<HttpAnswer>, api: ServiceProcess): Promise<Probe> {
  let probes = 0;
  for (;;) {
    const answer = await probe();
    probes += 1;
    const elapsedMs = Date.now() - since;
    if (answer.status === status) return { elapsedMs, answer, probes };
    if (answer.status !== 200) {
      throw new Error(
        `unexpected answer while waiting for ${status}: ${describeAnswer(answer)}\n${api.name} log tail:\n${api.log.slice(-4000)}`,
      );
    }
    if (elapsedMs > GIVE_UP_MS) throw new Error(`still ${answer.status} after ${elapsedMs} ms (expected ${status} within ${LIMIT_MS} ms)`);
    await sleep(POLL_MS);
  }
}

/** A 200 while the refusal has not arrived yet; anything else fails with the instance's log tail. */
function expectStillOk(answer: HttpAnswer, api: ServiceProcess): void {
  if (answer.status !== 200)
    throw new Error(`unexpected answer: ${describeAnswer(answer)}\n${api.name} log tail:\n${api.log.slice(-4000)}`);
}

/** Fails unless every measured time is below the limit; the message names the worst one and all others. */
function expectWithinLimit(label: string, times: number[], limitMs = LIMIT_MS): void {
  expect(times.length).toBeGreaterThan(0);
  const worst = Math.max(...times);
  const line = `${label}: worst ${worst} ms over ${times.length} samples (${times.map((t) => `${t} ms`).join(', ')}); limit ${limitMs} ms`;
  // Printed so that the measured times are visible when the spec passes, too.
  console.log(line);
  if (worst >= limitMs) throw new Error(`too slow: ${line}`);
}

describe('cache invalidation across two key-api instances (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let b: ServiceProcess;
  let admin: string;
  let user: string;
  let tenantId: string;

  const onA = (key: string, method: string, path: string, body?: unknown) => stack.call(key, method, path, body);
  const onB = (key: string, method: string, path: string, body?: unknown) => stack.callOn(b, key, method, path, body);

  const createKey = async (adminKey = admin): Promise<string> => {
    const created = await onA(adminKey, 'POST', '/v1/keys', { keyType: 'AES-256-GCM', activate: true });
    if (created.status !== 201) throw new Error(`create key: ${describeAnswer(created)}`);
    return created.json<{ key: { keyId: string } }>().key.keyId;
  };

  const encrypt = (api: 'A' | 'B', key: string, keyId: string, text: string) =>
    (api === 'A' ? onA : onB)(key, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64(text) });

  /**
   * Uses a key successfully on both instances, so each has the tenant log, the key state, the
   * tenant KEK and the key's unwrapped material cached. B may learn of a key created on A only
   * from the stream, so it is polled until it knows it. Returns a ciphertext made on B.
   */
  const warm = async (key: string, keyId: string): Promise<string> => {
    const text = `warm ${keyId}`;
    const onAOk = await encrypt('A', key, keyId, text);
    expect(onAOk.status).toBe(200);
    let fromB: HttpAnswer | undefined;
    await b.waitFor(
      async () => {
        fromB = await encrypt('B', key, keyId, text);
        return fromB.status === 200;
      },
      GIVE_UP_MS,
      POLL_MS,
    );
    const ciphertext = fromB!.json<{ ciphertext: string }>().ciphertext;
    // Decrypt on both: B's cache now also holds what decryption needs.
    for (const call of [onA, onB]) {
      const opened = await call(key, 'POST', '/v1/decrypt', { ciphertext });
      expect(opened.status).toBe(200);
      expect(opened.json<{ plaintext: string }>().plaintext).toBe(b64(text));
    }
    // And a second encrypt on B, served from its caches.
    expect((await encrypt('B', key, keyId, text)).status).toBe(200);
    return ciphertext;
  };

  beforeAll(async () => {
    await stack.start();
    b = await stack.startApi({ CRYPTO_STATE_TTL_MS: '600000' });
    const bLive = Date.now();
    ({ adminKey: admin, tenantId } = await stack.onboard(uniqueName('Invalidation')));
    user = await stack.principal(admin, 'key-user');

    // B's keyward.events consumer joins its (private) group a few seconds after start, from the
    // live end: until then it misses invalidations. Throwaway keys are created before B ever reads
    // this tenant (so its first read already knows them all); one round = deactivate one on A and
    // wait for B to refuse it. With B's state TTL at 10 min only the stream can make it refuse, so
    // the first refused round proves B follows the stream.
    const throwaway: string[] = [];
    for (let i = 0; i < 12; i++) throwaway.push(await createKey());
    for (const keyId of throwaway) expect((await encrypt('B', user, keyId, 'warm-up')).status).toBe(200);
    const started = Date.now();
    let joined = false;
    for (const keyId of throwaway) {
      expect((await onA(admin, 'POST', `/v1/keys/${keyId}/deactivate`)).status).toBe(200);
      const since = Date.now();
      for (;;) {
        const answer = await encrypt('B', user, keyId, 'warm-up');
        if (answer.status === 409) {
          joined = true;
          break;
        }
        expectStillOk(answer, b);
        if (Date.now() - since > 5_000) break;
        await sleep(100);
      }
      if (joined) break;
    }
    if (!joined) throw new Error(`instance B did not follow keyward.events within ${Date.now() - started} ms:\n${b.log.slice(-3000)}`);
    console.log(`instance B followed keyward.events at most ${Date.now() - bLive} ms after it answered /health/live`);
  });

  afterAll(async () => {
    await (b as ServiceProcess | undefined)?.stop(); // undefined when beforeAll failed early
    await stack.stop();
  });

  it(`deactivation through A: B refuses to encrypt within ${LIMIT_MS} ms, and still decrypts`, async () => {
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const keyId = await createKey();
      const earlier = await warm(user, keyId);

      const deactivated = await onA(admin, 'POST', `/v1/keys/${keyId}/deactivate`);
      const since = Date.now();
      expect(deactivated.status).toBe(200);
      const refused = await pollUntil(since, 409, () => encrypt('B', user, keyId, 'after deactivation'), b);
      times.push(refused.elapsedMs);
      expect(problemType(refused.answer)).toBe('urn:keyward:problem:key-unusable');

      // Deactivated keys still decrypt, on B as on A.
      for (const call of [onB, onA]) {
        const opened = await call(user, 'POST', '/v1/decrypt', { ciphertext: earlier });
        expect(describeAnswer(opened)).toMatch(/^200 /);
        expect(opened.json<{ plaintext: string }>().plaintext).toBe(b64(`warm ${keyId}`));
      }
      // A (where the command ran) refuses too, and so does every protecting operation on B.
      expect((await encrypt('A', user, keyId, 'x')).status).toBe(409);
      expect((await onB(user, 'POST', `/v1/keys/${keyId}/data-key`, { bytes: 32 })).status).toBe(409);
    }
    expectWithinLimit('deactivate → B refuses encrypt', times);
  });

  it(`compromise through A: B refuses to encrypt and to decrypt within ${LIMIT_MS} ms`, async () => {
    const encryptTimes: number[] = [];
    const decryptTimes: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const keyId = await createKey();
      const earlier = await warm(user, keyId);

      const compromised = await onA(admin, 'POST', `/v1/keys/${keyId}/compromise`, { reason: 'cache-invalidation spec' });
      const since = Date.now();
      expect(compromised.status).toBe(200);
      // Probe decrypt and encrypt alternately: both must flip, each is timed on its own.
      let encryptRefused: Probe | undefined;
      let decryptRefused: Probe | undefined;
      let probes = 0;
      while (!encryptRefused || !decryptRefused) {
        if (!decryptRefused) {
          const answer = await onB(user, 'POST', '/v1/decrypt', { ciphertext: earlier });
          const elapsedMs = Date.now() - since;
          if (answer.status === 409) decryptRefused = { elapsedMs, answer, probes: ++probes };
          else expectStillOk(answer, b);
        }
        if (!encryptRefused) {
          const answer = await encrypt('B', user, keyId, 'after compromise');
          const elapsedMs = Date.now() - since;
          if (answer.status === 409) encryptRefused = { elapsedMs, answer, probes: ++probes };
          else expectStillOk(answer, b);
        }
        if (Date.now() - since > GIVE_UP_MS) throw new Error(`B still uses compromised key ${keyId} after ${GIVE_UP_MS} ms`);
        await sleep(POLL_MS);
      }
      encryptTimes.push(encryptRefused.elapsedMs);
      decryptTimes.push(decryptRefused.elapsedMs);
      expect(problemType(encryptRefused.answer)).toBe('urn:keyward:problem:key-unusable');
      expect(problemType(decryptRefused.answer)).toBe('urn:keyward:problem:key-unusable');
      // And it stays refused (no stale cache coming back), rewrap included.
      expect((await onB(user, 'POST', '/v1/decrypt', { ciphertext: earlier })).status).toBe(409);
      expect((await onB(user, 'POST', '/v1/rewrap', { ciphertext: earlier })).status).toBe(409);
      expect((await onA(user, 'POST', '/v1/decrypt', { ciphertext: earlier })).status).toBe(409);
    }
    expectWithinLimit('compromise → B refuses encrypt', encryptTimes);
    expectWithinLimit('compromise → B refuses decrypt', decryptTimes);
  });

  it(`tenant suspension through A: B refuses every crypto operation with 423 within ${LIMIT_MS} ms`, async () => {
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // One tenant per sample: a suspended tenant stays suspended.
      const tenant = await stack.onboard(uniqueName('Suspended'));
      const tenantUser = await stack.principal(tenant.adminKey, 'key-user');
      const keyId = await createKey(tenant.adminKey);
      const earlier = await warm(tenantUser, keyId);

      const suspended = await onA(stack.providerKey, 'POST', `/v1/tenants/${tenant.tenantId}/suspend`, {
        reason: 'cache-invalidation spec',
      });
      const since = Date.now();
      expect(describeAnswer(suspended)).toMatch(/^200 /);
      const refused = await pollUntil(since, 423, () => encrypt('B', tenantUser, keyId, 'after suspension'), b);
      times.push(refused.elapsedMs);
      expect(problemType(refused.answer)).toBe('urn:keyward:problem:tenant-inactive');
      // Decrypt too, on both instances.
      expect((await onB(tenantUser, 'POST', '/v1/decrypt', { ciphertext: earlier })).status).toBe(423);
      expect((await onA(tenantUser, 'POST', '/v1/decrypt', { ciphertext: earlier })).status).toBe(423);
    }
    expectWithinLimit('tenant suspension → B answers 423', times);
    // The first tenant was not suspended: its keys keep working on B.
    const keyId = await createKey();
    await warm(user, keyId);
  });

  it(`principal revocation through A: B refuses its API key with 401 within ${LIMIT_MS} ms`, async () => {
    const keyId = await createKey();
    await warm(user, keyId);
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const made = await onA(admin, 'POST', '/v1/principals', { name: uniqueName('revoked'), role: 'key-user' });
      expect(made.status).toBe(201);
      const { principalId, enrollment } = made.json<{ principalId: string; enrollment: { token: string } }>();
      const { apiKey } = await stack.enroll(enrollment.token);
      // B authenticates the new key once (one credential read, then cached for a few seconds)...
      const firstOnB = Date.now();
      expect((await encrypt('B', apiKey, keyId, 'before revocation')).status).toBe(200);
      expect((await encrypt('B', apiKey, keyId, 'before revocation')).status).toBe(200);

      // ...then A revokes it at once: a refusal within 1 s comes well before B's cached credential
      // (kept 5 s by ApiKeyAuthenticator) expires, so only the stream's principal.revoked explains it.
      const revoked = await onA(admin, 'DELETE', `/v1/principals/${principalId}`);
      const since = Date.now();
      expect(revoked.status).toBe(200);
      expect(since - firstOnB).toBeLessThan(2_000);
      const refused = await pollUntil(since, 401, () => encrypt('B', apiKey, keyId, 'after revocation'), b);
      times.push(refused.elapsedMs);
      expect((await encrypt('A', apiKey, keyId, 'after revocation')).status).toBe(401);
    }
    expectWithinLimit('principal revocation → B answers 401', times);
    // Other principals of the tenant are unaffected.
    expect((await encrypt('B', user, keyId, 'still fine')).status).toBe(200);
  });

  it(`destruction (by the scheduler of a third instance): B refuses to decrypt within ${DESTRUCTION_LIMIT_MS} ms of the commit`, async () => {
    const times: number[] = [];
    const keys: { keyId: string; ciphertext: string }[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const keyId = await createKey();
      const ciphertext = await warm(user, keyId);
      expect((await onA(admin, 'POST', `/v1/keys/${keyId}/deactivate`)).status).toBe(200);
      const scheduled = await onA(admin, 'POST', `/v1/keys/${keyId}/schedule-destruction`, { waitingPeriodDays: 1 });
      expect(describeAnswer(scheduled)).toMatch(/^200 /);
      keys.push({ keyId, ciphertext });
    }
    // During the waiting period the key still decrypts on B (its material comes back into B's cache).
    for (const { ciphertext } of keys) {
      await b.waitFor(async () => (await onB(user, 'POST', '/v1/decrypt', { ciphertext })).status === 200, GIVE_UP_MS, POLL_MS);
    }
    // Destruction needs the waiting period to pass on the business clock: a third instance whose
    // clock runs 2 days ahead takes the scheduler lease and destroys the keys within a tick or two,
    // while every key is probed on B. The scheduler's commits carry business time, so the moment
    // each destroy commit exists is observed instead: the test reads the next commit ids of the
    // tenant every few ms, and the third instance's shredder logs each destroy commit (wall clock)
    // right after storing it; the earlier of the two is at most a few ms after the commit.
    const commits = stack.db.collection<Commit>('commits');
    const head = (await commits.find({ tenantId }).sort({ seq: -1 }).limit(1).toArray())[0]!.seq;
    const seenAt = new Map<number, { at: number; commit: Commit }>();
    const watch = { on: true };
    const watcher = (async () => {
      for (let next = head + 1; watch.on;) {
        const commit = await commits.findOne({ _id: `${tenantId}:${next}` } as object).catch(() => null);
        if (commit) {
          seenAt.set(next, { at: Date.now(), commit });
          next += 1;
        } else await sleep(3);
      }
    })();
    const offsetMs = 2 * 24 * 3600 * 1000;
    const refusedAt = new Map<string, { at: number; answer: HttpAnswer }>();
    let c: ServiceProcess | undefined;
    try {
      c = await stack.startApi({ NODE_ENV: 'test', KEYWARD_CLOCK_OFFSET_MS: String(offsetMs) });
      const deadline = Date.now() + 90_000;
      while (refusedAt.size < keys.length) {
        if (Date.now() > deadline) throw new Error(`keys not destroyed in time; third instance log tail:\n${c.log.slice(-3000)}`);
        for (const { keyId, ciphertext } of keys) {
          if (refusedAt.has(keyId)) continue;
          const answer = await onB(user, 'POST', '/v1/decrypt', { ciphertext });
          if (answer.status === 409) refusedAt.set(keyId, { at: Date.now(), answer });
          else expectStillOk(answer, b);
        }
        await sleep(POLL_MS);
      }
      // Let the watcher reach the last destroy commit (it may trail B's refusal by a poll or two).
      for (
        let i = 0;
        i < 500 && [...seenAt.values()].filter((s) => s.commit.events.some((e) => e.type === 'key.destroyed.v1')).length < keys.length;
        i++
      ) {
        await sleep(10);
      }
    } finally {
      watch.on = false;
      await watcher;
      await c?.stop();
    }
    const shreddedAt = new Map<number, number>();
    for (const line of c.log.split('\n')) {
      const shred = /crypto-shredded \d+ keystore entries of tenant (\S+) \(seq (\d+)\)/.exec(line);
      if (!shred || shred[1] !== tenantId || !line.startsWith('{')) continue;
      shreddedAt.set(Number(shred[2]), (JSON.parse(line) as { time: number }).time);
    }
    const destroyedAt = new Map<string, number>();
    for (const [seq, { at, commit }] of seenAt) {
      for (const event of commit.events) {
        const keyId = (event.data as { keyId?: string }).keyId;
        if (event.type === 'key.destroyed.v1' && keyId !== undefined) destroyedAt.set(keyId, Math.min(at, shreddedAt.get(seq) ?? at));
      }
    }
    for (const { keyId } of keys) {
      const refused = refusedAt.get(keyId)!;
      expect(problemType(refused.answer)).toBe('urn:keyward:problem:key-destroyed');
      expect(destroyedAt.has(keyId)).toBe(true);
      times.push(refused.at - destroyedAt.get(keyId)!);
    }
    // Shredded: no wrapped material of these keys is left in the keystore.
    expect(await stack.db.collection('keystore').countDocuments({ kind: 'material', keyId: { $in: keys.map((k) => k.keyId) } })).toBe(0);
    // The issue's own criterion: no encrypt with a destroyed key, on either instance.
    for (const { keyId } of keys) {
      expect((await encrypt('B', user, keyId, 'after destruction')).status).toBe(409);
      expect((await encrypt('A', user, keyId, 'after destruction')).status).toBe(409);
    }
    expectWithinLimit('destruction → B refuses decrypt', times, DESTRUCTION_LIMIT_MS);
  });
});
