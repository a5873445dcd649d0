// What the scale scenario reads about the processes of the stack: who listens on a port, a
// process's command line, CPU time over a quiet window, and the size of a FerretDB database on disk.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cpuMs, rssKiB } from './load.mjs';
import { round, sleep } from './util.mjs';

/** The pid of the process listening on 127.0.0.1:<port> (ss), or null when it cannot be found. */
export function pidListeningOn(port) {
  try {
    const out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The port of a `host:port` or `mongodb://host:port/...` address on this machine, or null for a remote one. */
export function localPort(address) {
  const match = /^(?:[a-z]+:\/\/)?(?:[^@/]*@)?(127\.0\.0\.1|localhost|\[::1\]):(\d+)/.exec(address.split(',')[0].trim());
  return match ? Number(match[2]) : null;
}

/** The arguments a process was started with. */
export function processArgs(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** FerretDB's SQLite directory from its command line (`-data-dir <dir>`, as infra/ferretdb/ferretdb.sh starts it). */
export function ferretDataDir(pid) {
  const args = processArgs(pid);
  const at = args.findIndex((a) => a === '-data-dir' || a === '--data-dir');
  if (at >= 0 && args[at + 1]) return args[at + 1];
  const inline = args.find((a) => /^--?data-dir=/.test(a));
  return inline ? inline.split('=')[1] : null;
}

/** Bytes of one database in FerretDB's SQLite directory (`<db>.sqlite`, its `-wal` and `-shm`). */
export function databaseBytes(dataDir, db) {
  try {
    return readdirSync(dataDir)
      .filter((f) => f === `${db}.sqlite` || f.startsWith(`${db}.sqlite-`))
      .reduce((sum, f) => sum + statSync(join(dataDir, f)).size, 0);
  } catch {
    return null;
  }
}

/** Bytes of every file under a directory. */
export function directoryBytes(dir) {
  let sum = 0;
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) sum += directoryBytes(path);
      else if (entry.isFile()) sum += statSync(path).size;
    }
  } catch {
    return null;
  }
  return sum;
}

/**
 * CPU of each named process over `seconds` in which nothing is asked of them: percent of one core
 * (user + system from /proc/<pid>/stat), and their sum.
 */
export async function idleCpu(pids, seconds) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid ? cpuMs(pid) : null]));
  const started = performance.now();
  await sleep(seconds * 1000);
  const elapsedMs = performance.now() - started;
  const perProcess = {};
  let total = 0;
  let complete = true;
  for (const [name, pid] of Object.entries(pids)) {
    const after = pid ? cpuMs(pid) : null;
    if (before[name] === null || after === null) {
      perProcess[name] = null;
      complete = false;
      continue;
    }
    const percent = ((after - before[name]) / elapsedMs) * 100;
    perProcess[name] = round(percent, 2);
    total += percent;
  }
  return { seconds: round(elapsedMs / 1000, 1), percentOfCore: perProcess, totalPercentOfCore: round(total, 2), complete };
}

/** RSS in MiB of each named process (null when it cannot be read). */
export function rssMiB(pids) {
  return Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => {
      const kib = pid ? rssKiB(pid) : null;
      return [name, kib === null ? null : round(kib / 1024, 1)];
    }),
  );
}
