// scale: does a request cost the same on a full store as on an empty one? Starts a stack of its
// own (key-api and projector from dist/, by default on a FerretDB and a Kafka of its own started
// with the project's infra scripts), then at each stage (the empty store, then each --scale-keys
// size) fills the store through key-api's HTTP API (bench/lib/scale-fill.mjs), waits for the views,
// and measures: idle CPU of every process, RSS, the store's size on disk, list and get latency,
// lifecycle commands and command-to-visible latency (the lifecycle scenario), encrypt-1k and
// decrypt-1k at 16 connections (the http scenario), KMIP Get (the kmip scenario), the rebuild of
// the views (`keyward replay`, as the replay scenario runs it) and key-api's start-up time.
// With a data folder (--scale-data-dir) the store, the broker and the services' folders stay there
// between runs, with the fill's state (bench/lib/scale-state.mjs): `fill` grows it (resuming an
// interrupted fill), `measure` measures it as it is, `all` (default) does both, stage by stage.
import { join, resolve } from 'node:path';
import { RssSampler } from '../lib/load.mjs';
import { OwnInfra } from '../lib/own-infra.mjs';
import { databaseBytes, directoryBytes, ferretDataDir, idleCpu, localPort, pidListeningOn, rssMiB } from '../lib/procs.mjs';
import { ScaleFill } from '../lib/scale-fill.mjs';
import { checkFilledKeys } from '../lib/scale-check.mjs';
import { ScaleState } from '../lib/scale-state.mjs';
import { BenchStack } from '../lib/stack.mjs';
import { dropRunData, lastJsonLine, latencySummary, repoRoot, round, sleep, spawn } from '../lib/util.mjs';
import { cryptoFixture, cryptoScenario } from './http.mjs';
import { kmipGet } from './kmip.mjs';
import { lifecycle } from './lifecycle.mjs';

/** Reads spread over at most this many tenants and keys per tenant. */
const READ_TENANTS = 50;
const READ_KEYS_PER_TENANT = 20;
const MIN_READS = 20;
const READ_GIVE_UP_SEC = 120;

let active = null;
/** The fill of the run under way, and the stage it is filling (a promise), if any. */
let filling = null;

/** Stops whatever a scale run still has running (for an interrupted bench): a fill first ends cleanly and saves its state. */
export async function stopScale() {
  if (filling) {
    filling.fill.stop();
    await filling.step.catch(() => undefined);
  }
  await active?.();
}

/** `keyward replay --json` into a scratch database: the rebuild of every view from the topic. */
function rebuildViews(env, timeoutSec) {
  return new Promise((resolve) => {
    const args = [join(repoRoot, 'bin', 'keyward.mjs'), 'replay', '--json'];
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const sampler = new RssSampler(child.pid);
    let out = '';
    let err = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutSec * 1000);
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    child.on('exit', (code) => {
      clearTimeout(timer);
      const peakRssMiB = sampler.stop();
      if (timedOut) return resolve({ ok: false, reason: `stopped at the ${timeoutSec} s limit`, peakRssMiB });
      try {
        const r = lastJsonLine(out);
        resolve({
          // 0: every tenant's rebuilt views match the live ones; 2: some differ or a chain breaks.
          ok: code === 0,
          exitCode: code,
          commits: r.commits,
          events: r.events,
          tenants: r.tenants,
          seconds: round(r.seconds, 2),
          commitsPerSec: round(r.commitsPerSec, 0),
          checksumSeconds: round(r.checksumSeconds, 2),
          mismatched: Array.isArray(r.mismatched) ? r.mismatched.length : r.mismatched,
          // Tenants whose live views an older view schema wrote (not faults: the projector rebuilds them).
          olderViewSchema: Array.isArray(r.olderViewSchema) ? r.olderViewSchema.length : 0,
          chainVerified: r.chainVerified,
          peakRssMiB,
        });
      } catch {
        resolve({ ok: false, reason: `keyward replay exited ${code}: ${(err || out).slice(-500)}`, peakRssMiB });
      }
    });
  });
}

