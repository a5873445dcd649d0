// Runs autocannon in its own process (bench/workers/load.mjs) and samples a server's memory while
// it does, so the load generator never shares an event loop with the service it measures.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, lastJsonLine, spawn } from './util.mjs';

const LOAD_WORKER = join(benchDir, 'workers', 'load.mjs');

/**
 * One load point: `connections` connections for `durationSec` seconds against `target`
 * ({ url, method, headers, body, ca }). Resolves autocannon's figures as reported by the worker.
 */
export function runLoad(target, { connections, durationSec }) {
  const config = JSON.stringify({ ...target, connections, durationSec });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load worker exited ${code}: ${err.slice(-2000)}`));
      try {
        resolve(lastJsonLine(out));
      } catch (e) {
        reject(e);
      }
    });
    child.stdin.end(config);
  });
}

/** Resident set size of a process in KiB, or null once it is gone. */
export function rssKiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    // Not Linux (or the process ended): ask ps.
    try {
      const kib = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim());
      return Number.isFinite(kib) && kib > 0 ? kib : null;
    } catch {
      return null;
    }
  }
}

/** CPU time (user + system) a process has used so far, in ms, or null when it cannot be read. */
export function cpuMs(pid) {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are fields 14 and 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / 100 : null; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; keeps the peak. */
export class RssSampler {
  constructor(pid, intervalMs = 200) {
    this.pid = pid;
    this.peakKiB = 0;
    this.samples = 0;
    this.cpuStartMs = cpuMs(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample() {
    const kib = rssKiB(this.pid);
    if (kib !== null) {
      this.samples += 1;
      if (kib > this.peakKiB) this.peakKiB = kib;
    }
  }

  /** Stops sampling; returns the peak in MiB (null when the process could not be read). */
  stop() {
    clearInterval(this.timer);
    this.sample();
    const end = cpuMs(this.pid);
    this.cpuUsedMs = end === null || this.cpuStartMs === null ? null : end - this.cpuStartMs;
    return this.samples === 0 ? null : Math.round((this.peakKiB / 1024) * 10) / 10;
  }
}
