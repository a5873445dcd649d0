// `npm start`: brings up the local infrastructure when none is configured, then runs key-api,
// the projector and the backup service; Ctrl-C stops the services (the infrastructure keeps
// running until `npm run infra:down`).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { haproxyConfig } from '../infra/haproxy/haproxy-config.mjs';
import { infra, localComponents, localEnv, repoRoot } from './lib/infra.mjs';
import { serviceNodeFlags } from './lib/service-node-flags.mjs';

// The banner first: where to connect is what a person looks for; the services' logs follow it.
const host = process.env.KEY_API_HOST || '127.0.0.1';
const port = process.env.KEY_API_PORT || '8443';
const tls = (process.env.KEY_API_TLS || 'on') !== 'off';
const base = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
console.log(banner(process.env));
const startedAt = Date.now();

const components = localComponents();
if (components.length > 0) {
  console.log(`keyward: starting local infrastructure (${components.join(', ')}); stop it with npm run infra:down`);
  if (infra('up', components) !== 0) process.exit(1);
}
const env = { ...process.env, ...localEnv(components) };
const children = new Map();
let stopping = false;
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// KEY_API_INSTANCES=N (N > 1): N key-api processes on ports of their own behind HAProxy, which
// listens where key-api would (docs/high-availability.md).
const instances = Number(env.KEY_API_INSTANCES || 1);
if (!Number.isInteger(instances) || instances < 1 || instances > 9) {
  console.error(`keyward: KEY_API_INSTANCES must be 1-9 (got '${env.KEY_API_INSTANCES}')`);
  process.exit(78);
}
if (instances > 1 && spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0) {
  console.error('keyward: KEY_API_INSTANCES > 1 runs the instances behind HAProxy, which is not installed (apt-get install haproxy)');
  process.exit(78);
}

function run(
  label,
  name,
  extraEnv = {},
  command = [
    process.execPath,
    '--enable-source-maps',
    ...serviceNodeFlags(name),
    join(repoRoot, 'dist', 'services', name, 'src', 'main.js'),
  ],
) {
  const child = spawn(command[0], command.slice(1), {
    cwd: repoRoot,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.set(label, child);
  child.on('exit', (code, signal) => {
    children.delete(label);
    if (!stopping) {
      console.error(`keyward: ${label} exited (${signal ?? code}); stopping the others`);
      stop(code || 1);
    } else if (children.size === 0) {
      process.exit(process.exitCode ?? 0);
    }
  });
}

const others = () => ['projector', 'backup', 'kmip'].forEach((name) => run(name, name));
if (instances === 1) {
  run('key-api', 'key-api');
  others();
} else {
  const apiPort = Number(port);
  const metricsPort = Number(env.KEY_API_METRICS_PORT || 8447);
  const servers = [];
  for (let i = 1; i <= instances; i++) {
    servers.push(`127.0.0.1:${apiPort + 10 * i}`);
    const own = { KEY_API_HOST: '127.0.0.1', KEY_API_PORT: String(apiPort + 10 * i), KEY_API_METRICS_PORT: String(metricsPort + 10 * i) };
    // The first instance alone until it answers: it generates what the data folder lacks (root key, TLS, the admin key).
    if (i === 2) await until(() => ready(`${tls ? 'https' : 'http'}://127.0.0.1:${apiPort + 10}/health/live`));
    if (!stopping) run(`key-api-${i}`, 'key-api', own);
    if (i === 1) others();
  }
  const dataDir = resolvePath(repoRoot, env.KEYWARD_DATA || '.keyward');
  const cfg = join(dataDir, 'run', 'haproxy.cfg');
  mkdirSync(dirname(cfg), { recursive: true });
  writeFileSync(cfg, `${haproxyConfig({ listen: `${host}:${port}`, servers, tls })}\n`);
  console.log(`keyward: HAProxy on ${host}:${port} in front of key-api ${servers.join(', ')} (${cfg})`);
  if (!stopping) run('haproxy', 'haproxy', {}, ['haproxy', '-W', '-db', '-f', cfg]);
}

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  process.exitCode = code;
  for (const child of children.values()) child.kill('SIGTERM');
  const grace = Number(env.SHUTDOWN_GRACE_MS || 10_000) + 5_000;
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    process.exit(code || 1);
  }, grace).unref();
  if (children.size === 0) process.exit(code);
}

/** Where each service answers, and how to stop them. */
function banner(env) {
  const data = env.KEYWARD_DATA || '.keyward';
  return [
    'Keyward is starting:',
    `  key-api     ${base}   (OpenAPI: ${base}/docs)`,
    tls && !env.KEY_API_TLS_CERT ? `  CA          ${join(data, 'tls', 'ca.crt')} (development CA; curl --cacert it)` : null,
    `  health      ${base}/health/ready   metrics http://${env.KEY_API_METRICS_HOST || '127.0.0.1'}:${env.KEY_API_METRICS_PORT || 8447}/metrics`,
    `  projector   http://${env.PROJECTOR_HOST || '127.0.0.1'}:${env.PROJECTOR_PORT || 8444}/health/ready`,
    `  backup      http://${env.BACKUP_HOST || '127.0.0.1'}:${env.BACKUP_PORT || 8445}/health/ready`,
    `  kmip        ${env.KMIP_HOST || '127.0.0.1'}:${env.KMIP_PORT || 5696} (KMIP over mutual TLS; client certificates O=<tenantId>, CN=<principalId>)`,
    `              health http://${env.KMIP_HTTP_HOST || '127.0.0.1'}:${env.KMIP_HTTP_PORT || 8446}/health/ready`,
    `  admin key   ${join(data, 'provider-admin.key')} (the provider-admin's API key, written on the first start)`,
    'Ctrl-C stops the services; npm run infra:down stops Kafka and FerretDB.',
    '',
  ]
    .filter(Boolean)
    .join('\n');
}

// Say when key-api is ready (the banner above said where).
const deadline = Date.now() + 120_000;
async function announce() {
  let up = false;
  while (!stopping && !up && Date.now() < deadline) {
    up = await ready();
    if (!up) await new Promise((r) => setTimeout(r, 500));
  }
  if (stopping) return;
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  console.log(
    up
      ? `\nKeyward is ready (${seconds} s): ${base}   (OpenAPI: ${base}/docs)\n`
      : `\nkeyward: key-api is not ready after ${seconds} s; see the logs above`,
  );
}

/** One readiness probe, trusting the development CA when key-api generated its certificate. */
async function ready(url = `${base}/health/ready`) {
  const { request } = await import(tls ? 'node:https' : 'node:http');
  const { existsSync, readFileSync } = await import('node:fs');
  const caFile = resolvePath(repoRoot, env.KEYWARD_DATA || '.keyward', 'tls', 'ca.crt');
  const ca = tls && !env.KEY_API_TLS_CERT && existsSync(caFile) ? readFileSync(caFile) : undefined;
  return new Promise((resolve) => {
    const req = request(url, { timeout: 2_000, ...(ca ? { ca } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
/** Polls `check` every 500 ms until it holds or the services stop. */
async function until(check) {
  while (!stopping && !(await check())) await new Promise((r) => setTimeout(r, 500));
}
void announce();