/**
 * GET latency over `rotate` ([{ path, apiKey }]), one request at a time, each path in turn:
 * for `durationSec` and at least MIN_READS requests (a read slower than the window still counts),
 * at most READ_GIVE_UP_SEC.
 */
async function readLatency(stack, rotate, { durationSec }) {
  const ms = [];
  const statuses = {};
  const started = performance.now();
  for (let i = 0; ; i++) {
    const elapsed = (performance.now() - started) / 1000;
    if ((elapsed >= durationSec && i >= MIN_READS) || elapsed >= READ_GIVE_UP_SEC) break;
    const { path, apiKey } = rotate[i % rotate.length];
    const answer = await stack.client
      .request('GET', path, { key: apiKey, timeoutMs: 30_000 })
      .catch((e) => ({ status: 0, text: e.message, ms: null }));
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    if (answer.status === 200) ms.push(answer.ms);
  }
  const seconds = (performance.now() - started) / 1000;
  const failed = Object.entries(statuses).filter(([code]) => code !== '200');
  return {
    status: failed.length === 0 ? 'ok' : 'failed',
    ...(failed.length === 0 ? {} : { reason: `answers other than 200: ${JSON.stringify(Object.fromEntries(failed))}` }),
    requests: Object.values(statuses).reduce((a, b) => a + b, 0),
    requestsPerSec: round(ms.length / seconds, 1),
    latency: latencySummary(ms),
    paths: rotate.length,
  };
}

/** The reads of a stage: the fixture tenant, then fill tenants spread over the whole fill. */
function readTargets(fixture, fill) {
  const lists = [{ path: '/v1/keys', apiKey: fixture.userKey }];
  const gets = [fixture.aesKeyId, fixture.hmacKeyId].map((id) => ({ path: `/v1/keys/${id}`, apiKey: fixture.userKey }));
  const step = Math.max(1, Math.floor(fill.tenants.length / READ_TENANTS));
  for (let i = 0; i < fill.tenants.length && lists.length <= READ_TENANTS; i += step) {
    const t = fill.tenants[i];
    const apiKey = t.adminKey;
    lists.push({ path: '/v1/keys', apiKey });
    const keyStep = Math.max(1, Math.floor(t.keys.length / READ_KEYS_PER_TENANT));
    for (let k = 0; k < t.keys.length; k += keyStep) gets.push({ path: `/v1/keys/${t.keys[k].keyId}`, apiKey });
  }
  return { lists, gets };
}

/**
 * Waits until the start-up work is done: key-api has no tenant left to checkpoint
 * (keyward_audit_checkpoint_pending_tenants) and the projector none left to index
 * (keyward_projector_tenants_to_index: views written by a version before the tenant index), both at
 * 0 twice in a row; answers how long that took and how many were pending at first.
 */
async function settle(stack, timeoutSec) {
  const started = performance.now();
  const gauges = [
    ['key-api', 'keyward_audit_checkpoint_pending_tenants'],
    ['projector', 'keyward_projector_tenants_to_index'],
  ];
  const read = () => Promise.all(gauges.map(([service, name]) => stack.serviceMetric(service, name)));
  const first = await read();
  process.stdout.write(`bench: scale: settling (${first[0] ?? '?'} tenants to checkpoint, ${first[1] ?? '?'} to index) ... `);
  let zeros = 0;
  while (zeros < 2) {
    if ((performance.now() - started) / 1000 > timeoutSec) {
      console.log('timed out');
      return {
        status: 'failed',
        reason: `start-up work still pending after ${timeoutSec} s`,
        pendingAtStart: first[0],
        toIndexAtStart: first[1],
      };
    }
    const now = await read();
    const missing = gauges.filter((_, i) => now[i] === null).map(([service, name]) => `${service} ${name}`);
    if (missing.length > 0 && (performance.now() - started) / 1000 > 60) {
      console.log('no gauge');
      return { status: 'failed', reason: `no ${missing.join(', ')} on /metrics`, pendingAtStart: first[0], toIndexAtStart: first[1] };
    }
    zeros = now.every((v) => v === 0) ? zeros + 1 : 0;
    await sleep(zeros < 2 ? 5_000 : 0);
  }
  const seconds = round((performance.now() - started) / 1000, 1);
  console.log(`${seconds} s`);
  return { status: 'ok', pendingAtStart: first[0], toIndexAtStart: first[1], seconds };
}

