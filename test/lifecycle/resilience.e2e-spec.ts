import { verifyChain, type Commit } from '@keyward/event-log';
import { KeywardStack } from '../support/keyward-stack';
import { PrivateFerretDb } from '../support/private-ferretdb';
import { PrivateKafka } from '../support/private-kafka';
import { uniqueName } from '../support/env';
import { ServiceProcess } from '../support/service-process';

jest.setTimeout(420_000);

// Restarting Kafka, FerretDB, the relay (key-api) and the projector during a stream of commands
// loses and duplicates nothing: every acknowledged command is in the log exactly once, the log
// stays gap-free and hash-chained, and the live views equal a fresh rebuild.
describe('restarts during a stream of commands', () => {
  let kafka: PrivateKafka;
  let ferret: PrivateFerretDb;
  let stack: KeywardStack;

  beforeAll(async () => {
    [kafka, ferret] = await Promise.all([PrivateKafka.start(), PrivateFerretDb.start()]);
    stack = await new KeywardStack({ brokers: kafka.brokers, mongoUri: ferret.uri }).start();
  });
  afterAll(async () => {
    await stack.stop().catch(() => undefined);
    await Promise.all([kafka.destroy(), ferret.destroy()]);
  });

  it('loses and duplicates nothing', async () => {
    const { adminKey, tenantId } = await stack.onboard('Resilient');
    const acknowledged: { keyId: string; seq: number }[] = [];
    const control = { stop: false };
    const stream = (async () => {
      let i = 0;
      while (!control.stop) {
        const answer = await stack.call(adminKey, 'POST', '/v1/keys', { description: `stream ${i++}` }).catch(() => undefined);
        if (answer?.status === 201) {
          const body = answer.json<{ seq: number; key: { keyId: string } }>();
          acknowledged.push({ keyId: body.key.keyId, seq: body.seq });
        } else if (answer) {
          expect([500, 503]).toContain(answer.status); // a dependency was away: refused, not corrupted
          expect(answer.body).not.toMatch(/\bat \w+ \(/);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    await pause(1_500);
    await kafka.verb('stop'); // relay and projector lose the broker
    await pause(2_000);
    await kafka.verb('start');
    await pause(1_500);
    await ferret.kill(); // the store crashes
    await pause(1_500);
    await ferret.verb('start');
    await pause(1_500);
    await stack.restartProjector(true); // projector crash
    await pause(1_000);
    await stack.api.stop(); // relay (in key-api) stops; a new instance takes over
    stack.api = await ServiceProcess.start('key-api', stack.env);
    await pause(1_500);
    control.stop = true;
    await stream;

    expect(acknowledged.length).toBeGreaterThan(10);
    const last = Math.max(...acknowledged.map((a) => a.seq));
    expect(new Set(acknowledged.map((a) => a.seq)).size).toBe(acknowledged.length);

    const commits = await stack.db.collection<Commit>('commits').find({ tenantId }).sort({ seq: 1 }).toArray();
    expect(commits.map((c) => c.seq)).toEqual(commits.map((_, i) => i + 1));
    expect(verifyChain(commits)).toBeUndefined();
    const committedKeys = new Set(commits.flatMap((c) => c.events.map((e) => (e.data as { keyId?: string }).keyId)));
    for (const a of acknowledged) expect(committedKeys.has(a.keyId)).toBe(true);

    // everything reaches the views (retrying while the projector rejoins), exactly once
    let caughtUp = false;
    for (const deadline = Date.now() + 90_000; Date.now() < deadline && !caughtUp;) {
      caughtUp = (await stack.call(adminKey, 'GET', `/v1/tenant?minSeq=${commits.at(-1)!.seq}`)).status === 200;
      if (!caughtUp) await pause(1_000);
    }
    if (!caughtUp) {
      const unpublished = await stack.db.collection('commits').countDocuments({ tenantId, published: false });
      throw new Error(
        `views not caught up with seq ${commits.at(-1)!.seq} in 90 s (${unpublished} commits unpublished)\n` +
          `key-api:\n${stack.api.log.slice(-4000)}\nprojector:\n${stack.projector.log.slice(-4000)}`,
      );
    }
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { keyId: string }[]; nextCursor: string | null } = (
        await stack.call(adminKey, 'GET', `/v1/keys?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      ids.push(...page.items.map((k) => k.keyId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(ids.length);
    for (const a of acknowledged) expect(ids).toContain(a.keyId);
    expect(last).toBeLessThanOrEqual(commits.at(-1)!.seq);

    const rebuilt = await stack.rebuildInto(uniqueName('scratch').replace(/[-.]/g, '_'));
    expect(rebuilt.mismatched).toEqual([]);
    expect(rebuilt.checksums[tenantId]).toBe(rebuilt.live[tenantId]);
    expect(await stack.db.collection<Commit & { published: boolean }>('commits').countDocuments({ tenantId, published: false })).toBe(0);
  });
});
