// `npm run bench [-- <scenario>...] [--quick]`: brings up (or reuses) Kafka and FerretDB, starts its
// own key-api and projector from dist/ on a fresh database and topics, runs the scenarios, prints
// a table and writes bench/results/latest.json. See bench/README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { infra, localComponents, localEnv, running } from '../scripts/lib/infra.mjs';
import { machineInfo, judgeTargets, renderTable } from './lib/report.mjs';
import { BenchStack } from './lib/stack.mjs';
import { benchDir, dropRunData, killChildren, round } from './lib/util.mjs';
import { aesCeiling } from './scenarios/aes.mjs';
import { backup } from './scenarios/backup.mjs';
import { addCeilingRatios, CRYPTO_SCENARIOS, cryptoFixture, cryptoScenario, httpCeiling, SIGN_BATCH_ITEMS } from './scenarios/http.mjs';
import { addSignCeilingRatios, SIGN_SCENARIOS, signCeiling } from './scenarios/sign.mjs';
import { encryptWithGrants, GRANTS_HELD } from './scenarios/grants.mjs';
import { addKmipVsRest, KMIP_VS_REST, kmipEncrypt, kmipGet } from './scenarios/kmip.mjs';
import { lifecycle } from './scenarios/lifecycle.mjs';
import { replay } from './scenarios/replay.mjs';
import { store } from './scenarios/store.mjs';
import { scale, stopScale } from './scenarios/scale.mjs';
import { publishResult } from './perf-doc.mjs';
import { FILL_METHODS } from './lib/scale-fill.mjs';

const SCENARIOS = [
  'aes-ceiling',
  'sign-ceiling',
  'http-ceiling',
  ...CRYPTO_SCENARIOS,
  'encrypt-1k-grants',
  'kmip-get',
  'kmip-encrypt',
  'lifecycle',
  'replay',
  'backup',
  'store',
  'scale',
];
/** Long scenarios that run only when named. */
const ON_REQUEST = new Set(['encrypt-1k-grants', 'store', 'scale']);
const NEEDS_STACK = new Set(['http-ceiling', ...CRYPTO_SCENARIOS, 'encrypt-1k-grants', 'kmip-get', 'kmip-encrypt', 'lifecycle']);
/** Names that select several scenarios. */
const GROUPS = { kmip: ['kmip-get', 'kmip-encrypt'] };
const NEEDS_INFRA = new Set([...NEEDS_STACK, 'replay', 'backup', 'store']);

