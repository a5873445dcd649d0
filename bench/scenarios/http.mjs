// HTTP scenarios: the bare-Fastify ceiling and the key-api data plane (encrypt, decrypt, data key,
// MAC), each at several connection counts with autocannon in its own process, sampling the
// server's peak RSS meanwhile.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cpuMs, RssSampler, runLoad } from '../lib/load.mjs';
import { benchDir, sleep, spawn } from '../lib/util.mjs';

export const CRYPTO_SCENARIOS = [
  'encrypt-1k',
  'decrypt-1k',
  'data-key',
  'mac',
  'sign-ecdsa-p256',
  'sign-rsa-2048',
  'sign-ecdsa-p256-batch',
  'sign-rsa-2048-batch',
];

/** Messages (1 KiB each) in one request of the batch sign scenarios, by default (--sign-batch). */
export const SIGN_BATCH_ITEMS = 32;
const signBatch = (keyId, algorithm, f) => ({
  path: `/v1/keys/${keyId}/sign/batch`,
  body: { algorithm, batchInput: Array.from({ length: f.signBatchItems }, () => ({ message: f.plaintext1k })) },
});

/**
 * The data-plane requests (contract of the crypto issue). `request(f)` builds { path, body } from
 * the fixture; `needs` names a fixture field without which the scenario cannot run.
 */
const REQUESTS = {
  'encrypt-1k': { request: (f) => ({ path: `/v1/keys/${f.aesKeyId}/encrypt`, body: { plaintext: f.plaintext1k } }) },
  'decrypt-1k': { needs: 'ciphertext', request: (f) => ({ path: '/v1/decrypt', body: { ciphertext: f.ciphertext } }) },
  'data-key': { request: (f) => ({ path: `/v1/keys/${f.aesKeyId}/data-key`, body: { bytes: 32 } }) },
  mac: { request: (f) => ({ path: `/v1/keys/${f.hmacKeyId}/mac`, body: { data: f.plaintext1k } }) },
  'sign-ecdsa-p256': {
    request: (f) => ({ path: `/v1/keys/${f.ecKeyId}/sign`, body: { message: f.plaintext1k, algorithm: 'ECDSA-SHA256' } }),
  },
  'sign-rsa-2048': {
    request: (f) => ({ path: `/v1/keys/${f.rsaKeyId}/sign`, body: { message: f.plaintext1k, algorithm: 'RSA-PKCS1-SHA256' } }),
  },
  'sign-ecdsa-p256-batch': { batch: true, request: (f) => signBatch(f.ecKeyId, 'ECDSA-SHA256', f) },
  'sign-rsa-2048-batch': { batch: true, request: (f) => signBatch(f.rsaKeyId, 'RSA-PKCS1-SHA256', f) },
};

/**
 * One tenant with a key-user, active AES-256-GCM, HMAC-SHA256, EC-P256 and RSA-2048 keys; probes
 * encrypt once for a ciphertext (for decrypt-1k) and the size of its answer (for the ceiling).
 * With `grants` > 0 (--grants), the tenant requires grants and the key-user holds that many: all
 * but one name other keys, and the one that allows the fixture's keys comes last, so that every
 * request's authorization looks at all of them (the worst case).
 */
