// Helpers shared by start.mjs and test.mjs: which local infrastructure to run, and running it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const infraScript = join(repoRoot, 'infra', 'infra.sh');

/**
 * Components to run locally: those whose connection setting is not given. The store is FerretDB,
 * or a real MongoDB replica set with KEYWARD_STORE=mongodb (infra/mongodb).
 */
export function localComponents(env = process.env) {
  const wanted = [];
  if (!env.MONGODB_URI?.trim()) wanted.push(env.KEYWARD_STORE === 'mongodb' ? 'mongodb' : 'ferretdb');
  if (!env.KAFKA_BROKERS?.trim()) wanted.push('kafka');
  return wanted;
}

/** Connection settings pointing at the local components. */
export function localEnv(components, env = process.env) {
  const out = {};
  if (components.includes('kafka')) {
    const port = Number(env.KAFKA_PORT || 9092);
    if (kafkaCluster(env)) {
      // The three nodes of `infra:up -- --ha` (infra/kafka/kafka.sh): every topic replicated three times.
      out.KAFKA_BROKERS = env.KAFKA_PORTS
        ? env.KAFKA_PORTS.split(',')
            .map((p) => `127.0.0.1:${p}`)
            .join(',')
        : [port, port + 2, port + 4].map((p) => `127.0.0.1:${p}`).join(',');
      out.KAFKA_REPLICATION_FACTOR = env.KAFKA_REPLICATION_FACTOR || '3';
    } else {
      out.KAFKA_BROKERS = `127.0.0.1:${port}`;
    }
  }
  if (components.includes('ferretdb')) out.MONGODB_URI = `mongodb://127.0.0.1:${env.MONGO_PORT || 27017}`;
  if (components.includes('mongodb')) out.MONGODB_URI = `mongodb://127.0.0.1:${env.MONGOD_PORT || 27018}/?replicaSet=rs0`;
  return out;
}

/** Kafka as the three-node cluster: asked for (KAFKA_HA=3), or already running from the data folder. */
export function kafkaCluster(env = process.env) {
  if (env.KAFKA_HA === '3') return true;
  if (env.KAFKA_HA === '1') return false;
  return existsSync(join(resolve(repoRoot, env.KEYWARD_DATA || '.keyward'), 'run', 'kafka.nodes'));
}

export function infra(verb, components, { quiet = false } = {}) {
  const result = spawnSync('bash', [infraScript, verb, ...components], {
    cwd: repoRoot,
    stdio: quiet ? 'ignore' : 'inherit',
    env: process.env,
  });
  return result.status ?? 1;
}

/** The subset of `components` that already answers. */
export function running(components) {
  return components.filter((c) => infra('status', [c], { quiet: true }) === 0);
}
