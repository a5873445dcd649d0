import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';
import { PrivateKafka } from '../support/private-kafka';
import { readUsage } from '../support/usage-topic';

jest.setTimeout(600_000);

/**
 * Usage records of all tenants key-api may hold in memory here (USAGE_BUFFER_MAX): room for the
 * pause at the load's rate (a few thousand a second at most here), below three quarters of it.
 */
const BUFFER_MAX = 20_000;

// The usage audit under a steady crypto load (scale bench: KMIP Gets refused with the outbox share
// full). A broker that is slow but answering keeps records in memory: a pause of the broker shorter
// than the spill threshold writes nothing to the outbox and refuses nothing (the old pipeline
// spilled after 1 s and kept the tenant on the outbox path). A broker that is away still spills,
// and drains with nothing lost; memory stays within its configured bound throughout.
describe('usage audit under a steady load (private broker)', () => {
  let kafka: PrivateKafka;
  let stack: KeywardStack;
  let user = '';
  let keyId = '';
  const accepted: string[] = [];
  const refused: string[] = [];
  let mostBuffered = 0;
  const phases: Record<'pause' | 'outage', { outboxWritten: number; refused: number; accepted: number }> = {
    pause: { outboxWritten: 0, refused: 0, accepted: 0 },
    outage: { outboxWritten: 0, refused: 0, accepted: 0 },
  };

  async function metric(name: string): Promise<number> {
    const answer = await fetch(stack.api.metricsUrl!);
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await answer.text());
    return match ? Number(match[1]) : 0;
  }

  /** Encrypts from `connections` loops until `stop` says so; request ids kept as accepted (200) or refused (503). */
  async function load(connections: number, stop: () => boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (!stop()) {
          const requestId = `load-${randomUUID()}`;
          const answer = await stack.api.request('POST', `/v1/keys/${keyId}/encrypt`, {
            headers: { authorization: `Bearer ${user}`, 'x-request-id': requestId },
            body: { plaintext: Buffer.from('audited').toString('base64') },
          });
          if (answer.status === 200) accepted.push(requestId);
          else if (answer.status === 503) refused.push(requestId);
          else throw new Error(`encrypt: ${answer.status} ${answer.body}`);
        }
      }),
    );
  }

  /** Samples the records key-api holds in memory until `stop`. */
  async function sampleMemory(stop: () => boolean): Promise<void> {
    while (!stop()) {
      mostBuffered = Math.max(mostBuffered, await metric('keyward_usage_records_buffered'));
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const signalBroker = (signal: NodeJS.Signals) =>
    process.kill(Number(readFileSync(join(kafka.dataDir, 'run', 'kafka.pid'), 'utf8').trim()), signal);

  async function phase(name: 'pause' | 'outage', during: () => Promise<void>): Promise<void> {
    const [written, refusedBefore, acceptedBefore] = [await metric('keyward_usage_outbox_written_total'), refused.length, accepted.length];
    let done = false;
    const running = Promise.all([load(8, () => done), sampleMemory(() => done)]);
    try {
      await during();
    } finally {
      done = true;
      await running;
    }
    phases[name] = {
      outboxWritten: (await metric('keyward_usage_outbox_written_total')) - written,
      refused: refused.length - refusedBefore,
      accepted: accepted.length - acceptedBefore,
    };
  }

  beforeAll(async () => {
    kafka = await PrivateKafka.start();
    stack = new KeywardStack({ brokers: kafka.brokers });
    Object.assign(stack.env, {
      USAGE_BUFFER_MAX: String(BUFFER_MAX),
      USAGE_BACKLOG_MAX: String(BUFFER_MAX),
      // The load, not the per-principal, per-tenant and per-address limits, is what this spec is about.
      RATE_LIMIT_PRINCIPAL_RPS: '1000000',
      RATE_LIMIT_PRINCIPAL_BURST: '10000000',
      RATE_LIMIT_TENANT_RPS: '1000000',
      RATE_LIMIT_TENANT_BURST: '10000000',
      AUTH_ADDRESS_RPS: '1000000',
      AUTH_ADDRESS_BURST: '10000000',
    });
    await stack.start();
    const { adminKey } = await stack.onboard('Usage load');
    user = await stack.principal(adminKey, 'key-user');
    keyId = (await stack.call(adminKey, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;

    // A broker that stops answering for 2.5 s (SIGSTOP), under load, then answers again.
    await phase('pause', async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      signalBroker('SIGSTOP');
      try {
        await new Promise((r) => setTimeout(r, 2_500));
      } finally {
        signalBroker('SIGCONT');
      }
      await new Promise((r) => setTimeout(r, 3_000));
    });
    // A broker that is away for a while, under load, then back.
    await phase('outage', async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      await kafka.verb('stop');
      await new Promise((r) => setTimeout(r, 4_000));
      await kafka.verb('start');
      await new Promise((r) => setTimeout(r, 2_000));
    });
  });
  afterAll(async () => {
    await stack.stop().catch(() => undefined);
    await kafka.destroy();
  });

  it('keeps records in memory while the broker pauses: nothing goes to the outbox, nothing is refused', () => {
    expect(phases.pause.accepted).toBeGreaterThan(100);
    expect(phases.pause).toMatchObject({ outboxWritten: 0, refused: 0 });
  });

  it('spills to the outbox while the broker is away', () => {
    expect(phases.outage.accepted).toBeGreaterThan(50);
    expect(phases.outage.outboxWritten).toBeGreaterThan(0);
  });

  it('holds no more records in memory than its bound and the fail-closed headroom', () => {
    expect(mostBuffered).toBeGreaterThan(0);
    expect(mostBuffered).toBeLessThanOrEqual(2 * BUFFER_MAX);
  });

  it('delivers the record of every accepted operation to the topic, once drained, and none of a refused one', async () => {
    // At least once: a record sent twice counts twice in what the reader waits for.
    let delivered = new Set<string>();
    for (let extra = 0, attempt = 0; attempt < 3; attempt++) {
      const records = await readUsage(stack.env.KAFKA_TOPIC_USAGE!, accepted.length + extra, 120_000, [kafka.brokers]);
      delivered = new Set(records.map((r) => r.requestId));
      if (accepted.every((id) => delivered.has(id))) break;
      extra = records.length - delivered.size;
    }
    expect(accepted.filter((id) => !delivered.has(id))).toEqual([]);
    expect(refused.filter((id) => delivered.has(id))).toEqual([]);
    let left = -1;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && left !== 0;) {
      left = await stack.db.collection('usage_outbox').countDocuments();
      if (left !== 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toBe(0);
  });
});
