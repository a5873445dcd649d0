// sign-ceiling: signatures over 1 KiB with Node's crypto in a child process (one core), for the
// algorithms of sign-ecdsa-p256 and sign-rsa-2048; their points get the ratio to it (vsSignCeiling).
import { round, runWorker } from '../lib/util.mjs';

/** Which ceiling each sign scenario is measured against (the batch ones: their signatures/s, not their requests/s). */
export const SIGN_SCENARIOS = {
  'sign-ecdsa-p256': 'ecdsa-p256',
  'sign-rsa-2048': 'rsa-2048',
  'sign-ecdsa-p256-batch': 'ecdsa-p256',
  'sign-rsa-2048-batch': 'rsa-2048',
};

function worker(durationMs, kind) {
  return runWorker('sign', [durationMs, kind]);
}

export async function signCeiling({ durationSec }) {
  const ms = Math.max(300, Math.round(durationSec * 1000));
  const opsPerSecPerCore = {};
  for (const kind of new Set(Object.values(SIGN_SCENARIOS))) {
    const r = await worker(ms, kind);
    opsPerSecPerCore[kind] = round(r.ops / r.seconds, 0);
  }
  return {
    status: 'ok',
    payloadBytes: 1024,
    opsPerSecPerCore,
    note: "one op = crypto.sign('sha256', 1 KiB, KeyObject): ECDSA P-256 (DER) and RSA-2048 PKCS#1 v1.5, one core",
  };
}

/**
 * Adds, to every point of a sign scenario, its signatures/s (requests/s, times the items of a batch)
 * as a fraction of Node's signatures/s on one core.
 */
export function addSignCeilingRatios(name, result, ceiling) {
  const kind = SIGN_SCENARIOS[name];
  const base = ceiling?.status === 'ok' ? ceiling.opsPerSecPerCore[kind] : undefined;
  if (result?.status !== 'ok' || !base) return;
  for (const point of Object.values(result.points)) {
    point.vsSignCeiling = Number(((point.operationsPerSec ?? point.requestsPerSec) / base).toFixed(3));
  }
}