const HELP = `usage: npm run bench -- [scenario...] [options]

Scenarios (default: all but scale, in this order): ${SCENARIOS.join(', ')}
A unique prefix selects a scenario (encrypt = encrypt-1k); kmip selects kmip-get and kmip-encrypt.
HTTP scenarios also run http-ceiling for their ratios, and the kmip ones encrypt-1k (their ratio
to REST at 16 connections), unless --no-ceiling is given. scale runs only when named (it fills the store to
100,000 keys: an hour or more; --quick: a few minutes). encrypt-1k-grants runs only when named:
encrypt-1k as a key-user of an open tenant and as one holding ${GRANTS_HELD} grants, alternating,
--grants-rounds rounds each at every connection count, and the ratio of the two.

Options:
  --quick                 a very short version of everything (smoke test)
  --duration <s>          seconds per HTTP load point (default 10, quick 2)
  --warmup <s>            discarded warm-up per HTTP scenario (default 2, quick 0.5)
  --connections <list>    connection counts (default 1,16,64)
  --lifecycle-seconds <s> seconds of each lifecycle phase (default 10, quick 2)
  --lifecycle-tenants <n> concurrent tenant-admins in lifecycle (default 4, quick 2)
  --replay-events <n>     events to replay (default 100000, quick 2000)
  --replay-timeout <s>    stop the rebuild after this long and report the rate so far (default 240, quick 60)
  --out <file>            where to write the JSON (default bench/results/latest.json)
  --log-level <level>     LOG_LEVEL of the services (default info, as deployed)
  --no-ceiling            do not add http-ceiling to a selection without it
  --grants <n>            the crypto scenarios' key-user holds n grants in a grants-required tenant
                          (the one allowing its keys last; default 0: an open tenant, no grants)
  --grants-rounds <n>     rounds of each side in encrypt-1k-grants (default 3, quick 1); --grants <n> there
                          sets the grants the key-user holds (default ${GRANTS_HELD}; 1: a control run)
  --sign-batch <n>        messages in one request of sign-*-batch (default ${SIGN_BATCH_ITEMS}; at most 256)
  --doc                   publish this run into docs/performance.md (its tables; not for --quick runs).
                          --readme is the old name. Later: npm run perf:doc -- --from <result.json>

scale (bench/README.md):
  --scale-keys <list>     store sizes (keys) measured after the empty store (default 1000,10000,100000; quick 50,150)
  --scale-tenants <n>     tenants at the largest size; keys per tenant = largest size / n (default 1000; quick 6)
  --scale-idle <s>        seconds of the idle CPU window (default 60; quick 5)
  --scale-fill <how>      direct (default): keys' commands through the libraries' CommandExecutor and
                          relay in the bench process, key-api stopped meanwhile (no HTTP, TLS or
                          authentication per command); api: through key-api's HTTP API. Tenants are
                          onboarded through the API either way.
  --scale-concurrency <n> fill commands in flight (default 64 direct, 32 api)
  --scale-data-dir <dir>  keep the store, the broker and the services' folders in <dir> between runs
                          (default: a throwaway folder); a later run resumes the fill or measures it
  --scale-fill-only       with --scale-data-dir: fill up to the largest --scale-keys, measure nothing
  --scale-measure-only    with --scale-data-dir: measure the store as filled, fill nothing
  --scale-infra <which>   own: a FerretDB and a Kafka of its own on free ports (default); shared: KAFKA_BROKERS/MONGODB_URI
  --scale-timeout <s>     longest wait for the views to catch up, and for the rebuild (default 3600; quick 120)

Uses KAFKA_BROKERS and MONGODB_URI when both are set; otherwise starts the local infrastructure
(infra/infra.sh) and stops afterwards what it started.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    'lifecycle-seconds': { type: 'string' },
    'lifecycle-tenants': { type: 'string' },
    'replay-events': { type: 'string' },
    'replay-timeout': { type: 'string' },
    out: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'no-ceiling': { type: 'boolean', default: false },
    grants: { type: 'string' },
    'grants-rounds': { type: 'string' },
    'sign-batch': { type: 'string' },
    'scale-keys': { type: 'string' },
    'scale-tenants': { type: 'string' },
    'scale-idle': { type: 'string' },
    'scale-concurrency': { type: 'string' },
    'scale-fill': { type: 'string', default: 'direct' },
    'scale-data-dir': { type: 'string' },
    'scale-fill-only': { type: 'boolean', default: false },
    'scale-measure-only': { type: 'boolean', default: false },
    'scale-infra': { type: 'string', default: 'own' },
    'scale-timeout': { type: 'string' },
    doc: { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

function number(name, fallback) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number, not "${raw}"`);
  return n;
}
function scalePhase() {
  const [fillOnly, measureOnly] = [values['scale-fill-only'], values['scale-measure-only']];
  if (fillOnly && measureOnly) usage('--scale-fill-only and --scale-measure-only exclude each other');
  if ((fillOnly || measureOnly) && !values['scale-data-dir']) usage('--scale-fill-only and --scale-measure-only need --scale-data-dir');
  return fillOnly ? 'fill' : measureOnly ? 'measure' : 'all';
}
function usage(message) {
  console.error(`bench: ${message}\n\n${HELP}`);
  process.exit(64);
}

