// `node bench/scale-table.mjs [result.json [doc.md]]`: writes the tables of a bench result (by
// default bench/results/latest.json) into docs/performance.md, or into another document with the
// same markers. The same as `npm run perf:doc -- --from <result.json> [--doc <doc.md>]`; see
// bench/perf-doc.mjs.
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PERF_DOC, publishResult } from './perf-doc.mjs';

const source = resolve(process.argv[2] ?? join(fileURLToPath(new URL('.', import.meta.url)), 'results', 'latest.json'));
try {
  console.log(publishResult(source, resolve(process.argv[3] ?? PERF_DOC)));
} catch (err) {
  console.error(`scale-table: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