/** Runs one measured part; a failure is recorded in the stage and the next part runs. */
async function part(stage, name, fn) {
  const started = performance.now();
  try {
    stage[name] = await fn();
  } catch (err) {
    stage[name] = { status: 'failed', reason: err instanceof Error ? err.message : String(err) };
    stage.problems.push(`${name}: ${stage[name].reason.split('\n')[0]}`);
  }
  if (stage[name] && typeof stage[name] === 'object') stage[name].wallSeconds = round((performance.now() - started) / 1000, 1);
}

/** Measures one stage as the store is now (the stage's fill, if any, is done). */
async function measureStage(stage, { settings, stack, fixture, fill, pids, storeDir, infra }) {
  await sleep(2_000);
  // Idle means nothing left to do: after a fill (written while key-api was stopped, or faster than
  // its checkpoint passes), key-api first reads every new commit to sign its tenants' checkpoints.
  await part(stage, 'settle', () => settle(stack, settings.timeoutSec));
  process.stdout.write(`bench: scale: idle ${settings.idleSec} s ... `);
  await part(stage, 'idle', () => idleCpu(pids(), settings.idleSec));
  console.log(`${stage.idle.totalPercentOfCore ?? '-'} % of a core`);
  stage.rssMiB = rssMiB(pids());
  stage.store = {
    dir: storeDir,
    databaseMiB: storeDir ? round(databaseBytes(storeDir, stack.env.MONGODB_DB) / 2 ** 20, 2) : null,
    ...(infra ? { dataDirMiB: round(directoryBytes(storeDir) / 2 ** 20, 2) } : {}),
  };
  const sampler = new RssSampler(stack.apiPid);
  const { lists, gets } = readTargets(fixture, fill);
  const http = { connections: [16], durationSec: settings.durationSec, warmupSec: settings.warmupSec };
  await part(stage, 'list', () => readLatency(stack, lists, settings));
  await part(stage, 'get', () => readLatency(stack, gets, settings));
  await part(stage, 'lifecycle', () => lifecycle(stack, { durationSec: settings.lifecycleSeconds, tenants: settings.lifecycleTenants }));
  await part(stage, 'encrypt', () => cryptoScenario('encrypt-1k', stack, fixture, http));
  await part(stage, 'decrypt', () => cryptoScenario('decrypt-1k', stack, fixture, http));
  await part(stage, 'kmip', () => kmipGet(stack, http));
  stage.keyApiPeakRssMiB = sampler.stop();
  await part(stage, 'rebuild', () => rebuildViews({ ...stack.env }, settings.rebuildTimeoutSec));
  await part(stage, 'startup', async () => ({ ms: round(await stack.restartKeyApi(), 0) }));
}

/** Adds the failed or incomplete parts of a stage to its problems. */
function noteProblems(stage) {
  for (const [name, s] of Object.entries(stage)) {
    const why = s?.reason ?? (s?.problems ?? s?.firstProblems ?? []).join('; ');
    if (s?.status === 'failed' && !stage.problems.some((p) => p.startsWith(name))) stage.problems.push(`${name}: ${why}`);
    else if (s?.status && s.status !== 'ok' && s.status !== 'failed') stage.problems.push(`${name}: ${s.status} ${why}`);
  }
  if (stage.rebuild && stage.rebuild.ok === false)
    stage.problems.push(`rebuild: ${stage.rebuild.reason ?? `exit ${stage.rebuild.exitCode}`}`);
}

