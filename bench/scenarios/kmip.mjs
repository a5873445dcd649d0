// kmip-get, kmip-encrypt: KMIP Get and Encrypt (1 KiB, AES-256-GCM) operations per second (p50/p99)
// over mutual TLS at 1 and 16 connections. Each starts its own kmip service (from dist/, against the
// bench stack's database and topics), makes an exportable AES-256 key over REST with export enabled,
// issues a key-user client certificate from the stack's development CA, and drives the operation from
// a child process (this file with --worker), so that the load generator is a separate process as
// autocannon is for the REST figures. addKmipVsRest puts both beside REST encrypt-1k at 16 connections.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { RssSampler } from '../lib/load.mjs';
import { freePort, JsonClient, lastJsonLine, latencySummary, repoRoot, round, sleep, spawn, uniqueName } from '../lib/util.mjs';

const require = createRequire(import.meta.url);
const HEADER = 8;
/** ResultStatus (0x42007f), Enumeration (05), length 4: the next 4 bytes are the status (0 = Success). */
const RESULT_STATUS = Buffer.from('42007f0500000004', 'hex');

/** The kmip service on free ports (KMIP over mutual TLS, health/metrics over HTTP). */
async function startKmip(stack) {
  const port = await freePort();
  const httpPort = await freePort();
  const logFile = join(stack.dataDir, 'kmip.log');
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'services', 'kmip', 'src', 'main.js')], {
    cwd: repoRoot,
    env: {
      ...stack.env,
      KMIP_HOST: '127.0.0.1',
      KMIP_PORT: String(port),
      KMIP_HTTP_HOST: '127.0.0.1',
      KMIP_HTTP_PORT: String(httpPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d) => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const health = new JsonClient(`http://127.0.0.1:${httpPort}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kmip exited (${child.exitCode}):\n${log.slice(-3000)}`);
    const ready = await health.request('GET', '/health/ready', { timeoutMs: 2_000 }).catch(() => ({ status: 0 }));
    if (ready.status === 200) break;
    if (Date.now() > deadline) throw new Error(`kmip not ready within 60 s:\n${log.slice(-3000)}`);
    await sleep(200);
  }
  health.close();
  return {
    port,
    httpPort,
    pid: child.pid,
    async stop() {
      writeFileSync(logFile, log);
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** An exportable, export-enabled, Active AES-256 key, and a key-user's client certificate files. */
async function fixture(stack) {
  const tenant = await stack.tenant('BenchKmip');
  const body = await stack.client.expect([200, 201], 'POST', '/v1/keys', {
    key: tenant.adminKey,
    body: { keyType: 'AES-256-GCM', activate: true, exportable: true },
  });
  const keyId = body.key.keyId;
  await stack.client.expect([200], 'POST', `/v1/keys/${keyId}/enable-export`, { key: tenant.adminKey });
  const user = await stack.client.expect([201], 'POST', '/v1/principals', {
    key: tenant.adminKey,
    body: { name: uniqueName('bench-kmip'), role: 'key-user' },
  });
  const { issueClientCertificate } = require(join(repoRoot, 'dist', 'libs', 'crypto', 'src', 'index.js'));
  const tlsDir = join(stack.dataDir, 'tls');
  const issued = await issueClientCertificate({ subject: `CN=${user.principalId}, O=${tenant.tenantId}`, days: 1, ca: { dir: tlsDir } });
  const cert = join(stack.dataDir, 'kmip-user.crt');
  const key = join(stack.dataDir, 'kmip-user.key');
  writeFileSync(cert, issued.certPem);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  // KMIP authenticates a principal only by the certificate bound to it (the subject only names it).
  await stack.client.expect([200], 'PUT', `/v1/principals/${user.principalId}/certificate`, {
    key: tenant.adminKey,
    body: { fingerprint: issued.fingerprint },
  });
  return { keyId, cert, key, ca: join(tlsDir, 'ca.crt') };
}

/** What each KMIP scenario sends: its operation and the payload after the Unique Identifier. */
const OPERATIONS = {
  get: { name: 'Get', describe: 'KMIP 1.4 Get (raw AES-256 key material)' },
  encrypt: {
    name: 'Encrypt',
    describe: 'KMIP 1.4 Encrypt of 1 KiB with an AES-256 key made over REST (AES-256-GCM under its KMIP subkey, server IV)',
  },
};

/** Bytes each Encrypt protects: the 1 KiB of REST's encrypt-1k. */
const ENCRYPT_BYTES = 1024;

/** One request message (KMIP 1.4) of the operation, encoded once. */
function operationRequest(keyId, op) {
  const { encodeTtlv, Operation, Tag, ttlv } = require(join(repoRoot, 'dist', 'libs', 'kmip', 'src', 'index.js'));
  const payload = [ttlv.text(Tag.UniqueIdentifier, keyId)];
  if (op === 'encrypt') payload.push(ttlv.bytes(Tag.Data, Buffer.alloc(ENCRYPT_BYTES, 0x5a)));
  return encodeTtlv(
    ttlv.struct(Tag.RequestMessage, [
      ttlv.struct(Tag.RequestHeader, [
        ttlv.struct(Tag.ProtocolVersion, [ttlv.int(Tag.ProtocolVersionMajor, 1), ttlv.int(Tag.ProtocolVersionMinor, 4)]),
        ttlv.int(Tag.BatchCount, 1),
      ]),
      ttlv.struct(Tag.BatchItem, [ttlv.enum(Tag.Operation, Operation[OPERATIONS[op].name]), ttlv.struct(Tag.RequestPayload, payload)]),
    ]),
  );
}

/** Runs the load in a child process; resolves its JSON summary. */
function runWorker(spec) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--worker', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      // A worker that died without a summary fails this part, not the whole bench (an exception here is uncaught).
      let summary = null;
      try {
        summary = lastJsonLine(out);
      } catch {
        summary = null;
      }
      if (code === 0 && summary) resolve(summary);
      else reject(new Error(`kmip load worker exited ${code}: ${err.slice(-2000) || out.slice(-2000)}`));
    });
  });
}