export async function cryptoFixture(stack, { grants = 0, signBatchItems = SIGN_BATCH_ITEMS } = {}) {
  const tenant = await stack.tenant('Bench', { grants: grants > 0 ? 'required' : 'open' });
  const aesKeyId = await stack.createKey(tenant.adminKey, 'AES-256-GCM');
  const hmacKeyId = await stack.createKey(tenant.adminKey, 'HMAC-SHA256');
  // Asymmetric types came later: a key-api without them leaves these scenarios "unavailable".
  const ecKeyId = await stack.createKey(tenant.adminKey, 'EC-P256').catch(() => 'key_unavailable');
  const rsaKeyId = await stack.createKey(tenant.adminKey, 'RSA-2048').catch(() => 'key_unavailable');
  if (grants > 0)
    await grantMany(
      stack,
      tenant,
      grants,
      [aesKeyId, hmacKeyId, ecKeyId, rsaKeyId].filter((k) => k !== 'key_unavailable'),
    );
  const plaintext1k = randomBytes(1024).toString('base64');
  const fixture = {
    ...tenant,
    aesKeyId,
    hmacKeyId,
    ecKeyId,
    rsaKeyId,
    plaintext1k,
    ciphertext: null,
    encryptAnswerBytes: null,
    probes: {},
    grants,
    signBatchItems,
  };
  for (const name of CRYPTO_SCENARIOS) {
    const spec = REQUESTS[name];
    if (spec.needs && !fixture[spec.needs]) {
      fixture.probes[name] = { status: null, reason: `needs a ${spec.needs}, which encrypt-1k did not produce` };
      continue;
    }
    const { path, body } = spec.request(fixture);
    const answer = await stack.client.request('POST', path, { key: tenant.userKey, body });
    fixture.probes[name] = { status: answer.status, reason: `POST ${path.replace(/key_\w+/, '{id}')} answered ${answer.status}` };
    if (name === 'encrypt-1k' && answer.status === 200) {
      fixture.ciphertext = answer.body?.ciphertext ?? null;
      fixture.encryptAnswerBytes = Buffer.byteLength(answer.text);
    }
  }
  return fixture;
}

/** `count` grants for the fixture's key-user: count - 1 on keys that do not exist, then the one on `keyIds`. */
async function grantMany(stack, tenant, count, keyIds) {
  const operations = ['encrypt', 'decrypt', 'data-key', 'rewrap', 'mac', 'verify-mac'];
  const grant = (keys) =>
    stack.client.expect([201], 'POST', '/v1/grants', { key: tenant.adminKey, body: { principalId: tenant.userId, operations, keys } });
  for (let i = 1; i < count; i++) await grant({ ids: [`key_filler${String(i).padStart(6, '0')}`] });
  await grant({ ids: keyIds });
}

/** The size of an encrypt answer when it cannot be probed: a 1 KiB blob with a ~64-byte header, base64. */
function estimatedEncryptAnswerBytes() {
  const blob = Math.ceil((1024 + 64) / 3) * 4;
  return Buffer.byteLength(JSON.stringify({ ciphertext: 'A'.repeat(blob), keyId: 'key_0000000000000000000000', version: 1 }));
}

/** Warm-up (discarded), then one measured point per connection count. */
async function loadPoints(target, pid, { connections, durationSec, warmupSec }) {
  if (warmupSec > 0) await runLoad(target, { connections: Math.max(...connections), durationSec: warmupSec });
  const points = {};
  for (const c of connections) {
    await sleep(300);
    const sampler = pid ? new RssSampler(pid) : null;
    const result = await runLoad(target, { connections: c, durationSec });
    const peakRssMiB = sampler ? sampler.stop() : null;
    // Server CPU per answered request: what the service costs, however busy the machine was.
    const serverCpuUsPerRequest =
      sampler?.cpuUsedMs != null && result.responses > 0 ? Math.round((sampler.cpuUsedMs * 1000) / result.responses) : null;
    points[c] = { ...result, peakRssMiB, serverCpuUsPerRequest };
  }
  return points;
}

/** What a server burns without requests (timers, polls, heartbeats), in ms of CPU per second. */
async function idleCpuMsPerSec(pid) {
  const before = pid ? cpuMs(pid) : null;
  await sleep(2_000);
  const after = pid ? cpuMs(pid) : null;
  return before === null || after === null ? null : Math.round((after - before) / 2);
}

const peakOf = (points) => Math.max(...Object.values(points).map((p) => p.peakRssMiB ?? 0));

/** Starts the ceiling server process; resolves once it listens. */
function startCeilingServer(config) {
  return new Promise((resolve, reject) => {
    const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, join(benchDir, 'workers', 'ceiling-server.mjs'), JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve({ child, ...JSON.parse(line) });
    });
    child.on('exit', (code) => reject(new Error(`ceiling server exited ${code}: ${err.slice(-2000)}`)));
    child.on('error', reject);
  });
}

