// aes-ceiling: AES-256-GCM on 1 KiB with Node's crypto in child processes: first one alone (ops/s
// on one core), then one per core at once (what the whole machine can encrypt).
import { availableParallelism } from 'node:os';
import { round, runWorker } from '../lib/util.mjs';

function worker(durationMs) {
  return runWorker('aes', [durationMs]);
}

export async function aesCeiling({ durationSec }) {
  const ms = Math.max(300, Math.round(durationSec * 1000));
  const single = await worker(ms);
  const cores = availableParallelism();
  const all = await Promise.all(Array.from({ length: cores }, () => worker(ms)));
  const perCore = single.ops / single.seconds;
  const total = all.reduce((sum, r) => sum + r.ops / r.seconds, 0);
  return {
    status: 'ok',
    payloadBytes: 1024,
    opsPerSecPerCore: round(perCore, 0),
    mibPerSecPerCore: round((perCore * 1024) / 2 ** 20, 1),
    cores,
    allCoresOpsPerSec: round(total, 0),
    allCoresPerCoreOpsPerSec: round(total / cores, 0),
    note: 'one op = random 96-bit IV + createCipheriv + setAAD + update(1 KiB) + final + getAuthTag',
  };
}
