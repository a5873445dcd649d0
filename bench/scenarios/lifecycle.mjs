// lifecycle, in two phases of `durationSec` each, one client per tenant (a tenant's commands are
// serialised by key-api anyway):
//  1. throughput: tenant-admins create, activate and rotate keys as fast as they are answered;
//     afterwards one ?minSeq read per tenant checks that the views catch up (and how long that takes);
//  2. visibility: the same commands, but after each answer the client reads the key with
//     ?minSeq=<answer seq> before sending the next: the time from the command's answer until that
//     read answers 200 is the visibility latency. One read in flight per client, so the readers'
//     polling does not add load of its own to what is measured.
import { RssSampler } from '../lib/load.mjs';
import { latencySummary, round } from '../lib/util.mjs';

// `visible` checks that the read shows this command's effect.
const STEPS = [
  { kind: 'create', path: () => '/v1/keys', body: { keyType: 'AES-256-GCM' }, expect: 201, visible: (k) => k.state === 'PreActive' },
  { kind: 'activate', path: (id) => `/v1/keys/${id}/activate`, body: {}, expect: 200, visible: (k) => k.state === 'Active' },
  { kind: 'rotate', path: (id) => `/v1/keys/${id}/rotate`, body: {}, expect: 200, visible: (k) => k.latestVersion === 2 },
];
const VISIBILITY_GIVE_UP_MS = 30_000;

export async function lifecycle(stack, { durationSec, tenants }) {
  const admins = [];
  for (let i = 0; i < tenants; i++) admins.push((await stack.tenant('Lifecycle')).adminKey);
  const { client } = stack;
  const problems = { commandErrors: 0, notVisible: 0, wrongState: 0, retries503: 0 };
  const firstProblems = [];
  const note = (text) => firstProblems.length < 5 && firstProblems.push(text);

  /** Reads the key with minSeq until it answers 200 (503 means "not yet": read again). */
  async function readUntilVisible(adminKey, keyId, seq, answeredAt, check) {
    for (;;) {
      const read = await client
        .request('GET', `/v1/keys/${keyId}?minSeq=${seq}`, { key: adminKey })
        .catch((e) => ({ status: 0, text: e.message }));
      if (read.status === 200) {
        if (check && !check(read.body)) {
          problems.wrongState += 1;
          note(`seq ${seq} visible but the view does not show the change`);
        }
        return performance.now() - answeredAt;
      }
      if (read.status === 503 && performance.now() - answeredAt < VISIBILITY_GIVE_UP_MS) {
        problems.retries503 += 1;
        continue;
      }
      problems.notVisible += 1;
      note(`GET minSeq=${seq}: ${read.status} ${read.text?.slice(0, 200)}`);
      return null;
    }
  }

  /** Each client runs create -> activate -> rotate on fresh keys until the deadline. */
  async function phase(waitForVisibility) {
    const commandMs = Object.fromEntries(STEPS.map((s) => [s.kind, []]));
    const visibilityMs = [];
    const last = new Map();
    let commands = 0;
    const started = performance.now();
    const deadline = started + durationSec * 1000;
    let commandMsTotal = 0;
    await Promise.all(
      admins.map(async (adminKey) => {
        while (performance.now() < deadline) {
          let keyId;
          for (const step of STEPS) {
            const sent = performance.now();
            const answer = await client.request('POST', step.path(keyId), { key: adminKey, body: step.body });
            const answeredAt = performance.now();
            if (answer.status !== step.expect) {
              problems.commandErrors += 1;
              note(`${step.kind}: ${answer.status} ${answer.text.slice(0, 200)}`);
              break;
            }
            commands += 1;
            commandMs[step.kind].push(answeredAt - sent);
            commandMsTotal += answeredAt - sent;
            keyId = answer.body.key.keyId;
            last.set(adminKey, { keyId, seq: answer.body.seq, answeredAt });
            if (waitForVisibility) {
              const ms = await readUntilVisible(adminKey, keyId, answer.body.seq, answeredAt, step.visible);
              if (ms !== null) visibilityMs.push(ms);
            }
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { commandMs, visibilityMs, last, commands, seconds, commandMsTotal };
  }

  const sampler = stack.apiPid ? new RssSampler(stack.apiPid) : null;
  const load = await phase(false);
  // The views must catch up with the last command of every tenant; the slowest is the drain time.
  const drained = await Promise.all([...load.last].map(([adminKey, l]) => readUntilVisible(adminKey, l.keyId, l.seq, l.answeredAt)));
  const paced = await phase(true);
  const peakRss = sampler ? sampler.stop() : null;

  const commandLatency = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, latencySummary(v)]));
  return {
    status: problems.commandErrors + problems.notVisible + problems.wrongState === 0 ? 'ok' : 'failed',
    clients: tenants,
    seconds: round(load.seconds),
    commands: load.commands,
    commandsPerSec: round(load.commands / load.seconds, 1),
    keysPerSec: round(load.commandMs.create.length / load.seconds, 1),
    commandLatency: commandLatency(load.commandMs),
    catchUpAfterLoadMs: round(Math.max(...drained.map((d) => d ?? Infinity)), 1),
    visibility: latencySummary(paced.visibilityMs),
    visibilityPhase: {
      seconds: round(paced.seconds),
      commands: paced.commands,
      commandsPerSec: round(paced.commands / paced.seconds, 1),
      commandLatency: commandLatency(paced.commandMs),
    },
    ...problems,
    ...(firstProblems.length > 0 ? { firstProblems } : {}),
    keyApiPeakRssMiB: peakRss,
  };
}
