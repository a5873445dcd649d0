import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KeywardStack } from '../support/keyward-stack';
import { schemathesisCommand } from '../support/schemathesis';

const run = promisify(execFile);

/** Checks every generated request's answer must pass: no 5xx, a documented status, a body its schema admits. */
const CHECKS = 'not_a_server_error,status_code_conformance,response_schema_conformance';
/**
 * Deterministic and bounded by a count, not a clock: one fuzzing pass, the same cases each run, every
 * operation getting its examples however loaded the machine is. (`--max-time` made schemathesis repeat
 * its pass until the time was spent: 300 s every run, 7,734 tenant-admin cases on an idle machine and
 * 623 on a loaded one, barely one pass of 8 per operation.) Against the code before the unread-body
 * fix these counts find its TLS EOF (a body over the limit) in both roles. The enrollment 201 that broke
 * its schema was 1 case in 7,734 of an idle 300 s run; these counts did not meet it in a run against
 * that code (a random {id} rarely names a principal). About a minute and a half on an idle machine;
 * `timeoutMs` only stops a run that hangs.
 */
const SEED = '20';
const BUDGET = {
  'key-user': { maxExamples: 40, timeoutMs: 600_000 },
  'tenant-admin': { maxExamples: 25, timeoutMs: 900_000 },
} as const;

interface OpenApi {
  paths: Record<string, Record<string, { tags?: string[]; parameters?: { name: string; in: string; schema?: object }[] }>>;
}

/**
 * The served OpenAPI document run through an outside fuzzer (schemathesis, from PyPI into the
 * per-user cache), as a tenant-admin and as a key-user on an Active key: the key-user's copy of
 * the document pins the data plane's `{id}` to that key, so its cases reach the crypto code.
 */
describe('the served OpenAPI document under schemathesis (issue 20)', () => {
  jest.setTimeout(960_000); // a role's run: its BUDGET timeout at most
  const stack = new KeywardStack();
  let command: string | null;
  let admin: string;
  let user: string;
  let keyId: string;
  let document: OpenApi;
  const dir = mkdtempSync(join(tmpdir(), 'kw-fuzz-'));

  beforeAll(async () => {
    command = await schemathesisCommand();
    await stack.start();
    ({ adminKey: admin } = await stack.onboard());
    user = await stack.principal(admin, 'key-user');
    const created = await stack.call(admin, 'POST', '/v1/keys', { alias: 'fuzzed', activate: true });
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    document = (await stack.api.get('/docs/json')).json<OpenApi>();
  });
  afterAll(() => stack.stop());

  async function fuzz(name: keyof typeof BUDGET, apiKey: string, doc: OpenApi, only?: RegExp): Promise<string> {
    const file = join(dir, `${name}.json`);
    const paths = only ? Object.fromEntries(Object.entries(doc.paths).filter(([p]) => only.test(p))) : doc.paths;
    writeFileSync(file, JSON.stringify({ ...doc, paths }));
    const args = [
      'run',
      file,
      '--url',
      stack.api.baseUrl,
      '--header',
      `Authorization: Bearer ${apiKey}`,
      '--tls-verify',
      join(stack.dataDir, 'tls', 'ca.crt'),
      '--checks',
      CHECKS,
      '--phases',
      'examples,fuzzing', // coverage: hypothesis 6.170 fails in it on Python 3.11 (AST recursion depth mismatch)
      '--max-examples',
      String(BUDGET[name].maxExamples),
      '--seed',
      SEED,
      '--workers',
      '1',
      '--request-timeout',
      '10',
      '--no-color',
      '--suppress-health-check',
      'all',
    ];
    const { stdout, stderr } = await run(command!, args, {
      cwd: dir,
      timeout: BUDGET[name].timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((err: unknown) => {
      const failed = err as { stdout?: string; stderr?: string };
      throw new Error(`schemathesis found problems as ${name}:\n${(failed.stdout ?? '').slice(-20_000)}\n${failed.stderr ?? ''}`);
    });
    return stdout + stderr;
  }

  it('as a key-user on an Active key: no 5xx, every answer documented and matching its schema', async () => {
    if (command === null) return; // no python3 or PyPI here (reported on stderr)
    const pinned = JSON.parse(JSON.stringify(document)) as OpenApi;
    for (const item of Object.values(pinned.paths)) {
      for (const op of Object.values(item)) {
        for (const p of op.parameters ?? []) if (p.in === 'path' && p.name === 'id') p.schema = { type: 'string', enum: [keyId] };
      }
    }
    // Its negative cases include bodies over key-api's body limit: each gets its 413 (the rest of the
    // body is read and dropped, libs/platform/src/http/unread-body.ts), not a reset connection.
    const out = await fuzz('key-user', user, pinned, /^\/v1\/(keys\/\{id\}\/(encrypt|data-key|mac|verify-mac|material)|decrypt|rewrap)/);
    expect(out).toMatch(/passed|No issues found/i);
  });

  it('as a tenant-admin: no 5xx, every answer documented and matching its schema', async () => {
    if (command === null) return;
    // Every route but the live stream (text/event-stream: an answer that never ends; test/console covers it).
    const out = await fuzz('tenant-admin', admin, document, /^(?!\/v1\/audit\/live$)/);
    expect(out).toMatch(/passed|No issues found/i);
    expect(readFileSync(join(dir, 'tenant-admin.json'), 'utf8')).toContain('/v1/keys');
  });
});
