/**
 * The soak (docs/high-availability.md#the-soak): the drill's stack (key-api instances behind
 * HAProxy, a three-node Kafka, a FerretDB of its own) under a fixed rate of mixed load for
 * SOAK_MINUTES, no faults. Each minute it samples the RSS of every key-api and of the projector as
 * found and again right after a full garbage collection asked through each process's inspector
 * (support/inspector-gc.ts), key-api's V8 figures, FerretDB's RSS and the store's size on disk; then
 * prints the table, writes the SVG plot and, in the full form, asserts the key-api and projector RSS
 * after the collection flat after warm-up (the RSS as found is printed and plotted beside it).
 *
 *   npm run soak -- --minutes 30 --rate 10   # the full form (asserted)
 *   npm run soak -- --minutes 3              # a short form: prints, asserts nothing about growth
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DrillLoad, mixedRates } from './support/drill-load';
import { HaStack } from './support/ha-stack';
import { flatness, flatnessTable, sampleTable, soakSvg, type Flatness } from './support/soak-report';
import { collectGarbage, inspectorUrl } from './support/inspector-gc';
import { diskMiB, heapMiB, rssMiB, type SoakSample } from './support/soak-sampler';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 30);
/** Requests a second, in the mix of `mixedRates`. */
const RATE = Number(process.env.SOAK_RATE ?? 10);
const WARM_UP = Number(process.env.SOAK_WARMUP_MINUTES ?? Math.min(10, Math.floor(MINUTES / 3)));
/** On by default for runs of 30 minutes or more; SOAK_ASSERT=on|off overrides. */
const ASSERT = (process.env.SOAK_ASSERT ?? (MINUTES >= 30 ? 'on' : 'off')) === 'on';
const INSTANCES = Number(process.env.SOAK_KEY_API_INSTANCES ?? 2);
const repoRoot = join(__dirname, '..', '..');
const OUT = process.env.SOAK_OUT ?? join(repoRoot, '.keyward', 'soak', `soak-${MINUTES}m.svg`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('soak', () => {
  const ha = new HaStack();

  beforeAll(() => ha.start(INSTANCES), 600_000);
  afterAll(() => ha.cleanup(), 180_000);

  it(
    `keeps key-api and projector memory flat under ${RATE} requests/s for ${MINUTES} minutes`,
    async () => {
      if (!(MINUTES >= 1 && RATE > 0 && WARM_UP >= 0 && WARM_UP < MINUTES))
        throw new Error(`soak: SOAK_MINUTES ${MINUTES}, SOAK_RATE ${RATE}, SOAK_WARMUP_MINUTES ${WARM_UP} make no soak`);
      const load = new DrillLoad(ha.balancer, ha.targets, mixedRates(RATE));
      ha.onCleanup(() => load.stop());
      const apiSeries = ha.apis.map((_, i) => `key-api ${i + 1} RSS`);
      const rssSeries = [...apiSeries, 'projector RSS', 'FerretDB RSS'];
      // The asserted series: the same processes' RSS right after a full collection asked through the inspector.
      const collected = (series: string): string => `${series} after GC`;
      const collectedSeries = [...apiSeries, 'projector RSS'].map(collected);
      // Each process's inspector URL, read once from its output (printed at start).
      const inspected = [
        ...ha.apis.map((a, i) => ({ series: apiSeries[i]!, process: a.process })),
        { series: 'projector RSS', process: ha.stack.projector },
      ].map(({ series, process: service }) => {
        const url = inspectorUrl(service.log);
        if (url === undefined) throw new Error(`soak: ${series}: the process printed no inspector URL (KEYWARD_SERVICE_INSPECT)`);
        return { series, pid: service.child.pid, url };
      });
      const v8Series = (i: number) => ({
        used: `key-api ${i + 1} heap used`,
        total: `key-api ${i + 1} heap total`,
        newSpace: `key-api ${i + 1} new space`,
        external: `key-api ${i + 1} external`,
      });
      const heapSeries = ha.apis.flatMap((_, i) => [v8Series(i).used, v8Series(i).total]);
      const youngAndExternal = ha.apis.flatMap((_, i) => [v8Series(i).newSpace, v8Series(i).external]);
      const ferretPid = (): number => Number(readFileSync(join(ha.store.dataDir, 'run', 'ferretdb.pid'), 'utf8').trim());
      const storeDir = join(ha.store.dataDir, 'ferretdb', 'data');
      const samples: SoakSample[] = [];
      const requestsAt: number[] = [];
      const take = async (minute: number): Promise<void> => {
        const values: Record<string, number> = {};
        ha.apis.forEach((a, i) => (values[apiSeries[i]!] = rssMiB(a.process.child.pid)));
        values['projector RSS'] = rssMiB(ha.stack.projector.child.pid);
        values['FerretDB RSS'] = rssMiB(ferretPid());
        values['store on disk'] = diskMiB(storeDir);
        // V8's figures as found, before the collection below moves them.
        const heaps = await Promise.all(ha.apis.map((a) => heapMiB(a.process.metricsUrl)));
        await Promise.all(
          inspected.map(async ({ series, pid, url }) => {
            await collectGarbage(url);
            values[collected(series)] = rssMiB(pid);
          }),
        );
        heaps.forEach((h, i) => {
          const names = v8Series(i);
          values[names.used] = h.used;
          values[names.total] = h.total;
          values[names.newSpace] = h.newSpace;
          values[names.external] = h.external;
        });
        samples.push({ minute, values });
        requestsAt.push(load.requests);
        process.stdout.write(
          `soak: minute ${minute}: ${Object.entries(values)
            .map(([k, v]) => `${k} ${v.toFixed(1)} MiB`)
            .join(', ')}; ${load.requests} requests, ${load.failures.length} failed\n`,
        );
      };

      const started = Date.now();
      load.start();
      await take(0);
      for (let minute = 1; minute <= MINUTES; minute++) {
        await sleep(Math.max(0, started + minute * 60_000 - Date.now()));
        await take(minute);
      }
      await load.stop();
      const seconds = (Date.now() - started) / 1000;

      const results: Flatness[] = [...collectedSeries, ...rssSeries, ...heapSeries, ...youngAndExternal, 'store on disk'].map((s) =>
        flatness(samples, s, WARM_UP),
      );
      const commits = await ha.stack.db.collection('commits').countDocuments({ tenantId: ha.tenantId });
      const caption =
        `Keyward soak: ${INSTANCES} key-api behind HAProxy, 3 Kafka nodes, FerretDB; ${RATE} requests/s asked, ` +
        `${(load.requests / seconds).toFixed(1)}/s done, ${MINUTES} min (${new Date(started).toISOString().slice(0, 16)}Z)`;
      mkdirSync(dirname(OUT), { recursive: true });
      writeFileSync(
        OUT,
        soakSvg(
          samples,
          [
            { title: 'Resident set size right after a full collection (MiB): asserted flat', series: collectedSeries },
            { title: 'Resident set size as found, before the collection (MiB)', series: rssSeries },
            { title: 'key-api V8 heap: in use and reserved, from its metrics (MiB)', series: heapSeries },
            { title: 'Store on disk: FerretDB SQLite files with WAL (MiB)', series: ['store on disk'] },
          ],
          { caption, warmUpMinutes: WARM_UP },
        ),
      );
      const byKind = new Map<string, number>();
      for (const f of load.failures) {
        const kind = f.what.split(':')[0]!;
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      }
      const perMinute = requestsAt.slice(1).map((n, i) => n - requestsAt[i]!);
      process.stdout.write(
        [
          '',
          caption,
          `${load.requests} requests (per minute ${Math.min(...perMinute)}-${Math.max(...perMinute)}), ${load.commands.length} acknowledged commands, ` +
            `${load.ciphertexts.length} ciphertexts, ${commits} commits; failed requests: ${load.failures.length} ` +
            `(${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'})`,
          sampleTable(samples, [...collectedSeries, ...rssSeries, ...heapSeries, ...youngAndExternal, 'store on disk']),
          '',
          `flatness: the growth of the least-squares line through the samples of minutes ${WARM_UP}-${MINUTES}` +
            (ASSERT ? ' (asserted for key-api and projector RSS after a full collection)' : ' (printed only: short form)'),
          flatnessTable(results, WARM_UP),
          `plot: ${OUT}`,
          ...load.failures.slice(0, 10).map((f) => `  ${new Date(f.at).toISOString()} ${f.what}`),
          '',
        ].join('\n'),
      );

      // A request under steady load without faults is answered; a failure is never the caller's fault nor a 500.
      expect(load.failures.filter((f) => /^\w+: (401|403|500) /.test(f.what))).toEqual([]);
      if (ASSERT) expect(results.filter((r) => collectedSeries.includes(r.series) && !r.flat)).toEqual([]);
    },
    (MINUTES + 15) * 60_000,
  );
});
