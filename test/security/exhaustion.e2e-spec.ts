import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

jest.setTimeout(180_000);

const problem = (answer: HttpAnswer): { type: string; limit?: string } => {
  const body = answer.json<{ type: string; limit?: string }>();
  return { ...body, type: body.type.replace('urn:keyward:problem:', '') };
};
const unknownKey = (i: number, tag: string): string => `kw_${tag}${String(i).padStart(16 - tag.length, '0')}_${'u'.repeat(43)}`;

/** The value of a counter on key-api's metrics listener (0 when absent). */
async function counter(api: ServiceProcess, name: string): Promise<number> {
  if (api.metricsUrl === undefined) throw new Error('key-api has no metrics listener');
  const metrics = await (await fetch(api.metricsUrl)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
}

/**
 * Sends `head` over TLS, then trickles `trickle` one byte every 200 ms. Answers what the server
 * sent and whether it closed the connection before the client had sent everything.
 */
function slowClient(api: ServiceProcess, head: string, trickle: string): Promise<{ closedByServer: boolean; answer: string }> {
  const url = new URL(api.baseUrl);
  const ca = readFileSync(join(api.dataDir, 'tls', 'ca.crt'));
  return new Promise((resolve) => {
    let answer = '';
    let sent = 0;
    let done = false;
    const socket = connect({ host: url.hostname, port: Number(url.port), ca }, () => {
      socket.write(head);
      const tick = setInterval(() => {
        if (done) {
          clearInterval(tick);
          return;
        }
        if (sent >= trickle.length) {
          clearInterval(tick);
          done = true;
          socket.destroy();
          resolve({ closedByServer: false, answer });
          return;
        }
        socket.write(trickle.charAt(sent++));
      }, 200);
    });
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined); // writes after the server closed: expected
    socket.on('close', () => {
      if (done) return;
      done = true;
      resolve({ closedByServer: true, answer });
    });
  });
}

describe('unauthenticated exhaustion: timeouts, per-address budgets, unknown key ids (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let admin: string;
  let user: string;
  /** Short request deadlines and a small failure budget per address, no address lock-out. */
  let budgeted: ServiceProcess;
  /** An address lock-out after a few failures across key ids, no failure budget in the way. */
  let locking: ServiceProcess;

  const get = (api: ServiceProcess, key: string, localAddress: string): Promise<HttpAnswer> =>
    api.request('GET', '/v1/keys?limit=1', { headers: { authorization: `Bearer ${key}` }, localAddress });

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('Exhaustion Corp'));
    user = await stack.principal(admin, 'auditor');
    budgeted = await stack.startApi({
      HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_HEADERS_TIMEOUT_MS: '1500',
      AUTH_ADDRESS_FAILURE_RPS: '0.05',
      AUTH_ADDRESS_FAILURE_BURST: '8',
      AUTH_LOCKOUT_ADDRESS_FAILURES: '100000',
    });
    locking = await stack.startApi({
      AUTH_ADDRESS_FAILURE_BURST: '100000',
      AUTH_LOCKOUT_FAILURES: '3',
      AUTH_LOCKOUT_ADDRESS_FAILURES: '6',
      AUTH_LOCKOUT_MS: '60000',
    });
  });
  afterAll(async () => {
    await Promise.all([budgeted.stop(), locking.stop()]);
    await stack.stop();
  });

  it('a client that sends its body (or its headers) too slowly is cut off with 408 and the connection closed', async () => {
    const body = `{"ciphertext":"${'A'.repeat(200)}"}`;
    const head =
      `POST /v1/decrypt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Authorization: Bearer ${user}\r\nContent-Length: ${body.length}\r\n\r\n`;
    // Both would take 40 s at one byte every 200 ms; the server's deadline is 1.5 s.
    for (const [first, rest] of [
      [head, body],
      ['GET /v1/keys HTTP/1.1\r\nHost: 127.0.0.1\r\n', `X-Slow: ${'s'.repeat(200)}\r\n\r\n`],
    ] as const) {
      const outcome = await slowClient(budgeted, first, rest);
      expect(outcome.closedByServer).toBe(true);
      expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(outcome.answer).toMatch(/content-type: application\/problem\+json/i);
    }
    // The service still serves everyone else.
    expect((await get(budgeted, user, '127.0.0.1')).status).toBe(200);
  });

  it('many unknown key ids from one address get 429 before any lookup: no store read each', async () => {
    const readsBefore = await counter(budgeted, 'keyward_credential_store_reads_total');
    const statuses: number[] = [];
    let refused: HttpAnswer | undefined;
    for (let i = 0; i < 30; i++) {
      const answer = await get(budgeted, unknownKey(i, 'Flood'), '127.0.0.2');
      statuses.push(answer.status);
      if (answer.status === 429) refused ??= answer;
    }
    // The address's failure budget (8) is spent, then everything it sends is refused unread.
    expect(statuses.slice(0, 8)).toEqual(Array<number>(8).fill(401));
    expect(statuses.slice(9)).toEqual(Array<number>(21).fill(429));
    expect(problem(refused!)).toMatchObject({ type: 'rate-limited', limit: 'address-failures' });
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused!.headers['content-type']).toMatch(/application\/problem\+json/);
    const reads = (await counter(budgeted, 'keyward_credential_store_reads_total')) - readsBefore;
    expect(reads).toBeLessThanOrEqual(9);
    // A valid key from another address is not affected.
    expect((await get(budgeted, user, '127.0.0.3')).status).toBe(200);
  });

  it('an unknown key id repeated is answered from memory: one store read, then cache hits', async () => {
    const readsBefore = await counter(budgeted, 'keyward_credential_store_reads_total');
    const hitsBefore = await counter(budgeted, 'keyward_auth_unknown_key_cache_hits_total');
    for (let i = 0; i < 4; i++) expect((await get(budgeted, unknownKey(1, 'Again'), '127.0.0.4')).status).toBe(401);
    expect((await counter(budgeted, 'keyward_credential_store_reads_total')) - readsBefore).toBe(1);
    expect((await counter(budgeted, 'keyward_auth_unknown_key_cache_hits_total')) - hitsBefore).toBe(3);
  });

  it('failures across many key ids from one address lock the whole address out, even for a valid key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(locking, unknownKey(i, 'Spray'), '127.0.0.5')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401]); // no key id failed more than once
    const locked = await get(locking, user, '127.0.0.5');
    expect([locked.status, problem(locked).type]).toEqual([429, 'authentication-locked']);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const unknownAgain = await get(locking, unknownKey(99, 'Spray'), '127.0.0.5');
    expect([unknownAgain.status, problem(unknownAgain).type]).toEqual([429, 'authentication-locked']);
    // Another address is not affected.
    expect((await get(locking, user, '127.0.0.6')).status).toBe(200);
  });
});
