import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { ConfigError, kafkaClientSecurity, loadConfig } from '@keyward/config';
import { allChecksums, CommitStore, describeRejected, differingTenants, rebuildViews, ViewCollections } from '@keyward/event-log';
import { fixIdleRequestQueue } from '@keyward/platform';

const HELP = `usage: npm run projector:rebuild -- [--into <database>] [--json]

Drops the key-set views and rebuilds them from offset 0 of the event topic, then prints a
checksum per tenant. Only messages that are the commit store's commits are folded (the others
are reported as forged, and the exit code is 1). Each tenant is folded in memory with the live projector's fold and its
documents are written once, in bulk; every commit's hash and link to its predecessor are checked
(exit 1 when one does not hold). With --into, builds into that (scratch) database instead and
compares its checksums with the live views; the live views are left alone. Stop the projector
before an in-place rebuild.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { into: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig();
  const mongo = await MongoClient.connect(config.mongo.uri, { serverSelectionTimeoutMS: 10_000 });
  // kafkajs 2.2.4 otherwise spins a 1 ms timer per idle connection (Node 24 warns of its negative delay).
  fixIdleRequestQueue();
  const kafka = new Kafka({
    clientId: `${config.kafka.clientId}-rebuild`,
    brokers: [...config.kafka.brokers],
    ...kafkaClientSecurity(config.kafka.security),
    logLevel: logLevel.WARN,
  });
  try {
    const liveDb = mongo.db(config.mongo.db);
    const started = performance.now();
    const target = new ViewCollections(values.into ? mongo.db(values.into) : liveDb);
    await target.drop();
    await target.ensureIndexes();
    const { messages, chainProblems, forged } = await rebuildViews({
      kafka,
      topic: config.kafka.topics.events,
      store: new CommitStore(liveDb),
      target,
      // Only the store's commits are folded: a message the store does not back is left out and reported.
      verify: true,
    });
    const seconds = (performance.now() - started) / 1000;
    const rebuilt = await allChecksums(target);
    const live = values.into ? await allChecksums(new ViewCollections(liveDb)) : undefined;
    const mismatched = live ? differingTenants(live, rebuilt) : [];
    if (values.json) {
      console.log(
        JSON.stringify({
          messages,
          seconds,
          chainProblems,
          forged: forged.length,
          checksums: rebuilt,
          ...(live ? { live, mismatched } : {}),
        }),
      );
    } else {
      console.log(`rebuilt views from ${messages} commits in ${seconds.toFixed(1)} s`);
      for (const [tenant, sum] of Object.entries(rebuilt)) {
        const verdict = live ? (live[tenant] === sum ? '  = live' : '  ≠ live') : '';
        console.log(`${tenant}  ${sum}${verdict}`);
      }
      for (const p of chainProblems.slice(0, 20)) console.log(`${p.tenantId}:${p.seq}  ${p.problem}: the log was altered`);
      for (const r of forged.slice(0, 20))
        console.log(`${describeRejected(r)}: a message of the topic the commit store does not back (left out)`);
      if (live)
        console.log(
          mismatched.length === 0 ? 'all tenants match the live views' : `${mismatched.length} tenant(s) differ: ${mismatched.join(', ')}`,
        );
    }
    return mismatched.length === 0 && chainProblems.length === 0 && forged.length === 0 ? 0 : 1;
  } finally {
    await mongo.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `projector rebuild: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.message : String(err)}\n`,
    );
    process.exit(err instanceof ConfigError ? 78 : 1);
  },
);
