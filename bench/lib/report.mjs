// Machine information, the issue's targets, and the printed table.
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { judgeScale, renderScaleText } from './scale-report.mjs';
import { repoRoot, targetList } from './util.mjs';

function git(args) {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function machineInfo() {
  const status = git(['status', '--porcelain']);
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    memoryMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl,
    platform: process.platform,
    arch: process.arch,
    kernel: release(),
    commit: git(['rev-parse', 'HEAD']),
    dirty: status === null ? null : status.length > 0,
  };
}

/** The issue's targets, judged on the figures of this run ("not measured" when a scenario did not run). */
export function judgeTargets(scenarios) {
  const { targets, add } = targetList();

  const enc = scenarios['encrypt-1k']?.status === 'ok' ? scenarios['encrypt-1k'].points['16'] : undefined;
  const ratio = enc?.vsCeiling?.requestsPerSec;
  add(
    'encrypt-1k-throughput',
    'encrypt-1k at 16 connections >= 0.6 x http-ceiling requests/s',
    ratio ?? null,
    typeof ratio === 'number' && ratio >= 0.6,
  );
  add('encrypt-1k-p99', 'encrypt-1k at 16 connections p99 <= 15 ms', enc?.latency.p99Ms ?? null, (enc?.latency.p99Ms ?? Infinity) <= 15);

  for (const name of ['sign-ecdsa-p256', 'sign-rsa-2048', 'sign-ecdsa-p256-batch', 'sign-rsa-2048-batch']) {
    const point = scenarios[name]?.status === 'ok' ? scenarios[name].points['16'] : undefined;
    const r = point?.vsSignCeiling;
    add(
      `${name}-throughput`,
      `${name} at 16 connections >= 0.5 x Node's signatures/s on one core${name.endsWith('-batch') ? ' (signatures/s)' : ''}`,
      r ?? null,
      typeof r === 'number' && r >= 0.5,
    );
  }

  for (const name of ['kmip-get', 'kmip-encrypt']) {
    const vs = scenarios[name]?.status === 'ok' ? scenarios[name].vsRest : undefined;
    add(
      `${name}-vs-rest`,
      `${name} at 16 connections >= ${vs?.target ?? 0.8} x REST encrypt-1k requests/s`,
      vs?.ratio ?? null,
      typeof vs?.ratio === 'number' && vs.ratio >= vs.target,
    );
  }

  const vis = scenarios.lifecycle?.visibility?.p99Ms;
  add('lifecycle-visibility-p99', 'lifecycle command answer -> visible in views, p99 <= 300 ms', vis ?? null, (vis ?? Infinity) <= 300);

  const replay = scenarios.replay?.status === 'ok' ? scenarios.replay.ratio : null;
  add('replay-ratio', 'replay events/s >= 0.5 x bare kafkajs consumer', replay, (replay ?? 0) >= 0.5);

  const grants = scenarios['encrypt-1k-grants'];
  if (grants !== undefined) {
    const r = grants.status === 'ok' ? (grants.comparison['16'] ?? Object.values(grants.comparison)[0])?.ratio : null;
    add(
      'encrypt-1k-grants',
      'encrypt-1k req/s with a key-user holding 100 grants >= 0.95 x without (16 connections, median of rounds)',
      r ?? null,
      typeof r === 'number' && r >= 0.95,
    );
  }

  const rss = ['encrypt-1k', 'decrypt-1k', 'data-key', 'mac', 'lifecycle']
    .map((n) => scenarios[n])
    .filter((s) => s?.status === 'ok' && typeof s.keyApiPeakRssMiB === 'number')
    .map((s) => s.keyApiPeakRssMiB);
  const peak = rss.length > 0 ? Math.max(...rss) : null;
  add('key-api-rss', 'key-api peak RSS under load <= 300 MiB', peak, (peak ?? Infinity) <= 300);
  if (scenarios.scale?.stages) targets.push(...judgeScale(scenarios.scale));
  return targets;
}

const fmt = (v, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  '))
    .join('\n');
}

