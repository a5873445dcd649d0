// `npm test`: every unit and end-to-end suite. Brings up the local infrastructure when none is
// configured, and afterwards stops only what it started. Extra arguments go to jest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { infra, localComponents, localEnv, repoRoot, running } from './lib/infra.mjs';

const components = localComponents();
const already = running(components);
const started = components.filter((c) => !already.includes(c));
if (components.length > 0) {
  console.log(`test: local infrastructure ${components.join(', ')} (already running: ${already.join(', ') || 'none'})`);
  if (infra('up', components) !== 0) {
    infra('down', started);
    process.exit(1);
  }
}
const cleanup = () => {
  if (started.length > 0) {
    console.log(`test: stopping what this run started (${started.join(', ')})`);
    infra('down', started);
  }
};
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const env = { ...process.env, ...localEnv(components), NODE_ENV: 'test' };
let status = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit', env }).status ?? 1;
const resultsDir = join(repoRoot, '.keyward', 'test');
mkdirSync(resultsDir, { recursive: true });
const resultsFile = join(resultsDir, 'jest-results.json');
rmSync(resultsFile, { force: true });
if (status === 0) {
  const jest = join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js');
  status =
    spawnSync(process.execPath, [jest, '--json', `--outputFile=${resultsFile}`, ...process.argv.slice(2)], {
      cwd: repoRoot,
      stdio: 'inherit',
      env,
    }).status ?? 1;
}
cleanup();
if (existsSync(resultsFile)) {
  const r = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  // Suites that failed to run count as failures even when no test inside them ran.
  const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  console.log(`tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
}
process.exit(status);
