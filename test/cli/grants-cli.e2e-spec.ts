import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(300_000);

const repoRoot = join(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
interface Grant {
  grantId: string;
  principalId: string;
  operations: string[];
  keys: Record<string, unknown>;
  conditions: Record<string, unknown>;
  revokedAt: string | null;
}

/**
 * keyward grants list | create | revoke against a running key-api (real Kafka and FerretDB), in a
 * grants-required tenant: what the CLI creates is what the data plane enforces, the list shows it
 * (a key-user only its own), revoking ends the use, and bad input is a usage error (exit 64) that
 * sends nothing.
 */
describe('keyward grants against a running key-api', () => {
  const stack = new KeywardStack();
  let admin: string;
  let user: { principalId: string; apiKey: string };
  let other: { principalId: string; apiKey: string };
  let keyId: string;

  const keyward = (apiKey: string, args: readonly string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, 'bin', 'keyward.mjs'), ...args],
        {
          cwd: repoRoot,
          timeout: 120_000,
          env: {
            ...process.env,
            KEYWARD_URL: stack.api.baseUrl,
            KEYWARD_CA: join(stack.dataDir, 'tls', 'ca.crt'),
            KEYWARD_API_KEY: apiKey,
          },
        },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  const json = async <T>(apiKey: string, args: readonly string[]): Promise<T> => {
    const run = await keyward(apiKey, [...args, '--json']);
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
    return JSON.parse(run.stdout) as T;
  };
  const encrypt = (apiKey: string, aad?: string) =>
    stack.call(apiKey, 'POST', `/v1/keys/${keyId}/encrypt`, {
      plaintext: Buffer.from('hello').toString('base64'),
      ...(aad === undefined ? {} : { aad: Buffer.from(aad).toString('base64') }),
    });

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('CLI Grants Corp', 'required'));
    user = await stack.principalWithId(admin, 'key-user', 'billing-app');
    other = await stack.principalWithId(admin, 'key-user', 'hr-app');
    const created = await stack.call(admin, 'POST', '/v1/keys', { alias: 'payments/eu', activate: true });
    expect(created.status).toBe(201);
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
  });
  afterAll(() => stack.stop());

  it('create: the grant the data plane then enforces, with its conditions; text and --json', async () => {
    expect((await encrypt(user.apiKey)).status).toBe(404);
    const made = await json<{ seq: number; grant: Grant }>(admin, [
      'grants',
      'create',
      '--principal',
      user.principalId,
      '--operations',
      'encrypt, decrypt',
      '--alias-prefix',
      'payments/',
      '--context',
      'app=billing',
    ]);
    expect(made.grant).toMatchObject({
      principalId: user.principalId,
      operations: ['encrypt', 'decrypt'],
      keys: { aliasPrefix: 'payments/' },
      conditions: { encryptionContext: { app: 'billing' } },
      revokedAt: null,
    });
    expect((await encrypt(user.apiKey, JSON.stringify({ app: 'billing', order: '7' }))).status).toBe(200);
    expect((await encrypt(user.apiKey, JSON.stringify({ app: 'hr' }))).status).toBe(403);
    expect((await encrypt(other.apiKey, JSON.stringify({ app: 'billing' }))).status).toBe(404);

    const text = await keyward(admin, ['grants', 'create', '--principal', other.principalId, '--operations', 'read', '--key', keyId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^Grant grt_\\S+ created \\(seq \\d+\\): ${other.principalId} may read on ids ${keyId}\\.`));
    expect((await stack.call(other.apiKey, 'GET', `/v1/keys/${keyId}`)).status).toBe(200);
  });

  it('list: the mode and every grant for admins (filters by principal and key), only its own for a key-user', async () => {
    const all = await json<{ mode: string; items: Grant[] }>(admin, ['grants', 'list']);
    expect(all.mode).toBe('required');
    expect(all.items.map((g) => g.principalId)).toEqual([user.principalId, other.principalId]);
    const mine = await json<{ items: Grant[] }>(user.apiKey, ['grants', 'list']);
    expect(mine.items.map((g) => g.principalId)).toEqual([user.principalId]);
    const byPrincipal = await json<{ items: Grant[] }>(admin, ['grants', 'list', '--principal', other.principalId]);
    expect(byPrincipal.items.map((g) => g.operations)).toEqual([['read']]);
    expect((await json<{ items: Grant[] }>(admin, ['grants', 'list', '--key', keyId])).items).toHaveLength(2);
    const table = await keyward(admin, ['grants', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^Grant mode: required\nGRANT\s+PRINCIPAL\s+OPERATIONS\s+KEYS\s+CONDITIONS\s+CREATED\s+REVOKED\n/);
    expect(table.stdout).toContain('alias payments/*');
    expect(table.stdout).toContain('context app=billing');
  });

  it('revoke: the use ends; the list leaves it out unless --revoked; revoking twice is refused', async () => {
    const [grant] = (await json<{ items: Grant[] }>(admin, ['grants', 'list', '--principal', user.principalId])).items;
    const revoked = await keyward(admin, ['grants', 'revoke', grant!.grantId]);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(revoked.stdout).toMatch(new RegExp(`^Grant ${grant!.grantId} revoked \\(seq \\d+\\)\\.`));
    await stack.api.waitFor(async () => (await encrypt(user.apiKey, JSON.stringify({ app: 'billing' }))).status === 404, 30_000);
    expect((await json<{ items: Grant[] }>(admin, ['grants', 'list', '--principal', user.principalId])).items).toEqual([]);
    const withRevoked = await json<{ items: Grant[] }>(admin, ['grants', 'list', '--principal', user.principalId, '--revoked']);
    expect(withRevoked.items[0]?.revokedAt).not.toBeNull();
    const again = await keyward(admin, ['grants', 'revoke', grant!.grantId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/refused \(409 /);
  });

  it('refusals: a key-user cannot create or revoke (exit 1, 403); bad input is a usage error (exit 64) sent nowhere', async () => {
    const encryptGrant = ['grants', 'create', '--principal', user.principalId, '--operations', 'encrypt', '--key', keyId];
    const denied = await keyward(user.apiKey, encryptGrant);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/refused \(403 /);
    expect((await keyward(user.apiKey, ['grants', 'revoke', 'grt_nothing00001'])).stderr).toMatch(/refused \(403 /);
    const before = (await json<{ items: Grant[] }>(admin, ['grants', 'list', '--revoked'])).items.length;
    for (const [args, message] of [
      [['--principal', user.principalId, '--key', keyId], /--operations is required/],
      [['--principal', user.principalId, '--operations', 'encrypt,launch', '--key', keyId], /unknown operation\(s\) launch/],
      [['--principal', user.principalId, '--operations', 'encrypt'], /exactly one of --key, --alias-prefix, --label or --owned/],
      [['--principal', user.principalId, '--operations', 'encrypt', '--key', keyId, '--alias-prefix', 'x'], /exactly one of/],
      [['--principal', user.principalId, '--operations', 'encrypt', '--label', 'team'], /--label takes name=value/],
      [['--operations', 'encrypt', '--key', keyId], /--principal is required/],
    ] as [string[], RegExp][]) {
      const run = await keyward(admin, ['grants', 'create', ...args]);
      expect({ args, code: run.code }).toEqual({ args, code: 64 });
      expect(run.stderr).toMatch(message);
    }
    expect((await keyward(admin, ['grants', 'revoke'])).code).toBe(64);
    // The server's own checks still answer precisely (a past notAfter: 422).
    const past = await keyward(admin, [...encryptGrant, '--not-after', '2000-01-01T00:00:00Z']);
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(/refused \(4\d\d .*notAfter/);
    expect((await json<{ items: Grant[] }>(admin, ['grants', 'list', '--revoked'])).items).toHaveLength(before);
  });
  it("--owned: a kmip-client's standing ownership grant is listed and revoked like any other; owned grants narrow it; a key-user owns nothing", async () => {
    const appliance = await stack.principalWithId(admin, 'kmip-client', 'array-7');
    const standing = `grtown_${appliance.principalId.slice(appliance.principalId.indexOf('_') + 1)}`;
    const table = await keyward(admin, ['grants', 'list', '--principal', appliance.principalId]);
    expect(table.stdout).toMatch(new RegExp(`\\n${standing}\\s+${appliance.principalId}\\s+encrypt,decrypt,\\S+\\s+owned\\s`));
    expect((await keyward(admin, ['grants', 'revoke', standing])).code).toBe(0);
    const narrowed = await json<{ grant: Grant }>(admin, [
      'grants',
      'create',
      '--principal',
      appliance.principalId,
      '--operations',
      'encrypt,decrypt',
      '--owned',
    ]);
    expect(narrowed.grant).toMatchObject({ principalId: appliance.principalId, keys: { owned: true }, operations: ['encrypt', 'decrypt'] });
    const notOwner = await keyward(admin, ['grants', 'create', '--principal', user.principalId, '--operations', 'encrypt', '--owned']);
    expect(notOwner.code).toBe(1);
    expect(notOwner.stderr).toMatch(/refused \(4\d\d .*owns no keys/);
  });
});
