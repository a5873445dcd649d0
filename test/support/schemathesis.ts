import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SCHEMATHESIS_VERSION = '4.32.5';

/**
 * A virtual environment with schemathesis (pinned) in the per-user cache (KEYWARD_CACHE, default
 * ~/.cache/keyward), created from PyPI on first use. Answers its `schemathesis` command, or null
 * when python3 or PyPI is not available.
 */
export async function schemathesisCommand(): Promise<string | null> {
  const cache = process.env.KEYWARD_CACHE ?? join(homedir(), '.cache', 'keyward');
  const venv = join(cache, `schemathesis-${SCHEMATHESIS_VERSION}`);
  const command = join(venv, 'bin', 'schemathesis');
  const ready = async (): Promise<boolean> =>
    existsSync(command) &&
    (await run(command, ['--version'])
      .then(({ stdout }) => stdout.includes(SCHEMATHESIS_VERSION))
      .catch(() => false));
  if (await ready()) return command;
  try {
    await run('python3', ['-m', 'venv', venv], { timeout: 120_000 });
    await run(join(venv, 'bin', 'pip'), ['install', '-q', `schemathesis==${SCHEMATHESIS_VERSION}`], { timeout: 600_000 });
  } catch (err: unknown) {
    process.stderr.write(`cannot install schemathesis: ${String(err)}\n`);
    return null;
  }
  return (await ready()) ? command : null;
}