/**
 * http-ceiling: bare Fastify, same Node, same TLS certificate, same request (headers and 1 KiB
 * body) as encrypt-1k, answering as many bytes as key-api's encrypt does.
 */
export async function httpCeiling(stack, fixture, settings) {
  const responseBytes = fixture.encryptAnswerBytes ?? estimatedEncryptAnswerBytes();
  const tls = stack.tlsFiles;
  const server = await startCeilingServer({ tls: tls ? { cert: tls.cert, key: tls.key } : null, responseBytes, bodyLimit: 128 * 1024 });
  try {
    const target = {
      url: `${tls ? 'https' : 'http'}://127.0.0.1:${server.port}/ceiling`,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.userKey}` },
      body: JSON.stringify({ plaintext: fixture.plaintext1k }),
      ...(tls?.ca ? { ca: tls.ca } : {}),
    };
    const serverIdleCpuMsPerSec = await idleCpuMsPerSec(server.child.pid);
    const points = await loadPoints(target, server.child.pid, settings);
    return {
      status: 'ok',
      serverIdleCpuMsPerSec,
      tls: Boolean(tls),
      responseBytes: server.responseBytes,
      responseSizeFrom: fixture.encryptAnswerBytes ? 'encrypt-1k answer' : 'estimate (encrypt-1k not available yet)',
      points,
      serverPeakRssMiB: peakOf(points),
    };
  } finally {
    server.child.kill('SIGTERM');
  }
}

/** The load target of a data-plane scenario: its request as the fixture's key-user, against key-api. */
export function scenarioTarget(name, stack, fixture) {
  const { path, body } = REQUESTS[name].request(fixture);
  const tls = stack.tlsFiles;
  const target = {
    url: new URL(path, stack.client.base).href,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${fixture.userKey}` },
    body: JSON.stringify(body),
    ...(tls?.ca ? { ca: tls.ca } : {}),
  };
  return { path, target };
}

/** One data-plane scenario against key-api, authenticated with the tenant's key-user API key. */
export async function cryptoScenario(name, stack, fixture, settings) {
  const probe = fixture.probes[name];
  if (probe.status === 404 || probe.status === null) {
    return { status: 'unavailable', reason: `not available yet: ${probe.reason}` };
  }
  if (probe.status !== 200) return { status: 'failed', reason: `probe failed: ${probe.reason}` };
  const { path, target } = scenarioTarget(name, stack, fixture);
  const keyApiIdleCpuMsPerSec = await idleCpuMsPerSec(stack.apiPid);
  const points = await loadPoints(target, stack.apiPid, settings);
  const items = REQUESTS[name].batch ? fixture.signBatchItems : undefined;
  // A batch answers `items` operations a request: the figure to compare with one-per-request scenarios.
  if (items) for (const point of Object.values(points)) point.operationsPerSec = Math.round(point.requestsPerSec * items);
  return {
    status: 'ok',
    request: `POST ${path.replace(/key_\w+/, '{id}')}`,
    ...(items ? { itemsPerRequest: items } : {}),
    grantsHeld: fixture.grants ?? 0,
    keyApiIdleCpuMsPerSec,
    points,
    keyApiPeakRssMiB: peakOf(points),
  };
}

/** Adds, to every point of an HTTP scenario, its ratio to the ceiling at the same connection count. */
export function addCeilingRatios(result, ceiling) {
  if (result?.status !== 'ok' || ceiling?.status !== 'ok') return;
  for (const [c, point] of Object.entries(result.points)) {
    const base = ceiling.points[c];
    if (!base) continue;
    point.vsCeiling = {
      requestsPerSec: base.requestsPerSec > 0 ? Number((point.requestsPerSec / base.requestsPerSec).toFixed(3)) : null,
      p99: base.latency.p99Ms > 0 ? Number((point.latency.p99Ms / base.latency.p99Ms).toFixed(2)) : null,
    };
  }
}
