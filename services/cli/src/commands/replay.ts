// keyward replay: re-runs every event of the log (the events topic, from offset 0) through the
// projections into a scratch database, with the projector's own code, and compares the per-tenant
// checksums with the live views. Talks to Kafka and MongoDB directly (operators), never to key-api.
// It runs the one rebuild path (rebuildViews, @keyward/event-log).
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { defineVerb, ExitCode, progressBar, UsageError, type ProgressBar, type ValuesOf } from '@keyward/cli-kit';
import { kafkaClientSecurity, loadConfig, type KeywardConfig } from '@keyward/config';
import {
  allChecksums,
  CommitStore,
  differingTenants,
  olderSchemaTenants,
  rebuildViews,
  VIEW_SCHEMA_VERSION,
  ViewCollections,
} from '@keyward/event-log';
import { fixIdleRequestQueue } from '@keyward/platform';
import { REPLAY_SUMMARY } from './summaries';

const OPTIONS = {
  into: { type: 'string', value: 'DB', description: 'scratch database (default <MONGODB_DB>_replay_<time>); must not be the live one' },
  keep: { type: 'boolean', description: 'keep the scratch database afterwards (default: dropped)' },
  incremental: { type: 'boolean', description: 'write the views batch by batch, as the live projector does (bounded memory)' },
  json: { type: 'boolean', description: 'print a JSON summary' },
} as const;

const CONNECTION = {
  brokers: { type: 'string', value: 'LIST', description: 'Kafka bootstrap brokers (or KAFKA_BROKERS)' },
  topic: { type: 'string', value: 'TOPIC', description: 'events topic (or KAFKA_TOPIC_EVENTS)' },
  'mongodb-uri': { type: 'string', value: 'URI', description: 'MongoDB connection string (or MONGODB_URI)' },
  db: { type: 'string', value: 'DB', description: 'the live database (or MONGODB_DB)' },
} as const;

type Values = ValuesOf<typeof OPTIONS & typeof CONNECTION>;

const DETAILS = `Reads the events topic from offset 0 up to its end when the replay begins (the projector's rebuild
reader: a throwaway consumer group, so no offset of the live projector moves), runs every commit
through the projector's TenantProjection (the same fold, with the domain's evolve, that the live
projector applies) into the views of a scratch database, then compares each tenant's view checksum
with the live views. The live views are never written. Every commit is checked on the way: it
hashes to its own hash and points at its predecessor's. By default each tenant is folded in
memory and each view document is written once, in bulk, as soon as every partition its tenant is
read from has been read to its end (fast; memory grows with the size of the views); --incremental
writes batch by batch with the live projector's writes instead (bounded memory, much
slower). A progress bar shows on a terminal; --json prints one JSON summary line with the rate
(events/s) for scripts and the benchmark.

Tenants whose live views an older version of the projection wrote (their tenant index carries an
older view schema version) are reported apart as "older view schema": they differ by design until
the projector rebuilds them, which it does at its next start.

Exit code 0 when every tenant matches (or differs only by an older view schema) and every chain
holds, 2 when some differ (the live projector lagging behind the topic, or views that were changed
by something else than the projector) or a commit does not hash or link as it should, 1 on an
error, 78 when the settings are invalid.`;

