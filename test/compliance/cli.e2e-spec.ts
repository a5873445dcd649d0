import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCsv, type CommitDocument } from '@keyward/event-log';
import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(420_000);

const repoRoot = join(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the keyward CLI round-trips every verb against a running service', () => {
  const stack = new KeywardStack();
  const work = mkdtempSync(join(tmpdir(), 'kw-cli-'));
  let tenantId: string;
  let admin: string;
  let bob: string;
  let auditor: string;
  let user: string;
  let keyId: string;
  let second: string;

  /** Runs bin/keyward.mjs against the stack's key-api (URL and CA from the environment, as documented). */
  const keyward = (args: readonly string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(repoRoot, 'bin', 'keyward.mjs'), ...args],
        {
          cwd: repoRoot,
          timeout: 120_000,
          maxBuffer: 64 * 1024 * 1024,
          env: {
            ...process.env,
            KEYWARD_URL: stack.api.baseUrl,
            KEYWARD_CA: join(stack.dataDir, 'tls', 'ca.crt'),
            KEYWARD_API_KEY: '',
            ...extraEnv,
          },
        },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  /** A verb as `apiKey`, with --json; insists on exit code 0 and answers the parsed JSON. */
  const json = async <T = Record<string, unknown>>(apiKey: string, args: readonly string[]): Promise<T> => {
    const run = await keyward([...args, '--api-key', apiKey, '--json']);
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
    return JSON.parse(run.stdout) as T;
  };
  /** Reads served from the views: retried until the projection has caught up. */
  const eventually = async <T>(read: () => Promise<T>, until: (value: T) => boolean): Promise<T> => {
    let last: T | undefined;
    await stack.api.waitFor(async () => until((last = await read())), 30_000, 200);
    return last!;
  };
  /** The new principal redeems its enrollment token with the CLI: its own API key. */
  const redeem = async (token: string): Promise<string> => {
    const run = await keyward(['enroll', 'redeem', '--token', token, '--json']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    return (JSON.parse(run.stdout) as { apiKey: string }).apiKey;
  };
  const tryJson = async <T>(apiKey: string, args: readonly string[]): Promise<T | undefined> => {
    const run = await keyward([...args, '--api-key', apiKey, '--json']);
    return run.code === 0 ? (JSON.parse(run.stdout) as T) : undefined;
  };

  beforeAll(async () => {
    stack.env.AUDIT_CHECKPOINT_INTERVAL_MS = '500';
    await stack.start();
  });
  afterAll(() => stack.stop());

  it('tenants: onboard, list, get, current, policy, suspend, resume, offboard', async () => {
    const onboarded = await json<{ tenantId: string; admin: { enrollment: { token: string } } }>(stack.providerKey, [
      'tenants',
      'onboard',
      '--name',
      'CLI Corp',
    ]);
    tenantId = onboarded.tenantId;
    expect(JSON.stringify(onboarded)).not.toMatch(/kw_[A-Za-z0-9]{16}_/);
    admin = await redeem(onboarded.admin.enrollment.token);
    expect(admin).toMatch(/^kw_/);
    const listed = await eventually(
      () => json<{ items: { tenantId: string }[] }>(stack.providerKey, ['tenants', 'list', '--all']),
      (l) => l.items.some((t) => t.tenantId === tenantId),
    );
    expect(listed.items.map((t) => t.tenantId)).toContain(tenantId);
    const got = await eventually(
      () => tryJson<{ tenantId: string; name: string; status: string }>(stack.providerKey, ['tenants', 'get', tenantId]),
      (t) => t !== undefined,
    );
    expect(got).toMatchObject({ tenantId, name: 'CLI Corp', status: 'Active' });
    expect(await json(admin, ['tenants', 'current'])).toMatchObject({ tenantId, dualControl: { quorum: 1 } });
    expect(await json(admin, ['tenants', 'policy'])).toMatchObject({ allowCompromisedDecrypt: false });

    const other = await json<{ tenantId: string }>(stack.providerKey, [
      'tenants',
      'onboard',
      '--name',
      'Short Lived',
      '--admin-name',
      'boss',
    ]);
    expect(await json(stack.providerKey, ['tenants', 'suspend', other.tenantId, '--reason', 'unpaid'])).toMatchObject({
      status: 'Suspended',
    });
    expect(await json(stack.providerKey, ['tenants', 'resume', other.tenantId])).toMatchObject({ status: 'Active' });
    expect(await json(stack.providerKey, ['tenants', 'offboard', other.tenantId, '--confirm', other.tenantId])).toMatchObject({
      status: 'Offboarded',
    });
    const wrong = await keyward(['tenants', 'offboard', tenantId, '--confirm', 'nope', '--api-key', stack.providerKey]);
    expect([wrong.code, wrong.stderr]).toEqual([64, expect.stringMatching(/--confirm must repeat the tenant id/)]);
    const refused = await keyward(['tenants', 'list', '--api-key', admin]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/refused \(403 forbidden-role\)/)]);
  });

  it('principals: create, list, revoke', async () => {
    type Created = { enrollment: { token: string } };
    bob = await redeem((await json<Created>(admin, ['principals', 'create', '--name', 'bob', '--role', 'tenant-admin'])).enrollment.token);
    auditor = await redeem(
      (await json<Created>(admin, ['principals', 'create', '--name', 'auditor', '--role', 'auditor'])).enrollment.token,
    );
    user = await redeem((await json<Created>(admin, ['principals', 'create', '--name', 'app', '--role', 'key-user'])).enrollment.token);
    const temp = await json<{ principalId: string; seq: number }>(admin, ['principals', 'create', '--name', 'temp', '--role', 'key-user']);
    expect(await json(admin, ['principals', 'revoke', temp.principalId])).toMatchObject({ seq: temp.seq + 1 });
    const listed = await eventually(
      () => json<{ items: { name: string; revokedAt: string | null }[] }>(auditor, ['principals', 'list', '--all']),
      (l) => l.items.some((p) => p.name === 'temp' && p.revokedAt !== null),
    );
    expect(listed.items.map((p) => p.name).sort()).toEqual(['admin', 'app', 'auditor', 'bob', 'temp']);
  });

  it('keys: create, list, get, activate, rotate, set-alias, update, min-decryption-version, deactivate, compromise, schedule/cancel destruction', async () => {
    const created = await json<{ key: { keyId: string; state: string } }>(admin, [
      'keys',
      'create',
      '--alias',
      'cli-key',
      '--label',
      'team=a',
      '--description',
      'made by the CLI',
      '--activate',
    ]);
    keyId = created.key.keyId;
    expect(created.key.state).toBe('Active');
    const byAlias = await eventually(
      () => tryJson<{ keyId: string; labels: Record<string, string> }>(auditor, ['keys', 'get', 'alias/cli-key']),
      (k) => k !== undefined,
    );
    expect(byAlias).toMatchObject({ keyId, labels: { team: 'a' } });
    expect((await json<{ latestVersion: number }>(admin, ['keys', 'get', keyId])).latestVersion).toBe(1);
    expect((await json<{ key: { latestVersion: number } }>(admin, ['keys', 'rotate', keyId])).key.latestVersion).toBe(2);
    expect((await json<{ key: { alias: string } }>(admin, ['keys', 'set-alias', keyId, 'cli-key-2'])).key.alias).toBe('cli-key-2');
    const updated = await json<{ key: { description: string; labels: Record<string, string> } }>(admin, [
      'keys',
      'update',
      keyId,
      '--description',
      'renamed',
      '--label',
      'env=prod',
      '--remove-label',
      'team',
    ]);
    expect(updated.key).toMatchObject({ description: 'renamed', labels: { env: 'prod' } });
    expect(
      (await json<{ key: { minDecryptionVersion: number } }>(admin, ['keys', 'min-decryption-version', keyId, '2'])).key
        .minDecryptionVersion,
    ).toBe(2);
    expect((await json<{ key: { state: string } }>(admin, ['keys', 'deactivate', keyId])).key.state).toBe('Deactivated');

    second = (await json<{ key: { keyId: string } }>(admin, ['keys', 'create', '--type', 'HMAC-SHA256'])).key.keyId;
    expect((await json<{ key: { state: string } }>(admin, ['keys', 'activate', second])).key.state).toBe('Active');
    expect((await json<{ key: { state: string } }>(admin, ['keys', 'compromise', second, '--reason', 'leaked in a log'])).key.state).toBe(
      'Compromised',
    );

    // Two admins now: destruction needs the second one.
    const pending = await json<{ pendingApproval: { approvalId: string; status: string } }>(admin, [
      'keys',
      'schedule-destruction',
      keyId,
      '--days',
      '3',
    ]);
    expect(pending.pendingApproval.status).toBe('Pending');
    const listed = await eventually(
      () => json<{ items: { keyId: string; state: string }[] }>(auditor, ['keys', 'list', '--all']),
      (l) => l.items.length === 2 && l.items.some((k) => k.keyId === second && k.state === 'Compromised'),
    );
    expect(listed.items.map((k) => k.keyId).sort()).toEqual([keyId, second].sort());
    const active = await json<{ items: unknown[] }>(auditor, ['keys', 'list', '--state', 'Active']);
    expect(active.items).toEqual([]);

    const approvals = await json<{ items: { approvalId: string }[] }>(auditor, ['approvals', 'list', '--status', 'Pending']);
    expect(approvals.items.map((a) => a.approvalId)).toEqual([pending.pendingApproval.approvalId]);
    expect(await json(auditor, ['approvals', 'get', pending.pendingApproval.approvalId])).toMatchObject({
      operation: 'key.schedule-destruction',
    });
    const approved = await json<{ approval: { status: string } }>(bob, ['approvals', 'approve', pending.pendingApproval.approvalId]);
    expect(approved.approval.status).toBe('Executed');
    expect(
      (await json<{ key: { destroyAfter: string | null } }>(admin, ['keys', 'cancel-destruction', keyId])).key.destroyAfter,
    ).toBeNull();

    const again = await json<{ pendingApproval: { approvalId: string } }>(admin, ['keys', 'schedule-destruction', keyId]);
    const rejected = await json<{ approval: { status: string; outcome: string } }>(bob, [
      'approvals',
      'reject',
      again.pendingApproval.approvalId,
      '--reason',
      'still needed',
    ]);
    expect(rejected.approval.status).toBe('Rejected');
    const policy = await json<{ pendingApproval: { operation: string } }>(admin, [
      'tenants',
      'policy',
      '--allow-compromised-decrypt',
      'on',
    ]);
    expect(policy.pendingApproval.operation).toBe('tenant.set-policy');
  });

  it('audit: events, verify, state, export (jsonl, csv, html), checkpoints, verify --checkpoint, public-key, usage', async () => {
    const events = await json<{ items: { seq: number; index: number; type: string }[]; nextCursor: null }>(auditor, [
      'audit',
      'events',
      '--all',
      '--limit',
      '7',
    ]);
    const api = (await stack.call(auditor, 'GET', '/v1/audit/events?limit=1000')).json<{ items: unknown[] }>();
    expect(events).toEqual({ items: api.items, nextCursor: null });
    const rotated = await json<{ items: { type: string }[] }>(auditor, ['audit', 'events', '--key', keyId, '--type', 'key.rotated']);
    expect(rotated.items.map((e) => e.type)).toEqual(['key.rotated.v1']);

    expect(await json(auditor, ['audit', 'verify'])).toMatchObject({ ok: true, tenantId });
    expect(await json(stack.providerKey, ['audit', 'verify', '--tenant', tenantId])).toMatchObject({ ok: true });

    const created = (api.items as { type: string; at: string; data: { keyId?: string } }[]).find((e) => e.type === 'key.created.v1')!;
    const past = await json<{ keys: { keyId: string; state: string; latestVersion: number }[] }>(auditor, [
      'audit',
      'state',
      '--at',
      created.at,
    ]);
    expect(past.keys).toEqual([expect.objectContaining({ keyId, state: 'Active', latestVersion: 1 })]);

    const jsonl = join(work, 'events.jsonl');
    const exported = await json<{ records: number; headSeq: number }>(auditor, ['audit', 'export', '--format', 'jsonl', '--out', jsonl]);
    expect(exported.records).toBe(api.items.length);
    expect(
      readFileSync(jsonl, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual(api.items);
    const csv = join(work, 'events.csv');
    expect(await json(auditor, ['audit', 'export', '--format', 'csv', '--out', csv])).toMatchObject({ records: api.items.length });
    expect(parseCsv(readFileSync(csv, 'utf8'))).toHaveLength(api.items.length + 1);
    const html = join(work, 'report.html');
    expect((await keyward(['audit', 'export', '--format', 'html', '--out', html, '--api-key', auditor])).code).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*cli-key-2[\s\S]*<\/html>\n$/);
    const toStdout = await keyward(['audit', 'export', '--type', 'key.created', '--api-key', auditor]);
    expect(toStdout.stdout.trimEnd().split('\n')).toHaveLength(2);

    const head = (await stack.db.collection<CommitDocument>('commits').find({ tenantId }).sort({ seq: -1 }).limit(1).next())!;
    const saved = join(work, 'checkpoint.json');
    const checkpoints = await eventually(
      () => json<{ items: { seq: number; signatureValid: boolean }[] }>(auditor, ['audit', 'checkpoints', '--verify', '--save', saved]),
      (c) => c.items[0]?.seq === head.seq,
    );
    expect(checkpoints.items.every((c) => c.signatureValid)).toBe(true);
    const pem = join(work, 'checkpoint-key.pem');
    const published = await json<{ current: string; keys: { keyId: string }[] }>('', ['audit', 'public-key', '--out', pem]);
    expect(published.keys.map((k) => k.keyId)).toContain(published.current);
    expect(readFileSync(pem, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);

    await json(admin, ['keys', 'create']); // the history grows past the checkpoint
    const since = await keyward(['audit', 'verify', '--checkpoint', saved, '--public-key', pem, '--api-key', auditor]);
    expect([since.code, since.stderr]).toEqual([0, '']);
    expect(since.stdout).toMatch(/checkpoint signature: valid[\s\S]*OK: the history of .* verifies from the checkpoint at seq \d+/);
    const forged = join(work, 'forged.json');
    writeFileSync(forged, JSON.stringify({ ...(JSON.parse(readFileSync(saved, 'utf8')) as object), hash: 'f'.repeat(64) }));
    const refused = await keyward(['audit', 'verify', '--checkpoint', forged, '--api-key', auditor]);
    expect([refused.code, refused.stderr]).toEqual([1, expect.stringMatching(/does not verify: it is not a checkpoint Keyward signed/)]);

    const encryptKey = (await json<{ key: { keyId: string } }>(admin, ['keys', 'create', '--activate'])).key.keyId;
    await stack.call(user, 'POST', `/v1/keys/${encryptKey}/encrypt`, { plaintext: 'aGk=' });
    const usage = await eventually(
      () => json<{ items: { keyId: string; operation: string }[] }>(auditor, ['audit', 'usage', '--key', encryptKey]),
      (u) => u.items.length === 1,
    );
    expect(usage.items[0]).toMatchObject({ keyId: encryptKey, operation: 'encrypt' });
  });

  it('enroll: keygen, create with --public-key, redeem (wrapped), open with --private-key', async () => {
    const privateKey = join(work, 'app.pem');
    const made = await keyward(['enroll', 'keygen', '--out', privateKey, '--json']);
    expect([made.code, made.stderr]).toEqual([0, '']);
    const { fingerprint } = JSON.parse(made.stdout) as { fingerprint: string };
    const created = await json<{ enrollment: { token: string; publicKeyFingerprint: string } }>(admin, [
      'principals',
      'create',
      '--name',
      'wrapped-app',
      '--role',
      'key-user',
      '--public-key',
      `${privateKey}.pub`,
    ]);
    expect(created.enrollment.publicKeyFingerprint).toBe(fingerprint);
    const redeemed = await keyward(['enroll', 'redeem', '--token', created.enrollment.token, '--json']);
    expect([redeemed.code, redeemed.stderr]).toEqual([0, '']);
    const answer = JSON.parse(redeemed.stdout) as { wrappedApiKey: string; apiKey?: string };
    expect(answer.apiKey).toBeUndefined();
    const opened = await keyward(['enroll', 'open', '--private-key', privateKey, '--wrapped', answer.wrappedApiKey, '--json']);
    const { apiKey } = JSON.parse(opened.stdout) as { apiKey: string };
    expect((await stack.call(apiKey, 'GET', '/v1/keys')).status).toBe(200);
  });

  it('audit verify exits 2 and names the first bad seq when a commit was altered', async () => {
    const victim = await stack.onboard('CLI Victim');
    expect((await stack.call(victim.adminKey, 'POST', '/v1/keys', {})).status).toBe(201);
    const commits = stack.db.collection<CommitDocument>('commits');
    // Once the relay has marked it published: FerretDB updates are read-modify-write, a concurrent one could undo ours.
    await stack.api.waitFor(async () => (await commits.countDocuments({ tenantId: victim.tenantId, published: false })) === 0, 30_000);
    await commits.updateOne({ _id: `${victim.tenantId}:2` }, { $set: { committedAt: '2001-01-01T00:00:00.000Z' } });
    const run = await keyward(['audit', 'verify', '--api-key', victim.adminKey]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/FAILED[\s\S]*first bad seq: +2 \(hash-mismatch\)/);
  });

  it('replay re-runs every event into a scratch database, matches the live views, and prints its rate as JSON', async () => {
    const env = {
      KAFKA_BROKERS: stack.env.KAFKA_BROKERS!,
      MONGODB_URI: stack.env.MONGODB_URI!,
      MONGODB_DB: stack.env.MONGODB_DB!,
      KAFKA_TOPIC_EVENTS: stack.env.KAFKA_TOPIC_EVENTS!,
    };
    // Wait until the relay published everything and the live projector applied it.
    const commits = stack.db.collection<CommitDocument>('commits');
    await stack.api.waitFor(async () => (await commits.countDocuments({ published: false })) === 0, 30_000);
    interface ReplaySummary {
      ok: boolean;
      mode: string;
      commits: number;
      events: number;
      eventsPerSec: number;
      mismatched: string[];
      into: string;
      kept: boolean;
      checksums: Record<string, string>;
      live: Record<string, string>;
    }
    let summary: ReplaySummary | undefined;
    await stack.api.waitFor(
      async () => {
        const run = await keyward(['replay', '--json'], env);
        summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as typeof summary;
        return run.code === 0 && summary!.ok;
      },
      60_000,
      1_000,
    );
    expect(summary!.commits).toBe(await commits.countDocuments({}));
    expect(summary!.events).toBeGreaterThan(summary!.commits);
    expect(summary!.eventsPerSec).toBeGreaterThan(0);
    expect(summary!.mismatched).toEqual([]);
    expect([summary!.kept, summary!.mode]).toEqual([false, 'memory']);
    const databases = await stack.mongo.db('admin').admin().listDatabases();
    expect(databases.databases.map((d) => d.name)).not.toContain(summary!.into);

    // The same checksums as the projector's own rebuild (tenantChecksum), for the replay and for the live views.
    const rebuilt = await stack.rebuildInto(`${stack.env.MONGODB_DB!}_rebuild`);
    await stack.mongo.db(`${stack.env.MONGODB_DB!}_rebuild`).dropDatabase();
    expect(rebuilt.mismatched).toEqual([]);
    expect(summary!.checksums).toEqual(rebuilt.checksums);
    expect(summary!.live).toEqual(rebuilt.live);
    // --incremental: the live projector's guarded writes, batch by batch; same views.
    const incremental = await keyward(['replay', '--incremental', '--json'], env);
    expect([incremental.code, incremental.stderr]).toEqual([0, '']);
    expect(JSON.parse(incremental.stdout)).toMatchObject({ ok: true, mode: 'incremental', checksums: rebuilt.checksums });

    const human = await keyward(['replay', '--into', `${stack.env.MONGODB_DB!}_scratch`, '--keep'], env);
    expect([human.code, human.stdout]).toEqual([0, expect.stringMatching(/Every tenant matches the live views/)]);
    await stack.mongo.db(`${stack.env.MONGODB_DB!}_scratch`).dropDatabase();
    const live = await keyward(['replay', '--into', stack.env.MONGODB_DB!], env);
    expect([live.code, live.stderr]).toEqual([64, expect.stringMatching(/must be a scratch database/)]);
  });

  it('every command and verb has --help; read verbs print text without --json; backup goes to bin/keyward-backup.mjs', async () => {
    const groups: Record<string, string[]> = {
      tenants: ['list', 'get', 'onboard', 'suspend', 'resume', 'offboard', 'current', 'policy'],
      keys: [
        'list',
        'get',
        'create',
        'activate',
        'rotate',
        'deactivate',
        'compromise',
        'schedule-destruction',
        'cancel-destruction',
        'set-alias',
        'update',
        'min-decryption-version',
      ],
      principals: ['list', 'create', 'revoke'],
      approvals: ['list', 'get', 'approve', 'reject'],
      audit: ['events', 'verify', 'state', 'export', 'checkpoints', 'usage', 'public-key'],
      root: ['init', 'unseal', 'status'],
    };
    const helps = [
      ['--help'],
      ['replay', '--help'],
      ...Object.entries(groups).flatMap(([g, verbs]) => [[g, '--help'], ...verbs.map((v) => [g, v, '--help'])]),
    ];
    for (const args of helps) {
      const run = await keyward(args);
      expect({ args, code: run.code, usage: /^Usage: keyward/.test(run.stdout) }).toEqual({ args, code: 0, usage: true });
    }
    for (const args of [
      ['tenants', 'current'],
      ['keys', 'list'],
      ['keys', 'get', keyId],
      ['principals', 'list'],
      ['approvals', 'list'],
      ['audit', 'events', '--limit', '5'],
      ['audit', 'verify'],
      ['audit', 'state', '--at', new Date().toISOString()],
      ['audit', 'checkpoints', '--verify'],
      ['audit', 'usage'],
    ]) {
      const run = await keyward([...args, '--api-key', args[0] === 'tenants' || args[0] === 'approvals' ? admin : auditor]);
      expect({ args, code: run.code, stderr: run.stderr, text: run.stdout.length > 0 && !run.stdout.startsWith('{') }).toEqual({
        args,
        code: 0,
        stderr: '',
        text: true,
      });
    }
    const backupCli = join(repoRoot, 'bin', 'keyward-backup.mjs');
    const forwarded = await keyward(['backup', '--help']);
    if (existsSync(backupCli)) {
      const direct = await new Promise<Run>((resolve) => {
        execFile(process.execPath, [backupCli, '--help'], { cwd: repoRoot }, (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
        );
      });
      expect(forwarded).toEqual(direct);
    } else {
      expect(forwarded.code).toBe(64);
    }
  });
});