const quick = values.quick;
const settings = {
  durationSec: number('duration', quick ? 2 : 10),
  warmupSec: values.warmup === '0' ? 0 : number('warmup', quick ? 0.5 : 2),
  connections: (values.connections ?? '1,16,64').split(',').map((c) => {
    const n = Number(c);
    if (!Number.isInteger(n) || n < 1) usage(`--connections must list positive integers, not "${values.connections}"`);
    return n;
  }),
  lifecycleSeconds: number('lifecycle-seconds', quick ? 2 : 10),
  lifecycleTenants: number('lifecycle-tenants', quick ? 2 : 4),
  replayEvents: number('replay-events', quick ? 2_000 : 100_000),
  replayTenants: quick ? 10 : 100,
  replayTimeoutSec: number('replay-timeout', quick ? 60 : 240),
  logLevel: values['log-level'],
  grants: number('grants', 0),
  grantsRounds: number('grants-rounds', quick ? 1 : 3),
  signBatchItems: number('sign-batch', SIGN_BATCH_ITEMS),
  tls: (process.env.KEY_API_TLS ?? 'on') !== 'off',
  scale: {
    stages: (values['scale-keys'] ?? (quick ? '50,150' : '1000,10000,100000'))
      .split(',')
      .map((k) => {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 1) usage(`--scale-keys must list positive integers, not "${values['scale-keys']}"`);
        return n;
      })
      .filter((n, i, all) => all.indexOf(n) === i)
      .sort((a, b) => a - b),
    tenants: number('scale-tenants', quick ? 6 : 1000),
    idleSec: number('scale-idle', quick ? 5 : 60),
    fillMethod: FILL_METHODS.includes(values['scale-fill']) ? values['scale-fill'] : usage(`--scale-fill is ${FILL_METHODS.join(' or ')}`),
    concurrency: number('scale-concurrency', values['scale-fill'] === 'api' ? 32 : 64),
    dataDir: values['scale-data-dir'],
    phase: scalePhase(),
    ownInfra: values['scale-infra'] === 'own' ? true : values['scale-infra'] === 'shared' ? false : usage('--scale-infra is own or shared'),
    timeoutSec: number('scale-timeout', quick ? 120 : 3600),
  },
};

const selected = new Set();
for (const p of positionals) {
  const exact = SCENARIOS.find((s) => s === p);
  // A prefix that also names on-request scenarios selects the regular one (encrypt = encrypt-1k).
  const all = SCENARIOS.filter((s) => s.startsWith(p));
  const regular = all.filter((s) => !ON_REQUEST.has(s));
  const byPrefix = regular.length === 1 ? regular : all;
  if (GROUPS[p]) GROUPS[p].forEach((s) => selected.add(s));
  else if (exact) selected.add(exact);
  else if (byPrefix.length === 1) selected.add(byPrefix[0]);
  else usage(byPrefix.length === 0 ? `unknown scenario "${p}"` : `"${p}" is ambiguous: ${byPrefix.join(', ')}`);
}
if (selected.size === 0) SCENARIOS.filter((s) => !ON_REQUEST.has(s)).forEach((s) => selected.add(s));
if (!values['no-ceiling'] && GROUPS.kmip.some((s) => selected.has(s))) selected.add(KMIP_VS_REST.rest);
if (!values['no-ceiling'] && CRYPTO_SCENARIOS.some((s) => selected.has(s))) selected.add('http-ceiling');
if (!values['no-ceiling'] && Object.keys(SIGN_SCENARIOS).some((s) => selected.has(s))) selected.add('sign-ceiling');
const plan = SCENARIOS.filter((s) => selected.has(s));

