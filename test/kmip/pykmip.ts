import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PYKMIP_VERSION = '0.10.0';

/**
 * A virtual environment with PyKMIP (pinned, with sqlalchemy<2 as it needs) in the per-user cache
 * (KEYWARD_CACHE, default ~/.cache/keyward), created on first use. Answers its python, or null
 * when python3 or PyPI is not available.
 */
export async function pykmipPython(): Promise<string | null> {
  const cache = process.env.KEYWARD_CACHE ?? join(homedir(), '.cache', 'keyward');
  const venv = join(cache, `pykmip-${PYKMIP_VERSION}`);
  const python = join(venv, 'bin', 'python');
  const ready = async (): Promise<boolean> =>
    existsSync(python) &&
    (await run(python, ['-c', 'import kmip, cryptography'])
      .then(() => true)
      .catch(() => false));
  if (await ready()) return python;
  try {
    await run('python3', ['-m', 'venv', venv], { timeout: 120_000 });
    await run(join(venv, 'bin', 'pip'), ['install', '-q', `PyKMIP==${PYKMIP_VERSION}`, 'sqlalchemy<2'], { timeout: 600_000 });
  } catch (err: unknown) {
    process.stderr.write(`cannot install PyKMIP: ${String(err)}\n`);
    return null;
  }
  return (await ready()) ? python : null;
}

export async function runScenario(python: string, args: string[], script = 'pykmip-scenario.py'): Promise<Record<string, unknown>> {
  const { stdout } = await run(python, [join(__dirname, script), ...args], { timeout: 120_000 }).catch((err: unknown) => {
    const failed = err as { stdout?: string; stderr?: string; message?: string };
    throw new Error(`PyKMIP scenario failed: ${failed.stderr ?? failed.message ?? 'unknown'}\n${failed.stdout ?? ''}`);
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}
