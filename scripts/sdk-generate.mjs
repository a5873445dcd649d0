// `npm run sdk:generate`: writes libs/sdk/src/generated/openapi.ts, the SDK's types, from the
// OpenAPI document key-api serves at /docs/json. Needs `npm run build` first (it runs the compiled
// generator and, by default, the compiled key-api).
//   (default)          starts key-api (TLS off, a scratch database and topics, a temporary data
//                      folder) on KAFKA_BROKERS / MONGODB_URI (default the local infra), reads it, stops it
//   --from URL         reads the document of a running key-api instead (e.g. https://127.0.0.1:8443/docs/json)
//   --ca FILE          CA certificate for --from over https
//   --check            write nothing; exit 1 when the committed file differs from the document's types
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const { generateOpenApiTypes } = require(join(root, 'dist/libs/sdk/src/codegen/openapi-types.js'));
const target = join(root, 'libs/sdk/src/generated/openapi.ts');
const { values } = parseArgs({ options: { from: { type: 'string' }, ca: { type: 'string' }, check: { type: 'boolean', default: false } } });

const get = (url, ca) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { ...(ca ? { ca } : {}), timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer`)));
    req.end();
  });

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts key-api on scratch names, answers its document, stops it. */
async function servedByOwnKeyApi() {
  const data = mkdtempSync(join(tmpdir(), 'kw-sdkgen-'));
  const [port, metrics] = [await freePort(), await freePort()];
  const id = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const child = spawn(process.execPath, [join(root, 'dist/services/key-api/src/main.js')], {
    cwd: root,
    env: {
      ...process.env,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      MONGODB_URI: process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017',
      MONGODB_DB: `keyward_sdkgen_${id}`,
      KAFKA_TOPIC_EVENTS: `sdkgen.${id}.events`,
      KAFKA_TOPIC_USAGE: `sdkgen.${id}.usage`,
      KEYWARD_DATA: data,
      KEY_API_PORT: String(port),
      KEY_API_METRICS_PORT: String(metrics),
      KEY_API_TLS: 'off',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    const started = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`key-api exited (${child.exitCode})`);
      const answer = await get(`http://127.0.0.1:${port}/docs/json`).catch(() => undefined);
      if (answer?.status === 200) return JSON.parse(answer.body);
      if (Date.now() - started > 90_000) throw new Error('key-api did not serve /docs/json within 90 s');
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(data, { recursive: true, force: true });
  }
}

async function fromUrl(url) {
  const answer = await get(url, values.ca ? readFileSync(values.ca) : undefined);
  if (answer.status !== 200) throw new Error(`${url} answered ${answer.status}`);
  return JSON.parse(answer.body);
}

try {
  const document = values.from ? await fromUrl(values.from) : await servedByOwnKeyApi();
  const text = generateOpenApiTypes(document);
  let before = '';
  try {
    before = readFileSync(target, 'utf8');
  } catch {}
  if (values.check) {
    if (before !== text) {
      console.error(`${target} is stale: run "npm run sdk:generate"`);
      process.exit(1);
    }
    console.log(`${target} matches the served document`);
  } else {
    writeFileSync(target, text);
    console.log(`${before === text ? 'unchanged' : 'wrote'} ${target} (${Object.keys(document.paths).length} paths)`);
  }
} catch (err) {
  console.error(`sdk:generate: ${err.message}`);
  process.exit(1);
}