const outFile = resolve(values.out ?? join(benchDir, 'results', 'latest.json'));
const partialFile = outFile.replace(/(\.json)?$/, '.scale-partial.json');
const runId = `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
const startedAt = new Date();
const scenarios = {};
let stack;
let startedInfra = [];
let cleaning;

/** Stops the services, drops the run's database and topics, and stops the infrastructure it started. */
function cleanup(env) {
  cleaning ??= (async () => {
    killChildren();
    await stopScale().catch((e) => console.error(`bench: stopping scale: ${e.message}`));
    if (stack) {
      const keep = Object.values(scenarios).some((s) => s.status === 'failed');
      await stack.stop({ keep }).catch((e) => console.error(`bench: stopping services: ${e.message}`));
      if (keep) console.log(`bench: service logs kept in ${stack.dataDir}`);
      await dropRunData(env, stack.env.MONGODB_DB, runId).catch((e) => console.error(`bench: dropping run data: ${e.message}`));
    }
    if (startedInfra.length > 0) {
      console.log(`bench: stopping what this run started (${startedInfra.join(', ')})`);
      infra('down', startedInfra);
    }
  })();
  return cleaning;
}

async function step(name, fn) {
  if (cleaning) return; // interrupted: run nothing more
  const started = performance.now();
  process.stdout.write(`bench: ${name} ... `);
  try {
    scenarios[name] = await fn();
  } catch (err) {
    scenarios[name] = { status: 'failed', reason: err instanceof Error ? err.message : String(err) };
  }
  scenarios[name].wallSeconds = round((performance.now() - started) / 1000, 1);
  const s = scenarios[name];
  console.log(
    `${s.status} (${s.wallSeconds} s)${s.status === 'ok' ? '' : `: ${s.reason ?? (s.problems ?? s.firstProblems ?? []).join('; ')}`}`,
  );
}

async function main() {
  console.log(`bench: ${quick ? 'quick' : 'full'} run ${runId}: ${plan.join(', ')}`);
  const needsInfra = plan.some((s) => NEEDS_INFRA.has(s)) || (plan.includes('scale') && !settings.scale.ownInfra);
  let env = { ...process.env };
  if (needsInfra) {
    const components = localComponents();
    if (components.length > 0) {
      const already = running(components);
      console.log(`bench: local infrastructure ${components.join(', ')} (already running: ${already.join(', ') || 'none'})`);
      startedInfra = components.filter((c) => !already.includes(c));
      if (infra('up', components) !== 0) throw new Error('could not start the local infrastructure (infra/infra.sh up)');
      env = { ...env, ...localEnv(components) };
    }
  }
  const brokers = env.KAFKA_BROKERS;
  const mongoUri = env.MONGODB_URI;
  // A closed stdout (`npm run bench | head`) must not kill the run before it cleaned up.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  process.on('uncaughtException', (err) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    void cleanup(env).then(() => process.exit(1));
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      console.log(`\nbench: ${signal}; cleaning up`);
      void cleanup(env).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }

  try {
    if (plan.includes('aes-ceiling')) await step('aes-ceiling', () => aesCeiling({ durationSec: quick ? 0.5 : 3 }));
    if (plan.includes('sign-ceiling')) await step('sign-ceiling', () => signCeiling({ durationSec: quick ? 0.5 : 3 }));

    // Set-up failures fail the scenarios that need it, not the whole run.
    let setupError;
    let fixture;
    const ready = (fn) => () => (setupError ? Promise.reject(setupError) : fn());
    if (plan.some((s) => NEEDS_STACK.has(s))) {
      process.stdout.write('bench: starting key-api and projector ... ');
      try {
        stack = new BenchStack({ brokers, mongoUri, runId, logLevel: settings.logLevel });
        await stack.start();
        console.log(`ok (db ${stack.env.MONGODB_DB}, key-api ${stack.client.base.origin}, pid ${stack.apiPid})`);
        if (plan.includes('http-ceiling') || plan.includes('encrypt-1k-grants') || CRYPTO_SCENARIOS.some((s) => plan.includes(s)))
          fixture = await cryptoFixture(stack, { grants: settings.grants, signBatchItems: settings.signBatchItems });
      } catch (err) {
        setupError = new Error(`set-up failed: ${err instanceof Error ? err.message : String(err)}`);
        console.log(setupError.message);
      }
    }
    const http = { connections: settings.connections, durationSec: settings.durationSec, warmupSec: settings.warmupSec };
    if (plan.includes('http-ceiling'))
      await step(
        'http-ceiling',
        ready(() => httpCeiling(stack, fixture, http)),
      );
    for (const name of CRYPTO_SCENARIOS) {
      if (plan.includes(name))
        await step(
          name,
          ready(() => cryptoScenario(name, stack, fixture, http)),
        );
    }
    if (plan.includes('encrypt-1k-grants'))
      await step(
        'encrypt-1k-grants',
        ready(() => encryptWithGrants(stack, fixture, { ...http, rounds: settings.grantsRounds, grants: settings.grants || GRANTS_HELD })),
      );
    if (plan.includes('kmip-get'))
      await step(
        'kmip-get',
        ready(() => kmipGet(stack, { ...http, connections: quick ? [1] : [1, 16] })),
      );
    if (plan.includes('kmip-encrypt'))
      await step(
        'kmip-encrypt',
        ready(() => kmipEncrypt(stack, { ...http, connections: quick ? [1] : [1, 16] })),
      );
    if (plan.includes('lifecycle')) {
      await step(
        'lifecycle',
        ready(() => lifecycle(stack, { durationSec: settings.lifecycleSeconds, tenants: settings.lifecycleTenants })),
      );
    }
    if (plan.includes('replay')) {
      await step('replay', () =>
        replay({
          brokers,
          mongoUri,
          runId,
          events: settings.replayEvents,
          tenants: Math.min(settings.replayTenants, settings.replayEvents),
          timeoutSec: settings.replayTimeoutSec,
        }),
      );
    }
    if (plan.includes('backup'))
      await step('backup', () => backup({ brokers, mongoUri, runId, keys: quick ? 1_000 : 10_000, tenants: 20 }));
    if (plan.includes('store'))
      await step('store', () =>
        store({
          mongoUri,
          runId,
          sizes: quick ? [200, 1_000] : [1_000, 10_000, 50_000],
          samples: quick ? 30 : 200,
          budgetMs: quick ? 3_000 : 20_000,
        }),
      );
    if (plan.includes('scale')) {
      await step('scale', () =>
        scale({
          ...settings.scale,
          brokers,
          mongoUri,
          runId,
          logLevel: settings.logLevel,
          durationSec: settings.durationSec,
          warmupSec: settings.warmupSec,
          lifecycleSeconds: settings.lifecycleSeconds,
          lifecycleTenants: settings.lifecycleTenants,
          viewsTimeoutSec: settings.scale.timeoutSec,
          rebuildTimeoutSec: settings.scale.timeoutSec,
          // A long run keeps what it measured so far (each stage), should it stop before the end.
          onStage: (partial) => {
            mkdirSync(dirname(outFile), { recursive: true });
            writeFileSync(
              partialFile,
              JSON.stringify({ runId, startedAt: startedAt.toISOString(), settings, scale: partial }, null, 2) + '\n',
            );
          },
        }),
      );
    }
  } finally {
    await cleanup(env);
  }

  for (const name of CRYPTO_SCENARIOS) addCeilingRatios(scenarios[name], scenarios['http-ceiling']);
  for (const name of Object.keys(SIGN_SCENARIOS)) addSignCeilingRatios(name, scenarios[name], scenarios['sign-ceiling']);
  addKmipVsRest(scenarios);
  const finishedAt = new Date();
  const result = {
    mode: quick ? 'quick' : 'full',
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: round((finishedAt - startedAt) / 1000, 1),
    machine: machineInfo(),
    settings,
    warnings: stack?.warnings ?? [],
    scenarios,
    targets: judgeTargets(scenarios),
  };
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
  console.log(`\n${renderTable(result)}\n\nbench: wrote ${outFile} (${result.wallSeconds} s)`);
  if (values.doc || values.readme) {
    try {
      console.log(`bench: ${publishResult(outFile)}`);
    } catch (err) {
      console.error(`bench: --doc: ${err.message}; docs/performance.md left as it is`);
    }
  }
  const failed = Object.entries(scenarios).filter(([, s]) => s.status === 'failed');
  if (failed.length > 0) {
    console.error(`bench: ${failed.length} scenario(s) failed: ${failed.map(([n]) => n).join(', ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