/** The settings the services would read, with the command line's connection on top. */
function settings(values: Values, env: NodeJS.ProcessEnv): KeywardConfig {
  return loadConfig({
    ...env,
    ...(values.brokers ? { KAFKA_BROKERS: values.brokers } : {}),
    ...(values.topic ? { KAFKA_TOPIC_EVENTS: values.topic } : {}),
    ...(values['mongodb-uri'] ? { MONGODB_URI: values['mongodb-uri'] } : {}),
    ...(values.db ? { MONGODB_DB: values.db } : {}),
  });
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

export const replay = defineVerb({
  summary: REPLAY_SUMMARY,
  details: DETAILS,
  options: { ...OPTIONS, ...CONNECTION },
  sections: [
    { title: 'Options', options: OPTIONS },
    { title: 'Connection (default: the Keyward settings in the environment, as the services read them)', options: CONNECTION },
  ],
  async run({ values }, inv) {
    const config = settings(values, inv.io.env);
    const into = values.into ?? `${config.mongo.db}_replay_${Date.now().toString(36)}`;
    if (!/^[A-Za-z0-9_-]{1,63}$/.test(into)) throw new UsageError(`--into is not a database name: ${into}`);
    if (into === config.mongo.db)
      throw new UsageError('--into must be a scratch database, not the live one (the live views are never rebuilt in place here)');

    // kafkajs 2.2.4 otherwise spins a 1 ms timer per idle connection (Node 24 warns of its negative delay).

    fixIdleRequestQueue();

    const kafka = new Kafka({
      clientId: `${config.kafka.clientId}-replay`,
      brokers: [...config.kafka.brokers],
      ...kafkaClientSecurity(config.kafka.security),
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => inv.io.err.write(`kafka: ${entry.log.message}\n`),
    });
    const mongo = await MongoClient.connect(config.mongo.uri, { serverSelectionTimeoutMS: 10_000 });
    const topic = config.kafka.topics.events;
    let bar: ProgressBar | undefined;
    try {
      const liveDb = mongo.db(config.mongo.db);
      // From here on is the rebuild, start to finish: an empty scratch database to views written.
      const started = performance.now();
      const scratch = new ViewCollections(mongo.db(into));
      await scratch.drop();
      await scratch.ensureIndexes();
      const rebuild = await rebuildViews({
        kafka,
        topic,
        store: new CommitStore(liveDb),
        target: scratch,
        mode: values.incremental ? 'incremental' : 'memory',
        onProgress: (p) => {
          bar ??= progressBar('replay |{bar}| {percentage}% | {value}/{total} commits | {events} events | {rate} events/s', p.total);
          const seconds = (performance.now() - started) / 1000;
          bar.update(p.messages, { events: p.events, rate: seconds > 0 ? Math.round(p.events / seconds) : 0 });
        },
      });
      const { chainProblems, events, readSeconds, memory: rebuiltSummary } = rebuild;
      const progress = { messages: rebuild.messages };
      bar?.stop();
      bar = undefined;
      const seconds = (performance.now() - started) / 1000;
      const compared = performance.now();
      const liveViews = new ViewCollections(liveDb);
      const [rebuilt, live, older] = await Promise.all([allChecksums(scratch), allChecksums(liveViews), olderSchemaTenants(liveViews)]);
      // Views an older version of the projection wrote differ by design until the projector rebuilds
      // them (at its next start, or when the tenant next changes): reported apart, not as faults.
      const olderSet = new Set(older);
      const differing = differingTenants(live, rebuilt);
      const mismatched = differing.filter((t) => !olderSet.has(t));
      const olderViewSchema = differing.filter((t) => olderSet.has(t));
      const checksumSeconds = (performance.now() - compared) / 1000;
      if (!values.keep) await mongo.db(into).dropDatabase();
      const result = {
        ok: mismatched.length === 0 && chainProblems.length === 0,
        mode: values.incremental ? 'incremental' : 'memory',
        topic,
        into,
        kept: Boolean(values.keep),
        commits: progress.messages,
        events,
        tenants: Object.keys(rebuilt).length,
        seconds: round(seconds),
        eventsPerSec: seconds > 0 ? Math.round(events / seconds) : 0,
        commitsPerSec: seconds > 0 ? Math.round(progress.messages / seconds) : 0,
        checksumSeconds: round(checksumSeconds),
        // Where the time went: reading to the end of the last partition, folding (hash checks and
        // evolve, on the reading thread), writing (some request in flight: overlaps the reading).
        phases: {
          readSeconds: round(readSeconds),
          ...(rebuiltSummary
            ? {
                foldSeconds: round(rebuiltSummary.foldSeconds),
                writeBusySeconds: round(rebuiltSummary.writeBusySeconds),
                afterReadSeconds: round(seconds - readSeconds),
                documentsWritten: rebuiltSummary.documentsWritten,
              }
            : {}),
        },
        chainVerified: chainProblems.length === 0,
        chainProblems: chainProblems.slice(0, 100),
        mismatched,
        viewSchema: VIEW_SCHEMA_VERSION,
        olderViewSchema,
        checksums: rebuilt,
        live,
      };
      if (values.json) {
        inv.print(JSON.stringify(result));
      } else {
        inv.print(
          [
            `Replayed ${result.commits} commits (${result.events} events, ${result.tenants} tenants) from ${topic} in ${result.seconds} s: ${result.eventsPerSec} events/s.`,
            ...Object.entries(rebuilt).map(
              ([tenant, sum]) =>
                `${tenant}  ${sum}  ${live[tenant] === sum ? '= live' : olderSet.has(tenant) ? '≠ live (older view schema)' : '≠ live'}`,
            ),
            ...mismatched.filter((t) => !(t in rebuilt)).map((t) => `${t}  (in the live views only)  ≠ live`),
            ...chainProblems.slice(0, 20).map((p) => `${p.tenantId}:${p.seq}  ${p.problem}: the log was altered`),
            chainProblems.length === 0
              ? 'Every commit hashes to its hash and points at its predecessor.'
              : `${chainProblems.length} commit(s) break their tenant's hash chain.`,
            ...(olderViewSchema.length === 0
              ? []
              : [
                  `${olderViewSchema.length} tenant(s) differ because an older view schema wrote their live views (this is version ${VIEW_SCHEMA_VERSION}); the projector rebuilds them at its next start: ${olderViewSchema.join(', ')}`,
                ]),
            mismatched.length === 0
              ? olderViewSchema.length === 0
                ? 'Every tenant matches the live views.'
                : 'Every other tenant matches the live views.'
              : `${mismatched.length} tenant(s) differ from the live views: ${mismatched.join(', ')}`,
            values.keep ? `The scratch views are kept in database ${into}.` : `Scratch database ${into} dropped.`,
          ].join('\n'),
        );
      }
      if (!result.ok) inv.exitCode = ExitCode.CheckFailed;
    } finally {
      bar?.stop();
      await mongo.close();
    }
  },
});
