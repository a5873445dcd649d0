import { execFile } from 'node:child_process';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..', '..');

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The last stdout line as JSON (for --json runs that succeeded). */
  json<T>(): T;
}

/** Runs `node bin/keyward-backup.mjs <args>` as an operator would, with `env` on top of this process's environment. */
export function backupCli(args: readonly string[], env: Record<string, string>, timeoutMs = 300_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'keyward-backup.mjs'), ...args],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({
          code,
          stdout,
          stderr,
          json: <T>() => JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as T,
        });
      },
    );
  });
}
