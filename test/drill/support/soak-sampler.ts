import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One sample of the soak: when, and each series' value (RSS or bytes on disk, in MiB). */
export interface SoakSample {
  /** Minutes since the load started. */
  readonly minute: number;
  readonly values: Readonly<Record<string, number>>;
}

const MIB = 1024 * 1024;

/** Resident set size of a process (MiB), from /proc/<pid>/status; NaN when it is gone. */
export function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Bytes on disk of every file under `dir` (MiB): the SQLite files and their WAL for FerretDB. */
export function diskMiB(dir: string): number {
  let bytes = 0;
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) bytes += statSync(path).blocks * 512;
    }
  };
  walk(dir);
  return bytes / MIB;
}

/** V8 heap in use (MiB) from a key-api's Prometheus metrics (`nodejs_heap_size_used_bytes`); NaN when unreadable. */
export async function heapUsedMiB(metricsUrl: string | undefined): Promise<number> {
  if (metricsUrl === undefined) return Number.NaN;
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
    const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(text);
    return match ? Number(match[1]) / MIB : Number.NaN;
  } catch {
    return Number.NaN;
  }
}