/** The sizes a run fills to and measures at, by phase: [{ keys, fill: bool, measure: bool }]. */
function plannedStages(settings, filledKeys) {
  if (settings.phase === 'measure') return [{ keys: filledKeys, fill: false, measure: true }];
  const sizes = settings.stages.filter((keys) => keys > filledKeys);
  if (settings.phase === 'fill') return sizes.map((keys) => ({ keys, fill: true, measure: false }));
  return [{ keys: filledKeys, fill: false, measure: true }, ...sizes.map((keys) => ({ keys, fill: true, measure: true }))];
}

/**
 * @param settings { brokers, mongoUri, runId, logLevel, stages: number[] (keys), tenants, idleSec,
 *   durationSec, warmupSec, lifecycleSeconds, lifecycleTenants, concurrency, ownInfra, rebuildTimeoutSec,
 *   viewsTimeoutSec, fillMethod ('direct' | 'api'), dataDir (kept between runs, or undefined),
 *   phase ('all' | 'fill' | 'measure') }
 */
export async function scale(settings) {
  const kept = settings.dataDir ? new ScaleState(resolve(settings.dataDir)) : null;
  const saved = kept?.load() ?? null;
  if (settings.phase === 'measure' && !saved) throw new Error(`--scale-measure-only: nothing filled in ${settings.dataDir} yet`);
  const runId = saved?.runId ?? `${settings.runId}s`;
  const maxKeys = Math.max(...settings.stages);
  const keysPerTenant = saved?.fill?.keysPerTenant ?? Math.max(1, Math.ceil(maxKeys / settings.tenants));
  let infra = null;
  let stack = null;
  let env = { KAFKA_BROKERS: settings.brokers, MONGODB_URI: settings.mongoUri };
  let failed = false;
  let fillState = null;
  let cleaning = null;
  // Once, whoever asks first (the run's end, or an interrupted bench through stopScale): both wait for it.
  const cleanup = () => (cleaning ??= stopAll());
  const stopAll = async () => {
    if (stack) {
      await stack.stop({ keep: failed }).catch((e) => console.error(`bench: stopping the scale stack: ${e.message}`));
      if (failed && !kept) console.log(`bench: scale service logs kept in ${stack.dataDir}`);
      if (!infra && !kept)
        await dropRunData(env, stack.env.MONGODB_DB, runId).catch((e) => console.error(`bench: dropping scale data: ${e.message}`));
    }
    infra?.stop({ keepLogs: failed });
    if (kept)
      console.log(
        `bench: scale data kept in ${kept.dir} (${settings.phase === 'measure' ? 'measured' : 'filled'} ${fillState?.keys ?? '?'} keys)`,
      );
  };
  active = cleanup;
  const summary = (stages) => {
    const filled = stages.filter((s) => s.fill?.commits > 0);
    const thisRun = { commits: filled.reduce((n, s) => n + s.fill.commits, 0), seconds: filled.reduce((n, s) => n + s.fill.seconds, 0) };
    // A kept store: the fill of every run that filled it (a measure-only run filled nothing itself).
    const total = kept && fillState ? { commits: fillState.commits, seconds: fillState.seconds } : thisRun;
    const method = (kept && fillState?.method) || settings.fillMethod;
    return {
      infra: infra ? 'own (FerretDB and Kafka started for this run on free ports)' : 'shared (KAFKA_BROKERS / MONGODB_URI)',
      phase: settings.phase,
      ...(kept ? { dataDir: kept.dir, storeRunId: runId } : {}),
      tenants: kept && fillState ? fillState.tenants.length : settings.tenants,
      keysPerTenant,
      stages,
      fill: {
        method:
          method === 'direct'
            ? 'tenants: key-api HTTP API (provider-admin onboarding, enrollment); keys: CommandExecutor + relay of the libraries in the bench process (key-api stopped), key material wrapped under the tenant KEK'
            : 'key-api HTTP API, provider-admin onboarding + tenant-admin create/rotate',
        concurrency: settings.concurrency,
        commits: total.commits,
        seconds: round(total.seconds, 1),
        commitsPerSec: total.seconds > 0 ? round(total.commits / total.seconds, 1) : null,
        ...(kept ? { thisRun: { ...thisRun, seconds: round(thisRun.seconds, 1) } } : {}),
      },
    };
  };
  try {
    if (settings.ownInfra) {
      process.stdout.write('\nbench: scale: starting a FerretDB and a Kafka of its own ... ');
      infra = new OwnInfra(kept ? kept.infraDir : join(repoRoot, '.keyward', 'bench', `${runId}-infra`), {
        persistent: kept !== null,
        ports: saved?.ports,
      });
      env = await infra.start();
      kept?.save({ runId, ports: infra.ports, ...(saved ? {} : { createdAt: new Date().toISOString() }) });
      console.log(`ok (${env.MONGODB_URI}, ${env.KAFKA_BROKERS})`);
    } else {
      kept?.save({ runId });
    }
    stack = new BenchStack({
      brokers: env.KAFKA_BROKERS,
      mongoUri: env.MONGODB_URI,
      runId,
      logLevel: settings.logLevel,
      ...(kept ? { dataDir: kept.stackDir } : {}),
    });
    await stack.start();
    const storePid = infra?.pids.ferretdb ?? pidListeningOn(localPort(env.MONGODB_URI) ?? -1);
    const kafkaPid = infra?.pids.kafka ?? pidListeningOn(localPort(env.KAFKA_BROKERS) ?? -1);
    const storeDir = infra?.storeDir ?? (storePid ? ferretDataDir(storePid) : null);
    const pids = () => ({ 'key-api': stack.apiPid, projector: stack.projectorPid, ferretdb: storePid, kafka: kafkaPid });
    const fill = new ScaleFill(stack, {
      keysPerTenant,
      concurrency: settings.concurrency,
      pids: pids(),
      method: settings.fillMethod,
      onSave: kept ? (state) => kept.save({ fill: (fillState = state) }) : undefined,
    });
    if (saved?.fill) fill.restore(saved.fill);
    fillState = fill.toJSON();
    const plan = plannedStages(settings, fill.keys);
    const fixture = plan.some((s) => s.measure) ? await cryptoFixture(stack) : null;
    const stages = [];
    for (const planned of plan) {
      const stage = { keys: planned.keys, problems: [] };
      stages.push(stage);
      console.log(
        `\nbench: scale: stage ${planned.keys} keys (${[planned.fill && 'fill', planned.measure && 'measure'].filter(Boolean).join(', ')})`,
      );
      if (planned.fill) {
        // The bench process's CPU too: the direct fill writes from it.
        fill.pids = { ...pids(), bench: process.pid };
        const step = part(stage, 'fill', () => fill.growTo(planned.keys));
        filling = { fill, step };
        await step;
        filling = null;
        if (stage.fill.status === 'failed') break; // the next stages would not have their size
        if (fill.stopping) {
          stage.problems.push(`fill: stopped at ${fill.keys} keys (interrupted)`);
          break;
        }
      }
      if (planned.fill || planned.measure) {
        await part(stage, 'viewsCatchUp', async () => ({ seconds: await fill.waitForViews(settings.viewsTimeoutSec) }));
        if (fill.keys > 0) await part(stage, 'filledKeys', () => checkFilledKeys(stack, fill.tenants));
      }
      stage.keys = fill.keys;
      stage.tenants = fill.tenants.length;
      stage.commits = fill.commits;
      if (planned.measure) await measureStage(stage, { settings, stack, fixture, fill, pids, storeDir, infra });
      noteProblems(stage);
      console.log(`bench: scale: stage ${stage.keys} keys done${stage.problems.length ? `: ${stage.problems.join('; ')}` : ''}`);
      settings.onStage?.(summary(stages));
    }
    const problems = stages.flatMap((s) => s.problems.map((p) => `${s.keys} keys: ${p}`));
    failed = problems.length > 0;
    return { status: failed ? 'failed' : 'ok', ...(failed ? { problems } : {}), ...summary(stages) };
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    await cleanup();
    active = null;
  }
}
