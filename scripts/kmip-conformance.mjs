// `npm run kmip:conformance [-- --docs]`: replays the OASIS KMIP test cases against the kmip service
// (test/kmip/conformance.e2e-spec.ts, with the local infrastructure as `npm test` brings it up) and
// prints the compatibility table as markdown. `--docs` also writes it into docs/kmip.md between the
// `kmip-conformance` markers. KMIP_CONFORMANCE_CASES=<regex> runs some cases only;
// KMIP_CONFORMANCE_IDENTITY=<role> runs them as one principal of that role.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lib/infra.mjs';

const docs = process.argv.includes('--docs');
const table = join(repoRoot, '.keyward', 'kmip-conformance.md');
rmSync(table, { force: true });
const spec = ['--selectProjects', 'e2e', '--runTestsByPath', 'test/kmip/conformance.e2e-spec.ts'];
const status =
  spawnSync(process.execPath, [join(repoRoot, 'scripts', 'test.mjs'), ...spec], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] })
    .status ?? 1;
if (!existsSync(table)) {
  console.error('kmip:conformance: the spec wrote no table (see the errors above)');
  process.exit(status || 1);
}
const markdown = readFileSync(table, 'utf8');
process.stdout.write(markdown);
if (docs) {
  const file = join(repoRoot, 'docs', 'kmip.md');
  const [start, end] = ['<!-- kmip-conformance:start -->', '<!-- kmip-conformance:end -->'];
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) {
    console.error(`kmip:conformance: ${file} has no ${start} … ${end} section`);
    process.exit(1);
  }
  writeFileSync(file, `${text.slice(0, from + start.length)}\n${markdown}${text.slice(to)}`);
  console.error(`kmip:conformance: table written into docs/kmip.md`);
}
process.exit(status);
