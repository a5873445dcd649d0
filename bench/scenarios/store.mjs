// store: the cost of single store operations as the collection grows. A collection of
// commit-shaped documents (ids `<tenant>:<seq>`, 1,000 tenants) is filled to each size in turn
// (1k / 10k / 50k; quick: 200 / 1k) and, one operation in flight, it measures by `_id`: findOne,
// updateOne ($set), replaceOne, deleteOne + insertOne of the same document, a new insertOne, and
// for contrast a `{tenantId}` filter read (what no request path may do on the embedded store).
// Each operation runs `samples` times or until its time budget is spent (at least 3 runs), so a
// scanning store still finishes. The plan of a `find {_id}` (FerretDB: SQLite's plan; MongoDB:
// the winning stage) is reported with each size, so a run says whether `_id` was index-served.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { latencySummary, round } from '../lib/util.mjs';

const require = createRequire(import.meta.url);
const TENANTS = 1_000;

function commitDoc(tenant, seq) {
  const tenantId = `tnt_store_${String(tenant).padStart(4, '0')}`;
  return {
    _id: `${tenantId}:${seq}`,
    tenantId,
    seq,
    commandId: randomBytes(16).toString('hex'),
    events: [
      {
        type: seq === 1 ? 'KeyCreated' : 'KeyRotated',
        keyId: `key_${randomBytes(8).toString('hex')}`,
        version: seq,
        at: new Date().toISOString(),
        attributes: { algorithm: 'AES-256-GCM', usage: ['encrypt', 'decrypt'], label: `bench key ${seq}` },
      },
    ],
    committedAt: new Date().toISOString(),
    prevHash: randomBytes(32).toString('hex'),
    hash: randomBytes(32).toString('hex'),
    published: true,
  };
}

/** The plan of `find {_id}`: FerretDB answers SQLite's plan rows, MongoDB its winning stages. */
async function idPlan(db, collection, id) {
  const res = await db.command({ explain: { find: collection, filter: { _id: id } }, verbosity: 'queryPlanner' });
  if (Array.isArray(res.queryPlanner?.Plan)) {
    const detail = res.queryPlanner.Plan.map((row) => String(row).replace(/^.*detail=/, '')).join('; ');
    return {
      store: 'ferretdb',
      plan: detail,
      filterPushdown: res.filterPushdown === true,
      indexed: /USING (COVERING )?INDEX/.test(detail),
    };
  }
  const stages = [];
  for (let s = res.queryPlanner?.winningPlan; s; s = s.inputStage ?? s.queryPlan) stages.push(s.stage);
  return { store: 'mongodb', plan: stages.join(' <- '), indexed: !stages.includes('COLLSCAN') };
}

async function timed(samples, budgetMs, fn) {
  const values = [];
  const until = performance.now() + budgetMs;
  for (let i = 0; i < samples && (i < 3 || performance.now() < until); i++) {
    const t0 = performance.now();
    await fn(i);
    values.push(performance.now() - t0);
  }
  return latencySummary(values);
}

export async function store({ mongoUri, runId, sizes, samples, budgetMs }) {
  const { MongoClient } = require('mongodb');
  const client = await MongoClient.connect(mongoUri, { serverSelectionTimeoutMS: 10_000 });
  const dbName = `bench_store_${runId}`;
  const db = client.db(dbName);
  const commits = db.collection('commits');
  const seqs = new Array(TENANTS).fill(0); // last seq per tenant
  let count = 0;
  const results = [];
  try {
    for (const size of sizes) {
      const fillStart = performance.now();
      while (count < size) {
        const batch = [];
        for (let i = 0; i < 1_000 && count < size; i++, count++) {
          const t = count % TENANTS;
          batch.push(commitDoc(t, ++seqs[t]));
        }
        await commits.insertMany(batch, { ordered: false });
      }
      const fillSeconds = (performance.now() - fillStart) / 1000;
      const randomId = () => {
        const t = Math.floor(Math.random() * TENANTS);
        return commitDoc(t, 1 + Math.floor(Math.random() * Math.max(1, seqs[t])));
      };
      // Only ids that exist (every tenant has seq 1..seqs[t]), so each operation finds its document.
      const existing = () => {
        for (;;) {
          const d = randomId();
          const t = Number(d.tenantId.slice(-4));
          if (seqs[t] > 0 && d.seq <= seqs[t]) return d;
        }
      };
      const plan = await idPlan(db, 'commits', existing()._id);
      const ops = {
        findOne: await timed(samples, budgetMs, () => commits.findOne({ _id: existing()._id })),
        updateOne: await timed(samples, budgetMs, () => commits.updateOne({ _id: existing()._id }, { $set: { published: false } })),
        replaceOne: await timed(samples, budgetMs, () => {
          const d = existing();
          return commits.replaceOne({ _id: d._id }, d);
        }),
        deleteAndReinsert: await timed(samples, budgetMs, async () => {
          const d = existing();
          await commits.deleteOne({ _id: d._id });
          await commits.insertOne(d);
        }),
        insertOne: await timed(samples, budgetMs, () => {
          const t = Math.floor(Math.random() * TENANTS);
          count++;
          return commits.insertOne(commitDoc(t, ++seqs[t]));
        }),
        tenantFilter: await timed(samples, budgetMs, () => commits.find({ tenantId: existing().tenantId }).toArray()),
      };
      results.push({ documents: size, fillSeconds: round(fillSeconds, 1), idPlan: plan, ops });
      const f = (o) => `${round(o.p50Ms, 1)}/${round(o.p99Ms, 1)}`;
      process.stdout.write(
        `\n  store ${size}: findOne ${f(ops.findOne)} update ${f(ops.updateOne)} replace ${f(ops.replaceOne)} ` +
          `delete+insert ${f(ops.deleteAndReinsert)} insert ${f(ops.insertOne)} {tenantId} ${f(ops.tenantFilter)} ms p50/p99` +
          ` (_id ${plan.indexed ? 'index-served' : 'NOT index-served'}: ${plan.plan}) `,
      );
    }
    return { status: 'ok', database: dbName, tenants: TENANTS, samples, budgetSecPerOp: budgetMs / 1000, sizes: results };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}
