// `npm run soak -- --minutes 30 --rate 10`: the soak of docs/high-availability.md (the drill's
// stack under a fixed rate of mixed load, memory and the store's size sampled each minute). Builds,
// then runs test/drill/soak.soak-spec.ts (its own jest project, never part of `npm test`).
// Options: --minutes N (30), --rate requests/s (10), --warm-up minutes (10, or a third of a short
// run), --assert on|off (on from 30 minutes), --out plot.svg (docs/high-availability-soak.svg for
// a full run, .keyward/soak/ otherwise), --instances N key-api (2).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const repoRoot = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '10' },
    'warm-up': { type: 'string' },
    assert: { type: 'string' },
    out: { type: 'string' },
    instances: { type: 'string', default: '2' },
  },
});
const minutes = Number(values.minutes);
const env = {
  ...process.env,
  KEYWARD_SOAK: '1',
  // Each service opens an inspector on a loopback port, through which the soak asks for a full
  // collection before its second RSS sample of the minute (test/drill/support/inspector-gc.ts).
  KEYWARD_SERVICE_INSPECT: '1',
  SOAK_MINUTES: values.minutes,
  SOAK_RATE: values.rate,
  SOAK_KEY_API_INSTANCES: values.instances,
  SOAK_OUT:
    values.out ??
    (minutes >= 30 ? join(repoRoot, 'docs', 'high-availability-soak.svg') : join(repoRoot, '.keyward', 'soak', `soak-${minutes}m.svg`)),
  ...(values['warm-up'] === undefined ? {} : { SOAK_WARMUP_MINUTES: values['warm-up'] }),
  ...(values.assert === undefined ? {} : { SOAK_ASSERT: values.assert }),
};
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit', env });
if (build.status !== 0) process.exit(build.status ?? 1);
const jest = join(repoRoot, 'node_modules', 'jest', 'bin', 'jest.js');
const soak = spawnSync(process.execPath, [jest, '--selectProjects', 'soak', '--runInBand'], { cwd: repoRoot, stdio: 'inherit', env });
process.exit(soak.status ?? 1);
