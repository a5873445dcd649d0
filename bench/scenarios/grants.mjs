// encrypt-1k-grants: what a principal holding many grants costs the data plane (issue 18: "encrypt-1k
// throughput drops by no more than 5% with a principal holding 100 grants"). The same request as
// encrypt-1k, as two key-users of the same key-api: one of an open tenant (no grants, the encrypt-1k
// fixture), one of a grants-required tenant holding GRANTS_HELD grants, the one covering its key
// last. Both run back to back, alternating which goes first each round, so that drift on a shared
// machine (other processes, thermal, GC of a long run) falls on both sides alike.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cpuMs, runLoad } from '../lib/load.mjs';
import { repoRoot, round, sleep } from '../lib/util.mjs';
import { cryptoFixture, scenarioTarget } from './http.mjs';

export const GRANTS_HELD = 100;
const NAME = 'encrypt-1k';

/** The median of a list of numbers (null when empty). */
function median(values) {
  const sorted = values.filter((v) => typeof v === 'number').sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One load point, with key-api's CPU per answered request over it. */
async function measure(target, pid, connections, durationSec) {
  await sleep(300);
  const before = cpuMs(pid);
  const result = await runLoad(target, { connections, durationSec });
  const after = cpuMs(pid);
  const cpuUs = before !== null && after !== null && result.ok > 0 ? Math.round(((after - before) * 1000) / result.ok) : null;
  return {
    requestsPerSec: result.requestsPerSec,
    p50Ms: result.latency.p50Ms,
    p99Ms: result.latency.p99Ms,
    serverCpuUsPerRequest: cpuUs,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

/**
 * The one per-request step that depends on the grants a principal holds, alone and in process (no
 * HTTP, no other load to share the CPU with): the domain's `authorize` (dist/libs/domain), as the
 * data plane calls it for an encrypt, for a key-user of an open tenant and for one holding 1 and
 * `grants` grants by id (the covering one last; allGrants). Answers nanoseconds per call, best of 5 batches.
 */
export function authorizeCost(grants = GRANTS_HELD, calls = 200_000) {
  const require = createRequire(import.meta.url);
  const domain = require(join(repoRoot, 'dist', 'libs', 'domain', 'src', 'index.js'));
  const admin = { principalId: 'prn_benchadmin01', role: 'tenant-admin' };
  const user = { principalId: 'prn_benchuser001', role: 'key-user' };
  const keyId = 'key_benchkey0001';
  const now = new Date();
  const apply = (log, command, actor) => {
    const ctx = { now, actor, correlationId: 'bench' };
    domain.evolveCommit(log, { seq: log.seq + 1, events: domain.stamp(domain.decide(command, log, ctx), ctx) });
  };
  const tenant = (mode, held) => {
    const log = new domain.TenantLog('tnt_benchauthz01');
    apply(
      log,
      { kind: 'tenant.onboard', tenantId: log.logId, name: 'Bench', grants: mode },
      { principalId: 'prn_provider001', role: 'provider-admin' },
    );
    apply(log, { kind: 'principal.create', principalId: admin.principalId, name: 'admin', role: 'tenant-admin' }, admin);
    apply(log, { kind: 'principal.create', principalId: user.principalId, name: 'app', role: 'key-user' }, admin);
    apply(log, { kind: 'key.create', keyId, keyType: 'AES-256-GCM', kcv: 'kcv', activate: true }, admin);
    for (let i = 1; i <= held; i++) {
      const keys = { ids: [i === held ? keyId : `key_filler${String(i).padStart(6, '0')}`] };
      const grantId = `grt_bench${String(i).padStart(7, '0')}`;
      apply(log, { kind: 'grant.create', grantId, principalId: user.principalId, operations: ['encrypt'], keys, conditions: {} }, admin);
    }
    return log;
  };
  const time = (log) => {
    const key = log.keys.get(keyId);
    let best = Infinity;
    for (let batch = 0; batch < 5; batch++) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) {
        if (!domain.authorize(log, user, key, 'encrypt', {}, now).allowed) throw new Error('authorize refused the bench key-user');
      }
      best = Math.min(best, Number(process.hrtime.bigint() - started) / calls);
    }
    return round(best, 1);
  };
  return { grants, open: time(tenant('open', 0)), oneGrant: time(tenant('required', 1)), allGrants: time(tenant('required', grants)) };
}

/**
 * Runs encrypt-1k `rounds` times for each side at each connection count, alternating the order
 * (round 1 open first, round 2 grants first, ...), and reports each round, the median of each side
 * and the ratio grants / open (of the medians, and per round).
 */
export async function encryptWithGrants(stack, openFixture, { connections, durationSec, warmupSec, rounds = 3, grants = GRANTS_HELD }) {
  const base = openFixture.grants > 0 ? await cryptoFixture(stack, { grants: 0 }) : openFixture;
  const granted = await cryptoFixture(stack, { grants });
  for (const [side, fixture] of [
    ['open', base],
    ['grants', granted],
  ]) {
    const probe = fixture.probes[NAME];
    if (probe.status !== 200) return { status: 'failed', reason: `${side} probe failed: ${probe.reason}` };
  }
  // The grants the key-user holds, as the tenant's log says (GET /v1/grants answers from it).
  const held = await stack.client.expect([200], 'GET', `/v1/grants?principalId=${granted.userId}`, { key: granted.adminKey });
  const grantsHeld = held?.items?.length ?? null;
  const sides = { open: scenarioTarget(NAME, stack, base).target, grants: scenarioTarget(NAME, stack, granted).target };
  if (warmupSec > 0) {
    for (const target of Object.values(sides)) await runLoad(target, { connections: Math.max(...connections), durationSec: warmupSec });
  }
  const perRound = [];
  for (let r = 1; r <= rounds; r++) {
    const order = r % 2 === 1 ? ['open', 'grants'] : ['grants', 'open'];
    const points = {};
    for (const c of connections) {
      points[c] = {};
      for (const side of order) points[c][side] = await measure(sides[side], stack.apiPid, c, durationSec);
      points[c].ratio =
        points[c].open.requestsPerSec > 0 ? round(points[c].grants.requestsPerSec / points[c].open.requestsPerSec, 3) : null;
    }
    perRound.push({ round: r, order, points });
  }
  const comparison = {};
  for (const c of connections) {
    const of = (side, field) => median(perRound.map((r) => r.points[c][side][field]));
    const open = {
      requestsPerSec: of('open', 'requestsPerSec'),
      p99Ms: of('open', 'p99Ms'),
      serverCpuUsPerRequest: of('open', 'serverCpuUsPerRequest'),
    };
    const withGrants = {
      requestsPerSec: of('grants', 'requestsPerSec'),
      p99Ms: of('grants', 'p99Ms'),
      serverCpuUsPerRequest: of('grants', 'serverCpuUsPerRequest'),
    };
    comparison[c] = {
      openRequestsPerSec: open.requestsPerSec,
      grantsRequestsPerSec: withGrants.requestsPerSec,
      ratio: open.requestsPerSec > 0 ? round(withGrants.requestsPerSec / open.requestsPerSec, 3) : null,
      ratioPerRound: perRound.map((r) => r.points[c].ratio),
      // Each round's two sides ran a few seconds apart: the median of the round ratios drifts least.
      medianRoundRatio: median(perRound.map((r) => r.points[c].ratio)),
      p99Ms: { open: open.p99Ms, grants: withGrants.p99Ms },
      serverCpuUsPerRequest: { open: open.serverCpuUsPerRequest, grants: withGrants.serverCpuUsPerRequest },
    };
  }
  const authorizeNsPerCall = authorizeCost(grants);
  const cpu16 = comparison[16]?.serverCpuUsPerRequest.open ?? Object.values(comparison)[0]?.serverCpuUsPerRequest.open ?? null;
  const extraNs = authorizeNsPerCall.allGrants - authorizeNsPerCall.open;
  return {
    status: 'ok',
    request: `POST /v1/keys/{id}/encrypt (1 KiB), as encrypt-1k`,
    authorizeNsPerCall,
    // What the grants add to a request, against key-api's CPU per request: the bound noise cannot blur.
    authorizeShareOfRequest: cpu16 ? round(extraNs / (cpu16 * 1000), 5) : null,
    sides: {
      open: 'key-user of a grants-open tenant, no grant (the encrypt-1k fixture)',
      grants: `key-user of a grants-required tenant holding ${grants} grants, the one covering its key created last`,
    },
    grantsHeld,
    rounds,
    note:
      'Both sides run in the same key-api, back to back, alternating which goes first each round; ' +
      'the figures are the medians of the rounds. On a shared machine, rounds vary with the load of ' +
      'others: read ratioPerRound and serverCpuUsPerRequest (CPU per request, less sensitive to it) too.',
    comparison,
    perRound,
  };
}