/** KMIP Get throughput and latency at each connection count, beside the REST figures in the table. */
export const kmipGet = (stack, options) => kmipScenario('get', stack, options);

/** KMIP Encrypt (1 KiB) throughput and latency at each connection count. */
export const kmipEncrypt = (stack, options) => kmipScenario('encrypt', stack, options);

async function kmipScenario(op, stack, { connections, durationSec, warmupSec }) {
  const { name, describe } = OPERATIONS[op];
  const f = await fixture(stack);
  const kmip = await startKmip(stack);
  try {
    const points = {};
    const problems = [];
    for (const c of connections) {
      const rss = new RssSampler(kmip.pid);
      const load = await runWorker({ port: kmip.port, ...f, op, connections: c, durationSec, warmupSec });
      const peakRssMiB = rss.stop();
      points[String(c)] = {
        requestsPerSec: round(load.count / load.seconds, 1),
        latency: load.latency,
        errors: load.errors,
        timeouts: 0,
        non2xx: load.failed,
        peakRssMiB,
        kmipCpuMs: rss.cpuUsedMs,
      };
      if (load.failed > 0 || load.errors > 0) problems.push(`${c} connections: ${load.failed} failed ${name}s, ${load.errors} errors`);
    }
    const scrape = new JsonClient(`http://127.0.0.1:${kmip.httpPort}`);
    const metrics = await scrape.request('GET', '/metrics');
    scrape.close();
    const served = new RegExp(`keyward_kmip_operations_total\\{operation="${name}",result="Success"[^}]*\\} (\\d+)`).exec(
      metrics.text,
    )?.[1];
    return {
      status: problems.length === 0 ? 'ok' : 'failed',
      ...(problems.length === 0 ? {} : { problems }),
      operation: `${describe} over mutual TLS, one request in flight per connection`,
      [`serverCounted${name}s`]: served === undefined ? null : Number(served),
      points,
    };
  } finally {
    await kmip.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The load worker: N mutual-TLS connections, each sending Get and waiting for its answer.
// ---------------------------------------------------------------------------------------------

/** What the issue asks of KMIP: Get and Encrypt at 16 connections within 0.8 x REST encrypt-1k's requests/s. */
export const KMIP_VS_REST = { connections: '16', rest: 'encrypt-1k', target: 0.8 };

/**
 * Puts each KMIP scenario beside REST encrypt-1k at 16 connections: `vsRest` on the scenario (both
 * figures, their ratio, the target), null figures when either side did not run or has no such point.
 */
export function addKmipVsRest(scenarios) {
  const { connections, rest, target } = KMIP_VS_REST;
  const restPoint = scenarios[rest]?.status === 'ok' ? scenarios[rest].points?.[connections] : undefined;
  for (const name of ['kmip-get', 'kmip-encrypt']) {
    const s = scenarios[name];
    if (!s?.points) continue;
    const kmip = s.points[connections]?.requestsPerSec;
    const restRps = restPoint?.requestsPerSec;
    const ratio = typeof kmip === 'number' && typeof restRps === 'number' && restRps > 0 ? round(kmip / restRps, 2) : null;
    s.vsRest = {
      connections: Number(connections),
      rest,
      kmipRequestsPerSec: kmip ?? null,
      restRequestsPerSec: restRps ?? null,
      ratio,
      target,
      met: ratio === null ? null : ratio >= target,
    };
  }
}

async function worker(spec) {
  const request = operationRequest(spec.keyId, spec.op ?? 'get');
  const tlsOptions = {
    host: '127.0.0.1',
    port: spec.port,
    ca: readFileSync(spec.ca),
    cert: readFileSync(spec.cert),
    key: readFileSync(spec.key),
    servername: 'localhost',
    checkServerIdentity: () => undefined,
  };
  const latencies = [];
  let count = 0;
  let failed = 0;
  let errors = 0;
  let measuring = false;
  let stopping = false;

  const loop = () =>
    new Promise((resolve) => {
      const socket = connect(tlsOptions);
      socket.setNoDelay(true);
      let buffered = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (stopping) {
          socket.end();
          return;
        }
        sentAt = performance.now();
        socket.write(request);
      };
      socket.once('secureConnect', send);
      socket.on('data', (chunk) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        while (buffered.length >= HEADER) {
          const length = HEADER + buffered.readUInt32BE(4);
          if (buffered.length < length) return;
          const frame = buffered.subarray(0, length);
          buffered = buffered.subarray(length);
          const at = frame.indexOf(RESULT_STATUS);
          const ok = at >= 0 && frame.readUInt32BE(at + RESULT_STATUS.length) === 0;
          if (measuring) {
            count += 1;
            latencies.push(performance.now() - sentAt);
            if (!ok) failed += 1;
          }
          frame.fill(0); // it holds key material (Get) or ciphertext
          send();
        }
      });
      socket.on('error', () => {
        errors += 1;
      });
      socket.on('close', () => resolve());
    });

  const running = Array.from({ length: spec.connections }, () => loop());
  await sleep(spec.warmupSec * 1000);
  measuring = true;
  const started = performance.now();
  await sleep(spec.durationSec * 1000);
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  stopping = true;
  await Promise.race([Promise.all(running), sleep(5_000)]);
  console.log(JSON.stringify({ count, failed, errors, seconds, latency: latencySummary(latencies) }));
}

if (process.argv[2] === '--worker') {
  worker(JSON.parse(process.argv[3])).then(
    () => process.exit(0),
    (err) => {
      console.error(err.stack ?? String(err));
      process.exit(1);
    },
  );
}
