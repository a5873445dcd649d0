// Helpers shared by start.mjs and test.mjs: which local infrastructure to run, and running it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

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
  if (components.includes('kafka')) out.KAFKA_BROKERS = `127.0.0.1:${env.KAFKA_PORT || 9092}`;
  if (components.includes('ferretdb')) out.MONGODB_URI = `mongodb://127.0.0.1:${env.MONGO_PORT || 27017}`;
  if (components.includes('mongodb')) out.MONGODB_URI = `mongodb://127.0.0.1:${env.MONGOD_PORT || 27018}/?replicaSet=rs0`;
  return out;
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
