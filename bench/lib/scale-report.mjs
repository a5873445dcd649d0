// The scale scenario's figures per stage, the targets judged on them, and the table (plain
// text for the terminal, Markdown for the README).

import { targetList } from './util.mjs';

const maxOf = (values) => {
  const numbers = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  return numbers.length === 0 ? null : Math.max(...numbers);
};
// A part that failed after measuring (a lifecycle read that never became visible) still shows its
// figures (the stage lists the problem); a part that threw has none.
const ok = (s) => s;
const kinds = (lc, p) => maxOf(Object.values(lc?.commandLatency ?? {}).map((l) => l?.[p]));

/**
 * Each figure: how to read it from a stage, its unit, whether more is better, the slack below
 * which a difference is noise (for the 1.5x rule), and whether the 1.5x rule applies.
 */
export const FIGURES = [
  { id: 'commandP50Ms', label: 'lifecycle command p50 (slowest kind)', unit: 'ms', get: (s) => kinds(ok(s.lifecycle), 'p50Ms'), slack: 5 },
  { id: 'commandP99Ms', label: 'lifecycle command p99 (slowest kind)', unit: 'ms', get: (s) => kinds(ok(s.lifecycle), 'p99Ms'), slack: 5 },
  { id: 'commandsPerSec', label: 'lifecycle commands/s', unit: '/s', higher: true, get: (s) => ok(s.lifecycle)?.commandsPerSec, slack: 2 },
  { id: 'listP99Ms', label: 'GET /v1/keys (one page) p99', unit: 'ms', get: (s) => ok(s.list)?.latency?.p99Ms, slack: 2 },
  { id: 'getP99Ms', label: 'GET /v1/keys/{id} p99', unit: 'ms', get: (s) => ok(s.get)?.latency?.p99Ms, slack: 2 },
  {
    id: 'visibilityP99Ms',
    label: 'command answer -> visible (minSeq) p99',
    unit: 'ms',
    get: (s) => ok(s.lifecycle)?.visibility?.p99Ms,
    slack: 10,
  },
  {
    id: 'encryptRps',
    label: 'encrypt-1k at 16 connections',
    unit: 'req/s',
    higher: true,
    get: (s) => ok(s.encrypt)?.points?.['16']?.requestsPerSec,
    slack: 0,
  },
  {
    id: 'encryptP99Ms',
    label: 'encrypt-1k at 16 connections p99',
    unit: 'ms',
    get: (s) => ok(s.encrypt)?.points?.['16']?.latency?.p99Ms,
    slack: 2,
  },
  {
    id: 'decryptRps',
    label: 'decrypt-1k at 16 connections',
    unit: 'req/s',
    higher: true,
    get: (s) => ok(s.decrypt)?.points?.['16']?.requestsPerSec,
    slack: 0,
  },
  {
    id: 'kmipGetRps',
    label: 'KMIP Get at 16 connections',
    unit: '/s',
    higher: true,
    get: (s) => ok(s.kmip)?.points?.['16']?.requestsPerSec,
    slack: 0,
  },
  {
    id: 'kmipGetP99Ms',
    label: 'KMIP Get at 16 connections p99',
    unit: 'ms',
    get: (s) => ok(s.kmip)?.points?.['16']?.latency?.p99Ms,
    slack: 2,
  },
  { id: 'idleCpuPercent', label: 'idle CPU, whole stack', unit: '% core', get: (s) => ok(s.idle)?.totalPercentOfCore, slack: 1 },
  { id: 'idleKeyApi', label: 'idle CPU: key-api', unit: '% core', get: (s) => s.idle?.percentOfCore?.['key-api'], info: true },
  { id: 'idleProjector', label: 'idle CPU: projector', unit: '% core', get: (s) => s.idle?.percentOfCore?.projector, info: true },
  { id: 'idleFerretdb', label: 'idle CPU: FerretDB', unit: '% core', get: (s) => s.idle?.percentOfCore?.ferretdb, info: true },
  { id: 'idleKafka', label: 'idle CPU: Kafka', unit: '% core', get: (s) => s.idle?.percentOfCore?.kafka, info: true },
  { id: 'keyApiRssMiB', label: 'key-api peak RSS', unit: 'MiB', get: (s) => s.keyApiPeakRssMiB, slack: 16 },
  { id: 'storeRssMiB', label: 'FerretDB RSS', unit: 'MiB', get: (s) => s.rssMiB?.ferretdb, slack: 16 },
  { id: 'storeMiB', label: 'store on disk (the database)', unit: 'MiB', get: (s) => s.store?.databaseMiB, info: true },
  { id: 'startupMs', label: 'key-api start -> ready', unit: 'ms', get: (s) => ok(s.startup)?.ms, slack: 500 },
  { id: 'rebuildSeconds', label: 'rebuild the views (keyward replay)', unit: 's', get: (s) => s.rebuild?.seconds, info: true },
  { id: 'rebuildCommitsPerSec', label: 'rebuild rate', unit: 'commits/s', higher: true, get: (s) => s.rebuild?.commitsPerSec, slack: 0 },
  { id: 'commits', label: 'commits in the store (fill)', unit: '', get: (s) => s.commits, info: true },
  { id: 'tenants', label: 'fill tenants', unit: '', get: (s) => s.tenants, info: true },
];

