/**
 * The high-availability drill (docs/high-availability.md): key-api instances behind HAProxy, a
 * three-node Kafka cluster and a FerretDB of the drill's own, a steady load of lifecycle commands
 * and encrypt/decrypt through the balancer, and one fault after another, each repaired before the
 * next. Then: every acknowledged command is in the log exactly once and on the topic, the views
 * equal a rebuild, and every acknowledged ciphertext decrypts. Prints the table of fault, window
 * (first to last failed request), lost, duplicated.
 *
 *   npm run test:drill                       # the short form (CI): each fault, 10 s of load after it
 *   DRILL_SETTLE_MS=60000 npm run test:drill # longer load between faults
 *   DRILL_FAULTS=api,broker npm run test:drill   # a subset (api, broker, store, projector)
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { fromMessage, readTopic, type Commit } from '@keyward/event-log';
import { uniqueName } from '../support/env';
import type { KeywardStack } from '../support/keyward-stack';
import type { PrivateFerretDb } from '../support/private-ferretdb';
import type { PrivateKafkaCluster } from '../support/private-kafka-cluster';
import { ServiceProcess } from '../support/service-process';
import type { Balancer } from './support/balancer';
import { HaStack, type ApiInstance } from './support/ha-stack';
import { DrillLoad, type AckedCommand } from './support/drill-load';
import { outcomeOf, table, type FaultOutcome } from './support/drill-report';

const SETTLE_MS = Number(process.env.DRILL_SETTLE_MS ?? 10_000);
const FAULTS = (process.env.DRILL_FAULTS ?? 'api,broker,store,projector').split(',');
const INSTANCES = Number(process.env.DRILL_KEY_API_INSTANCES ?? 2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('high-availability drill', () => {
  const ha = new HaStack();
  let kafka: PrivateKafkaCluster;
  let store: PrivateFerretDb;
  let stack: KeywardStack;
  let apis: ApiInstance[];
  let balancer: Balancer;
  let load: DrillLoad;
  let tenantId = '';
  let adminKey = '';
  let userKey = '';

  beforeAll(async () => {
    await ha.start(INSTANCES);
    ({ kafka, store, stack, apis, balancer, tenantId } = ha);
    ({ adminKey, userKey } = ha.targets);
    load = new DrillLoad(balancer, ha.targets, { commandEveryMs: 300, cryptoEveryMs: 100 });
    ha.onCleanup(() => load.stop());
  }, 600_000);

  afterAll(() => ha.cleanup(), 180_000);

  /** Node id of the broker leading the busy tenant's partition of the event topic. */
  async function busyLeader(): Promise<number> {
    const client = new Kafka({ clientId: 'drill', brokers: kafka.brokers.split(','), logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    try {
      const topic = stack.env.KAFKA_TOPIC_EVENTS!;
      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      const partitionMetadata = meta!.partitions;
      const partition = Partitioners.DefaultPartitioner()({ topic, partitionMetadata, message: { key: tenantId, value: null } });
      return partitionMetadata.find((p) => p.partitionId === partition)!.leader;
    } finally {
      await admin.disconnect();
    }
  }

  const faults: Record<string, { name: string; run: () => Promise<void> }> = {
    api: {
      name: 'key-api SIGKILL',
      run: async () => {
        const victim = apis[0]!;
        victim.process.child.kill('SIGKILL');
        await sleep(5_000);
        victim.process = await stack.startApi({}, victim.port);
        stack.api = victim.process;
      },
    },
    broker: {
      name: 'Kafka leader SIGKILL',
      run: async () => {
        const leader = await busyLeader();
        await kafka.kill(leader);
        await sleep(15_000);
        await kafka.verb('start');
      },
    },
    store: {
      name: 'store SIGSTOP 10 s',
      run: async () => {
        await store.pause();
        await sleep(10_000);
        await store.resume();
      },
    },
    projector: {
      name: 'projector SIGKILL',
      run: async () => {
        stack.projector.child.kill('SIGKILL');
        await stack.projector.stop();
        await sleep(5_000);
        stack.projector = await ServiceProcess.start('projector', stack.env);
      },
    },
  };

  it('loses and doubles no acknowledged write through each fault, and the views equal a rebuild', async () => {
    load.start();
    await sleep(SETTLE_MS);
    const phases: string[] = [];
    for (const id of FAULTS) {
      const fault = faults[id];
      if (!fault) throw new Error(`DRILL_FAULTS: unknown fault '${id}' (api, broker, store, projector)`);
      phases.push(fault.name);
      load.phase = fault.name;
      await fault.run();
      await sleep(SETTLE_MS);
    }
    load.phase = 'after';
    await sleep(2_000);
    await load.stop();

    // The views catch up with the last acknowledged command.
    const last = Math.max(...load.commands.map((c) => c.seq));
    const deadline = Date.now() + 180_000;
    while ((await balancer.send('GET', `/v1/tenant?minSeq=${last}`, adminKey).catch(() => ({ status: 0 }))).status !== 200) {
      if (Date.now() > deadline) throw new Error(`views not caught up with seq ${last} in 180 s`);
      await sleep(1_000);
    }

    // The log: each acknowledged seq is a commit, each acknowledged creation in exactly one commit.
    const commits = await stack.db.collection<Commit>('commits').find({ tenantId }).toArray();
    const bySeq = new Map(commits.map((c) => [c.seq, c]));
    const tokenCount = new Map<string, number>();
    for (const c of commits) {
      for (const token of JSON.stringify(c.events).match(/"drillop":"[^"]+"/g) ?? []) {
        const t = token.slice('"drillop":"'.length, -1);
        tokenCount.set(t, (tokenCount.get(t) ?? 0) + 1);
      }
    }
    const ackedSeqCount = new Map<number, number>();
    for (const c of load.commands) ackedSeqCount.set(c.seq, (ackedSeqCount.get(c.seq) ?? 0) + 1);

    // The topic: when each commit of the tenant first arrived there.
    const client = new Kafka({ clientId: 'drill', brokers: kafka.brokers.split(','), logLevel: logLevel.NOTHING });
    const onTopic = new Map<number, number>();
    let topicCopies = 0;
    await readTopic(
      client,
      stack.env.KAFKA_TOPIC_EVENTS!,
      (messages) => {
        for (const m of messages) {
          const commit = fromMessage(m.value);
          if (commit.tenantId !== tenantId) continue;
          topicCopies++;
          if (!onTopic.has(commit.seq)) onTopic.set(commit.seq, Number(m.timestamp));
        }
        return undefined;
      },
      { group: uniqueName('drill-read'), timeoutMs: 120_000 },
    );

    const inLog = (c: AckedCommand): boolean => bySeq.has(c.seq) && (c.token === undefined || (tokenCount.get(c.token) ?? 0) >= 1);
    const isLost = (c: AckedCommand): boolean => !inLog(c) || !onTopic.has(c.seq);
    const isDuplicated = (c: AckedCommand): boolean =>
      (ackedSeqCount.get(c.seq) ?? 0) > 1 || (c.token !== undefined && (tokenCount.get(c.token) ?? 0) > 1);
    const outcomes: FaultOutcome[] = ['warm-up', ...phases, 'after'].map((p) =>
      outcomeOf(p, load.failures, load.commands, isLost, isDuplicated, (c) => onTopic.get(c.seq)),
    );

    // Every acknowledged ciphertext decrypts, through the balancer, once everything is back.
    let decryptFailures = 0;
    const decryptProblems: string[] = [];
    for (let i = 0; i < load.ciphertexts.length; i += 8) {
      await Promise.all(
        load.ciphertexts.slice(i, i + 8).map(async ({ ciphertext, plaintext }) => {
          const decrypted = await balancer.send('POST', '/v1/decrypt', userKey, { ciphertext }).catch(() => ({ status: 0, body: '' }));
          if (decrypted.status !== 200 || (JSON.parse(decrypted.body) as { plaintext: string }).plaintext !== plaintext) {
            decryptFailures++;
            decryptProblems.push(`${decrypted.status} ${decrypted.body.slice(0, 300)} (ciphertext ${ciphertext.slice(0, 60)}…)`);
          }
        }),
      );
    }

    const rebuild = await stack.rebuildInto(uniqueName('drill_rebuild').replace(/[-.]/g, '_'));

    process.stdout.write(
      [
        '',
        `high-availability drill: ${INSTANCES} key-api behind HAProxy, 3 Kafka nodes (RF 3, min ISR 2), FerretDB; ${load.requests} requests, ` +
          `${load.commands.length} acknowledged commands, ${load.ciphertexts.length} ciphertexts (${decryptFailures} failed to decrypt afterwards), ` +
          `${commits.length} commits, ${topicCopies} topic messages of the tenant; rebuild mismatched: ${rebuild.mismatched.length}`,
        table(outcomes),
        ...load.failures.slice(0, 40).map((f) => `  ${new Date(f.at).toISOString()} [${f.phase}] ${f.what}`),
        ...decryptProblems.slice(0, 5).map((p) => `  decrypt afterwards: ${p}`),
        'key-api errors (level 50+), first 10:',
        ...apis
          .flatMap((a) => a.process.log.split('\n'))
          .filter((line) => /"level":(50|60)/.test(line))
          .slice(0, 10)
          .map((line) => `  ${line.slice(0, 600)}`),
        '',
      ].join('\n'),
    );

    expect(commits.map((c) => c.seq).sort((a, b) => a - b)).toEqual(commits.map((_, i) => i + 1));
    expect(outcomes.reduce((n, o) => n + o.lost, 0)).toBe(0);
    expect(outcomes.reduce((n, o) => n + o.duplicated, 0)).toBe(0);
    expect(decryptFailures).toBe(0);
    // A fault is answered 503 (or a cut connection), never as the caller's fault nor as an internal error.
    expect(load.failures.filter((f) => /^\w+: (401|403|500) /.test(f.what))).toEqual([]);
    expect(rebuild.mismatched).toEqual([]);
  }, 1_800_000);
});
