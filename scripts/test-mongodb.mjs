// `npm run test:mongodb`: the specs that show Keyward on a real MongoDB (infra/mongodb: mongod
// 6.0.5, a single-node replica set, fetched into the per-user cache on first use), through
// scripts/test.mjs with KEYWARD_STORE=mongodb: it starts mongod (and Kafka unless KAFKA_BROKERS is
// given), builds, runs this set, and stops what it started. MONGODB_URI is ignored: the store is
// always the local mongod (MONGOD_PORT, default 27018). Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './lib/infra.mjs';

/** Query plans on MongoDB, and the flows whose store writes differ most from FerretDB's: concurrent writers and leases. */
export const MONGODB_SPECS = [
  'test/store/query-plans.e2e-spec.ts',
  'test/store/request-path-plans.e2e-spec.ts',
  'test/store/tenant-snapshots.e2e-spec.ts',
  'test/event-log/lease.e2e-spec.ts',
  'test/event-log/lease-concurrency.e2e-spec.ts',
  'test/event-log/projector-concurrency.e2e-spec.ts',
  'test/event-log/projector-guards.e2e-spec.ts',
  'test/event-log/view-reads.e2e-spec.ts',
  'test/event-log/relay.e2e-spec.ts',
];

const env = { ...process.env, KEYWARD_STORE: 'mongodb' };
delete env.MONGODB_URI;
const status =
  spawnSync(process.execPath, [join(repoRoot, 'scripts', 'test.mjs'), '--runTestsByPath', ...MONGODB_SPECS, ...process.argv.slice(2)], {
    cwd: repoRoot,
    stdio: 'inherit',
    env,
  }).status ?? 1;
process.exit(status);
