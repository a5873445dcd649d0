import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../support/bench-run';
import { testInfra } from '../support/env';

// Smoke test only: `bench/run.mjs scale` at a tiny size against the test infrastructure runs every
// stage and part, writes well-formed figures, judges the targets, and its table goes into the
// performance document between the markers. No timing assertions: the figures depend on the machine (and on the store).
jest.setTimeout(900_000);

const repoRoot = join(__dirname, '..', '..');

interface Stage {
  keys: number;
  problems: string[];
  tenants: number;
  commits: number;
  fill?: { commits: number; commitsPerSec: number };
  idle: { totalPercentOfCore: number; percentOfCore: Record<string, number | null> };
  rssMiB: Record<string, number | null>;
  store: { databaseMiB: number | null };
  list: { latency: { p99Ms: number } };
  get: { latency: { p99Ms: number } };
  lifecycle: { status: string; commandsPerSec: number; visibility: { p99Ms: number } };
  encrypt: { status: string; points: Record<string, { requestsPerSec: number }> };
  decrypt: { status: string; points: Record<string, { requestsPerSec: number }> };
  kmip: { status: string; points: Record<string, { requestsPerSec: number }> };
  rebuild: { ok: boolean; commits: number };
  startup: { ms: number };
}
interface ScaleResult {
  status: string;
  problems?: string[];
  reason?: string;
  keysPerTenant: number;
  stages: Stage[];
  fill: { commits: number };
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

describe('npm run bench -- scale (tiny smoke)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-scale-spec-'));
  const out = join(dir, 'scale.json');
  let run: { code: number | null; output: string };
  let scale: ScaleResult | undefined;
  let targets: { id: string; status: string }[] = [];
  const result = (): ScaleResult => {
    if (!scale) throw new Error(`bench wrote no scale result (exit ${String(run.code)}):\n${run.output.slice(-4000)}`);
    return scale;
  };

  beforeAll(async () => {
    const infra = testInfra();
    // The test infrastructure (shared), not a FerretDB and Kafka of the bench's own: faster, and
    // the shared mode is the one that must find the store's process and files by its port.
    run = await runBench(
      ['scale', '--quick', '--scale-infra', 'shared', '--scale-keys', '10', '--scale-tenants', '2', '--scale-idle', '1', '--out', out],
      { ...process.env, KAFKA_BROKERS: infra.brokers.join(','), MONGODB_URI: infra.mongoUri },
    );
    if (existsSync(out)) {
      const written = JSON.parse(readFileSync(out, 'utf8')) as { scenarios: { scale?: ScaleResult }; targets: typeof targets };
      scale = written.scenarios.scale;
      targets = written.targets;
    }
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the empty stage and the filled one without a problem', () => {
    const s = result();
    expect(s.problems ?? []).toEqual([]);
    expect(s.status).toBe('ok');
    expect(s.stages.map((x) => x.keys)).toEqual([0, 10]);
    expect(s.keysPerTenant).toBe(5);
    const filled = s.stages[1]!;
    expect(filled.tenants).toBe(2);
    // 2 tenants (onboarding and enrollment), 10 keys (created active, rotated once or twice).
    expect(filled.fill?.commits).toBe(2 * 2 + 25);
    expect(s.fill.commits).toBe(filled.fill?.commits);
    expect(filled.rebuild.ok).toBe(true);
    expect(filled.rebuild.commits).toBeGreaterThanOrEqual(filled.commits);
  });

  it('reports every figure of every stage as a number', () => {
    const bad: string[] = [];
    for (const st of result().stages) {
      const figures: Record<string, unknown> = {
        idle: st.idle.totalPercentOfCore,
        idleKeyApi: st.idle.percentOfCore['key-api'],
        idleStore: st.idle.percentOfCore.ferretdb,
        idleKafka: st.idle.percentOfCore.kafka,
        rssKeyApi: st.rssMiB['key-api'],
        rssStore: st.rssMiB.ferretdb,
        storeMiB: st.store.databaseMiB,
        listP99: st.list.latency.p99Ms,
        getP99: st.get.latency.p99Ms,
        commandsPerSec: st.lifecycle.commandsPerSec,
        visibilityP99: st.lifecycle.visibility.p99Ms,
        encrypt16: st.encrypt.points['16']?.requestsPerSec,
        decrypt16: st.decrypt.points['16']?.requestsPerSec,
        kmip16: st.kmip.points['16']?.requestsPerSec,
        startupMs: st.startup.ms,
      };
      for (const [name, value] of Object.entries(figures))
        if (!isNumber(value)) bad.push(`${st.keys} keys: ${name} = ${JSON.stringify(value)}`);
    }
    expect(bad).toEqual([]);
  });

  it("judges the issue's targets and writes the table into the performance document between the markers", () => {
    const ids = targets.map((t) => t.id);
    for (const id of ['scale-commandP99Ms', 'scale-listP99Ms', 'scale-getP99Ms', 'scale-visibilityP99Ms', 'scale-idleCpuPercent']) {
      expect(ids).toContain(id);
    }
    expect(targets.find((t) => t.id === 'scale-encrypt-vs-empty')?.status).toMatch(/^(met|missed)$/);
    const doc = join(dir, 'performance.md');
    copyFileSync(join(repoRoot, 'docs', 'performance.md'), doc);
    const table = spawnSync(process.execPath, [join(repoRoot, 'bench', 'scale-table.mjs'), out, doc], { encoding: 'utf8' });
    expect(table.stderr).toBe('');
    expect(table.status).toBe(0);
    const text = readFileSync(doc, 'utf8');
    const section = text.slice(text.indexOf('<!-- scale-table:begin -->'), text.indexOf('<!-- scale-table:end -->'));
    expect(section).toContain('| figure | unit | empty | 10 keys | target | status |');
    expect(section).toContain('GET /v1/keys/{id} p99');
  });
});
