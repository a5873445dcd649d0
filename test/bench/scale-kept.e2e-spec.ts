import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { runBench } from '../support/bench-run';
import { testInfra } from '../support/env';

// `bench/run.mjs scale` with a kept data folder: a fill-only run (the direct fill: the libraries'
// executor and relay in the bench process) fills and measures nothing, a measure-only run on the
// same folder measures that store without filling, and the filled keys encrypt and decrypt through
// key-api (their material was wrapped as key-api wraps it). Figures are not asserted (machine).
jest.setTimeout(900_000);

interface Stage {
  keys: number;
  tenants: number;
  commits: number;
  problems: string[];
  fill?: { method: string; commits: number; keysAdded: number };
  filledKeys?: { status: string; keys: number; ok: number };
  list?: { latency: { p99Ms: number } };
  lifecycle?: { commandsPerSec: number };
}
interface ScaleResult {
  status: string;
  phase: string;
  problems?: string[];
  stages: Stage[];
}
interface SavedState {
  runId: string;
  fill: { keys: number; commits: number; tenants: { keys: unknown[] }[] };
}

function runScale(args: string[]): Promise<{ code: number | null; output: string }> {
  const infra = testInfra();
  return runBench(['scale', ...args], { ...process.env, KAFKA_BROKERS: infra.brokers.join(','), MONGODB_URI: infra.mongoUri });
}

function scaleOf(out: string, run: { code: number | null; output: string }): ScaleResult {
  if (!existsSync(out)) throw new Error(`bench wrote no result (exit ${String(run.code)}):\n${run.output.slice(-4000)}`);
  const scale = (JSON.parse(readFileSync(out, 'utf8')) as { scenarios: { scale?: ScaleResult } }).scenarios.scale;
  if (!scale) throw new Error(`no scale result:\n${run.output.slice(-4000)}`);
  return scale;
}

describe('npm run bench -- scale with --scale-data-dir (fill once, measure later)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-scale-kept-'));
  const data = join(dir, 'data');
  const common = ['--quick', '--scale-infra', 'shared', '--scale-idle', '1', '--scale-data-dir', data];
  let filled: ScaleResult;
  let measured: ScaleResult;
  let saved: SavedState;

  beforeAll(async () => {
    const fillOut = join(dir, 'fill.json');
    const fillRun = await runScale([...common, '--scale-keys', '6', '--scale-tenants', '2', '--scale-fill-only', '--out', fillOut]);
    filled = scaleOf(fillOut, fillRun);
    saved = JSON.parse(readFileSync(join(data, 'state.json'), 'utf8')) as SavedState;
    const measureOut = join(dir, 'measure.json');
    const measureRun = await runScale([...common, '--scale-measure-only', '--out', measureOut]);
    measured = scaleOf(measureOut, measureRun);
  });

  afterAll(async () => {
    // The kept store is the shared one here: drop its database and topics.
    const runId = (saved as SavedState | undefined)?.runId;
    if (runId) {
      const infra = testInfra();
      const mongo = await MongoClient.connect(infra.mongoUri);
      await mongo.db(`bench_${runId}`).dropDatabase();
      await mongo.close();
      const admin = new Kafka({ clientId: 'scale-kept-spec', brokers: infra.brokers, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`bench.${runId}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      await admin.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('fills without measuring, directly, and saves what it filled', () => {
    expect(filled.problems ?? []).toEqual([]);
    expect(filled.phase).toBe('fill');
    expect(filled.stages).toHaveLength(1);
    const [stage] = filled.stages;
    expect(stage?.fill).toMatchObject({ method: 'direct', keysAdded: 6, commits: 2 * 2 + 15 });
    expect(stage?.lifecycle).toBeUndefined();
    expect(stage?.filledKeys).toMatchObject({ status: 'ok' });
    expect(saved.fill.keys).toBe(6);
    expect(saved.fill.tenants.map((t) => t.keys.length)).toEqual([3, 3]);
  });

  it('measures the kept store without filling it again', () => {
    expect(measured.problems ?? []).toEqual([]);
    expect(measured.phase).toBe('measure');
    expect(measured.stages.map((s) => [s.keys, s.tenants, s.commits])).toEqual([[6, 2, saved.fill.commits]]);
    const [stage] = measured.stages;
    expect(stage?.fill).toBeUndefined();
    expect(stage?.filledKeys?.ok).toBe(stage?.filledKeys?.keys);
    expect(typeof stage?.list?.latency.p99Ms).toBe('number');
    expect(typeof stage?.lifecycle?.commandsPerSec).toBe('number');
  });
});