export function renderTable(result) {
  const lines = [];
  const m = result.machine;
  lines.push(
    `Keyward bench (${result.mode}) — ${m.cores} cores, ${m.cpuModel ?? 'unknown CPU'}, Node ${m.node}, commit ${m.commit?.slice(0, 12) ?? '?'}${m.dirty ? ' (dirty)' : ''}`,
  );
  const http = [['scenario', 'conns', 'req/s', 'x ceiling', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'RSS MiB']];
  const notes = [];
  for (const [name, s] of Object.entries(result.scenarios)) {
    if (s.points) {
      for (const [c, p] of Object.entries(s.points)) {
        http.push([
          name,
          c,
          fmt(p.requestsPerSec),
          name === 'http-ceiling' ? '1.00' : fmt(p.vsCeiling?.requestsPerSec, 2),
          fmt(p.latency.p50Ms, 1),
          fmt(p.latency.p99Ms, 1),
          fmt(p.latency.maxMs, 1),
          String(p.errors + p.timeouts),
          String(p.non2xx),
          fmt(p.peakRssMiB, 1),
        ]);
      }
    } else if (s.status !== 'ok') {
      notes.push(`${name}: ${s.status} — ${s.reason ?? (s.problems ?? s.firstProblems ?? []).join('; ')}`);
    }
  }
  if (http.length > 1) lines.push('', table(http));

  const aes = result.scenarios['aes-ceiling'];
  if (aes?.status === 'ok') {
    lines.push(
      '',
      `aes-ceiling: ${fmt(aes.opsPerSecPerCore)} ops/s on one core (${fmt(aes.mibPerSecPerCore, 1)} MiB/s), ${fmt(aes.allCoresOpsPerSec)} ops/s on ${aes.cores} cores`,
    );
  }
  const sign = result.scenarios['sign-ceiling'];
  if (sign?.status === 'ok') {
    const ratios = ['sign-ecdsa-p256', 'sign-rsa-2048', 'sign-ecdsa-p256-batch', 'sign-rsa-2048-batch']
      .map((n) => [n, result.scenarios[n]?.points?.['16']])
      .filter(([n, p]) => p !== undefined || !n.endsWith('-batch'))
      .map(
        ([n, p]) =>
          `${n} at 16 connections ${fmt(p?.vsSignCeiling, 2)} x${p?.operationsPerSec ? ` (${fmt(p.operationsPerSec)} signatures/s)` : ''}`,
      )
      .join(', ');
    lines.push(
      `sign-ceiling: ${fmt(sign.opsPerSecPerCore['ecdsa-p256'])} ECDSA P-256 and ${fmt(sign.opsPerSecPerCore['rsa-2048'])} RSA-2048 signatures/s on one core; ${ratios}`,
    );
  }
  const eg = result.scenarios['encrypt-1k-grants'];
  if (eg?.status === 'ok') {
    for (const [c, p] of Object.entries(eg.comparison)) {
      lines.push(
        `encrypt-1k-grants at ${c} connections: open ${fmt(p.openRequestsPerSec)} req/s, holding ${eg.grantsHeld} grants ${fmt(p.grantsRequestsPerSec)} req/s, ` +
          `ratio ${fmt(p.ratio, 3)} (per round ${p.ratioPerRound.map((r) => fmt(r, 3)).join(', ')}; their median ${fmt(p.medianRoundRatio, 3)}); ` +
          `key-api CPU ${fmt(p.serverCpuUsPerRequest.open)} / ${fmt(p.serverCpuUsPerRequest.grants)} µs per request`,
      );
    }
    const ns = eg.authorizeNsPerCall;
    lines.push(
      `  authorize in process: open ${fmt(ns.open)} ns, 1 grant ${fmt(ns.oneGrant)} ns, ${ns.grants} grants ${fmt(ns.allGrants)} ns a call ` +
        `(${fmt((eg.authorizeShareOfRequest ?? NaN) * 100, 4)}% of a request's key-api CPU); ${eg.note}`,
    );
  }
  const lc = result.scenarios.lifecycle;
  if (lc?.commands !== undefined) {
    lines.push(
      `lifecycle: ${fmt(lc.commandsPerSec, 1)} commands/s (${lc.commands} in ${fmt(lc.seconds, 1)} s, ${lc.clients} tenants); ` +
        `visible in views p50 ${fmt(lc.visibility.p50Ms, 1)} ms, p99 ${fmt(lc.visibility.p99Ms, 1)} ms, max ${fmt(lc.visibility.maxMs, 1)} ms; ` +
        `command p50/p99 create ${fmt(lc.commandLatency.create.p50Ms, 1)}/${fmt(lc.commandLatency.create.p99Ms, 1)} ms; key-api RSS ${fmt(lc.keyApiPeakRssMiB, 1)} MiB`,
    );
  }
  const rp = result.scenarios.replay;
  if (rp?.rebuild) {
    lines.push(
      `replay: ${rp.events} events (${rp.commits} commits, ${rp.tenants} tenants): rebuild ${fmt(rp.rebuild.eventsPerSec)} events/s in ${fmt(rp.rebuild.seconds, 2)} s; ` +
        `bare consumer ${fmt(rp.bareConsumer.eventsPerSec)} events/s in ${fmt(rp.bareConsumer.seconds, 2)} s; ratio ${fmt(rp.ratio, 3)}`,
    );
    if (rp.note) lines.push(`  (${rp.note})`);
  }
  for (const [name, op] of [
    ['kmip-get', 'Gets'],
    ['kmip-encrypt', 'Encrypts'],
  ]) {
    const km = result.scenarios[name];
    if (!km?.points) continue;
    const pts = Object.entries(km.points).map(
      ([c, p]) => `${c} conn ${fmt(p.requestsPerSec)} ${op}/s (p50 ${fmt(p.latency?.p50Ms, 1)}, p99 ${fmt(p.latency?.p99Ms, 1)} ms)`,
    );
    const vs = km.vsRest;
    const beside = vs
      ? `; at ${vs.connections} conn ${fmt(vs.ratio, 2)} x REST ${vs.rest} (${fmt(vs.restRequestsPerSec)} req/s; target >= ${vs.target})`
      : '';
    lines.push(`${name}: ${pts.join('; ')}${beside}`);
  }
  const bk = result.scenarios.backup;
  if (bk?.snapshot) {
    lines.push(
      `backup: ${bk.keys} keys (${bk.tenants} tenants): snapshot ${fmt(bk.snapshot.seconds, 2)} s, ${fmt(bk.snapshot.keystoreMiBPerSec, 2)} MiB/s of keystore, ` +
        `${fmt(bk.snapshot.keysPerSec)} keys/s; KEK part ${bk.snapshot.kekPartBytes} B, DEK part ${bk.snapshot.dekPartBytes} B; verify ${fmt(bk.verify.seconds, 2)} s`,
    );
  }
  const sc = result.scenarios.scale;
  if (sc?.stages) lines.push('', 'scale:', renderScaleText(sc));
  if (notes.length > 0) lines.push('', ...notes);
  if (result.targets.length > 0) {
    lines.push('', 'targets:');
    for (const t of result.targets) lines.push(`  ${t.status.padEnd(12)} ${t.description} (measured: ${t.measured ?? '-'})`);
  }
  return lines.join('\n');
}