const LIMITS = [
  { figure: 'commandP99Ms', max: 150, text: 'command p99 <= 150 ms' },
  { figure: 'listP99Ms', max: 50, text: 'list p99 <= 50 ms' },
  { figure: 'getP99Ms', max: 50, text: 'get p99 <= 50 ms' },
  { figure: 'visibilityP99Ms', max: 300, text: 'visibility p99 <= 300 ms' },
  { figure: 'idleCpuPercent', max: 5, text: 'idle CPU of the whole stack <= 5% of a core' },
  { figure: 'keyApiRssMiB', max: 300, text: 'key-api RSS <= 300 MiB' },
];

const value = (stage, id) => {
  const v = stage ? FIGURES.find((f) => f.id === id).get(stage) : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/**
 * The targets on the largest stage: each figure within 1.5x of its value at the smallest
 * filled stage (1,000 keys by default; a difference within the figure's noise slack passes), the
 * absolute limits, and encrypt-1k >= 0.9x its empty-store rate.
 */
export function judgeScale(result) {
  const { targets, add } = targetList();
  const stages = (result?.stages ?? []).filter((s) => s.keys > 0 && !(s.fill?.status === 'failed'));
  const empty = result?.stages?.find((s) => s.keys === 0);
  const base = stages[0];
  const top = stages.at(-1);
  for (const limit of LIMITS) {
    const v = value(top, limit.figure);
    add(`scale-${limit.figure}`, `scale at ${top?.keys ?? '?'} keys: ${limit.text}`, v, v !== null && v <= limit.max);
  }
  const enc = value(top, 'encryptRps');
  const enc0 = value(empty, 'encryptRps');
  const ratio = enc !== null && enc0 ? Number((enc / enc0).toFixed(3)) : null;
  add(
    'scale-encrypt-vs-empty',
    `scale at ${top?.keys ?? '?'} keys: encrypt-1k >= 0.9x its empty-store rate`,
    ratio,
    ratio !== null && ratio >= 0.9,
  );
  if (base && top && base !== top) {
    for (const f of FIGURES.filter((x) => !x.info)) {
      const b = value(base, f.id);
      const t = value(top, f.id);
      const within = b === null || t === null ? false : f.higher ? t >= b / 1.5 - f.slack : t <= Math.max(b * 1.5, b + f.slack);
      const measured = b === null || t === null ? null : b === 0 ? null : Number((t / b).toFixed(2));
      add(
        `scale-growth-${f.id}`,
        `${f.label}: at ${top.keys} keys within 1.5x of ${base.keys} keys (${f.higher ? 'not below 1/1.5' : 'not above 1.5x'}; ratio shown)`,
        b === null || t === null ? null : (measured ?? 0),
        within,
      );
    }
  }
  return targets;
}

const fmt = (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
};
const keysLabel = (k) => (k === 0 ? 'empty' : k >= 1000 && k % 1000 === 0 ? `${k / 1000}k keys` : `${k} keys`);

/** The figures per stage with the target and its status on the largest stage. */
export function scaleRows(result) {
  const stages = result?.stages ?? [];
  const targets = judgeScale(result);
  const baseStage = stages.find((s) => s.keys > 0 && s.fill?.status !== 'failed');
  const base = baseStage ? keysLabel(baseStage.keys).replace(' keys', '') : 'smallest';
  const header = ['figure', 'unit', ...stages.map((s) => keysLabel(s.keys)), 'target', 'status'];
  const rows = [header];
  for (const f of FIGURES) {
    const limit = LIMITS.find((l) => l.figure === f.id);
    const growth = targets.find((t) => t.id === `scale-growth-${f.id}`);
    const absolute = targets.find((t) => t.id === `scale-${f.id}`);
    const encRule = f.id === 'encryptRps' ? targets.find((t) => t.id === 'scale-encrypt-vs-empty') : undefined;
    const parts = [];
    if (limit) parts.push(`<= ${limit.max}`);
    if (encRule) parts.push('>= 0.9x empty');
    if (!f.info) parts.push(f.higher ? `>= ${base} / 1.5` : `<= 1.5x ${base}`);
    const statuses = [absolute, encRule, growth].filter(Boolean).map((t) => t.status);
    const status = f.info
      ? ''
      : statuses.includes('missed')
        ? 'missed'
        : statuses.every((s) => s === 'met') && statuses.length > 0
          ? 'met'
          : 'not measured';
    rows.push([f.label, f.unit, ...stages.map((s) => fmt(f.get(s))), parts.join(', '), status]);
  }
  return rows;
}

export function renderScaleText(result) {
  const rows = scaleRows(result);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  '));
  const fill = result?.fill;
  if (fill) {
    lines.push(
      '',
      `fill: ${fill.commits} commits in ${fill.seconds} s (${fill.commitsPerSec} commits/s, ${fill.concurrency} in flight) through ${fill.method}; ` +
        `${result.tenants} tenants of ${result.keysPerTenant} keys at the largest stage; infrastructure: ${result.infra}`,
    );
  }
  return lines.join('\n');
}

export function renderScaleMarkdown(result) {
  const rows = scaleRows(result);
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  const lines = [`| ${rows[0].map(esc).join(' | ')} |`, `|${rows[0].map(() => '---').join('|')}|`];
  for (const r of rows.slice(1)) lines.push(`| ${r.map(esc).join(' | ')} |`);
  return lines.join('\n');
}
