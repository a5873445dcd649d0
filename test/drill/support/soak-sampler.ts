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

/** A key-api's V8 memory (MiB) from its Prometheus metrics; NaN for what cannot be read. */
export interface HeapFigures {
  /** Live objects and garbage not yet collected (`nodejs_heap_size_used_bytes`). */
  readonly used: number;
  /** Reserved by V8 for its heap (`nodejs_heap_size_total_bytes`): counts in RSS once touched. */
  readonly total: number;
  /** Reserved for the young generation (semi-spaces), which V8 grows and shrinks with the allocation rate. */
  readonly newSpace: number;
  /** Memory of C++ objects tied to JavaScript ones: Buffers, TLS (`nodejs_external_memory_bytes`). */
  readonly external: number;
}

export async function heapMiB(metricsUrl: string | undefined): Promise<HeapFigures> {
  let text = '';
  try {
    if (metricsUrl !== undefined) text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  } catch {
    text = '';
  }
  return heapFigures(text);
}

/** The figures of `HeapFigures` from a Prometheus text exposition (prom-client's default metrics). */
export function heapFigures(metrics: string): HeapFigures {
  const read = (name: string, label = ''): number => {
    const match = new RegExp(`^${name}(?:\\{${label}[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(metrics);
    return match ? Number(match[1]) / MIB : Number.NaN;
  };
  return {
    used: read('nodejs_heap_size_used_bytes'),
    total: read('nodejs_heap_size_total_bytes'),
    newSpace: read('nodejs_heap_space_size_total_bytes', 'space="new"'),
    external: read('nodejs_external_memory_bytes'),
  };
}
