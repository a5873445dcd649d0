// Load generator process: reads one load point as JSON on stdin, runs autocannon against it and
// prints the figures as one JSON line. Started by bench/lib/load.mjs, never in the service's process.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const point = JSON.parse(Buffer.concat(chunks).toString('utf8'));

// autocannon's own histogram has 1 ms resolution; keep every 2xx latency (float ms) for exact
// sub-millisecond percentiles.
let latencies = new Float64Array(1 << 16);
let count = 0;
const instance = autocannon({
  url: point.url,
  method: point.method ?? 'POST',
  headers: point.headers ?? {},
  ...(point.body === undefined ? {} : { body: point.body }),
  connections: point.connections,
  duration: point.durationSec,
  timeout: 10,
  // autocannon always connects with rejectUnauthorized: false; trusting the development CA
  // explicitly keeps the handshake the same as a real client's.
  ...(point.ca ? { tlsOptions: { ca: readFileSync(point.ca) } } : {}),
});
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  if (statusCode < 200 || statusCode > 299) return;
  if (count === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[count++] = responseTime;
});
const result = await instance;
const sorted = latencies.subarray(0, count).sort();
const round3 = (v) => Math.round(v * 1000) / 1000;
const at = (p) => (count === 0 ? null : round3(sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))]));

const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
const summary = {
  connections: point.connections,
  durationSec: result.duration,
  requests: result.requests.total,
  ok: result['2xx'],
  // 2xx answers per second over the whole run (autocannon's per-second average hides the tail).
  requestsPerSec: result.duration > 0 ? Math.round((result['2xx'] / result.duration) * 10) / 10 : 0,
  latency: {
    p50Ms: at(50),
    p90Ms: at(90),
    p99Ms: at(99),
    maxMs: count === 0 ? null : round3(sorted[count - 1]),
    meanMs: count === 0 ? null : round3(sorted.reduce((a, b) => a + b, 0) / count),
    samples: count,
  },
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
  // Body plus headers of a 2xx answer, to check that the ceiling answers as much as the service.
  bytesPerResponse: result['2xx'] > 0 ? Math.round(result.throughput.total / result['2xx']) : null,
  responses,
};
process.stdout.write(JSON.stringify(summary) + '\n');
