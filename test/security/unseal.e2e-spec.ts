import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combineRootKeyShares, decodeShare, encodeShare, splitRootKey } from '@keyward/crypto';
import { KeywardStack } from '../support/keyward-stack';
import type { HttpAnswer, ServiceProcess } from '../support/service-process';

jest.setTimeout(240_000);

const repoRoot = join(__dirname, '..', '..');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const problemType = (answer: HttpAnswer): string => answer.json<{ type: string }>().type.replace('urn:keyward:problem:', '');
const problemDetail = (answer: HttpAnswer): string => answer.json<{ detail: string }>().detail;

interface Progress {
  submitted: number;
  threshold: number;
  shares: number;
  rootKcv: string;
  setId: string;
  startedAt: string;
  expiresAt: string;
}
interface Status {
  sealed: boolean;
  reason?: string;
  rootKcv?: string;
  progress?: Progress;
  duplicate?: boolean;
}
interface InitSummary {
  rootKcv: string;
  setId: string;
  threshold: number;
  shares: number;
  shareTexts: string[];
}

/** Runs bin/keyward.mjs (built dist/ behind it) and returns its exit code and output. */
function keyward(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(repoRoot, 'bin', 'keyward.mjs'), ...args],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, KEYWARD_URL: '', KEYWARD_API_KEY: '', KEYWARD_CA: '' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** The secret part of a share text (its base64url data, just before the checksum). */
const dataOf = (share: string): string => share.slice(-9 - 44, -9);

/** One character of a share changed, as a custodian might mistype it. */
function mistyped(share: string): string {
  const at = 60;
  return share.slice(0, at) + (share[at] === 'A' ? 'B' : 'A') + share.slice(at + 1);
}

/** A share whose data was altered and re-encoded with a valid checksum: a forgery, not a typo. */
function forged(share: string): string {
  const decoded = decodeShare(share);
  decoded.data[4] = (decoded.data[4] ?? 0) ^ 0x20;
  return encodeShare(decoded);
}

describe('unsealing the root key with Shamir shares (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let set: InitSummary;
  let user: string;
  let keyId: string;
  let ciphertext: string;

  const submit = (api: ServiceProcess, share: string, as = stack.providerKey): Promise<HttpAnswer> =>
    stack.callOn(api, as, 'POST', '/v1/sys/unseal/shares', { share });
  const submitted = async (api: ServiceProcess, share: string): Promise<Status> => {
    const answer = await submit(api, share);
    expect([answer.status, answer.body]).toEqual([200, expect.any(String)]);
    return answer.json<Status>();
  };
  const sealStatus = async (api: ServiceProcess): Promise<Status> => (await api.get('/v1/sys/seal-status')).json<Status>();
  const cliTarget = (api: ServiceProcess): string[] => ['--url', api.baseUrl, '--ca', join(stack.dataDir, 'tls', 'ca.crt')];
  const decrypt = (api: ServiceProcess): Promise<HttpAnswer> => stack.callOn(api, user, 'POST', '/v1/decrypt', { ciphertext });

  beforeAll(async () => {
    const init = await keyward(['root', 'init', '--shares', '5', '--threshold', '3', '--json']);
    expect([init.code, init.stderr]).toEqual([0, '']);
    set = JSON.parse(init.stdout) as InitSummary;
    // Production-like: no root key anywhere, neither configured nor generated. Only the shares exist.
    stack.env.ROOT_KEY_GENERATE = 'off';
    await stack.start();
  });
  afterAll(() => stack.stop());

  it('keyward root init gives N shares of a new root key, any M of which rebuild it; the key is written nowhere', async () => {
    expect(set).toMatchObject({ threshold: 3, shares: 5, rootKcv: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown });
    const decoded = set.shareTexts.map(decodeShare);
    expect(decoded.map((s) => [s.index, s.threshold, s.total, s.kcv, s.setId])).toEqual(
      [1, 2, 3, 4, 5].map((i) => [i, 3, 5, set.rootKcv, set.setId]),
    );
    const key = await combineRootKeyShares([decoded[4]!, decoded[0]!, decoded[2]!]);
    expect(key).toHaveLength(32);
    key.fill(0);
    expect(existsSync(join(stack.dataDir, 'root.key'))).toBe(false);

    const outDir = join(mkdtempSync(join(tmpdir(), 'kw-shares-')), 'custodians');
    const toFiles = await keyward(['root', 'init', '--shares', '3', '--threshold', '2', '--out-dir', outDir]);
    expect(toFiles.code).toBe(0);
    expect(toFiles.stdout).not.toMatch(/kwshare-/); // written to the files, not printed
    expect(readdirSync(outDir).sort()).toEqual(['share-1-of-3.txt', 'share-2-of-3.txt', 'share-3-of-3.txt']);
    for (const file of readdirSync(outDir)) {
      expect(statSync(join(outDir, file)).mode & 0o777).toBe(0o600);
      expect(decodeShare(readFileSync(join(outDir, file), 'utf8')).threshold).toBe(2);
    }
    const again = await keyward(['root', 'init', '--shares', '3', '--threshold', '2', '--out-dir', outDir]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/already exist/)]);

    const usage = await keyward(['root', 'init', '--shares', '2', '--threshold', '3']);
    expect([usage.code, usage.stderr]).toEqual([
      64,
      expect.stringMatching(/threshold \(3\) cannot be larger than the number of shares \(2\)/),
    ]);
    for (const help of [
      ['--help'],
      ['root', '--help'],
      ['root', 'init', '--help'],
      ['root', 'unseal', '--help'],
      ['root', 'status', '--help'],
    ]) {
      const answer = await keyward(help);
      expect([answer.code, answer.stdout]).toEqual([0, expect.stringMatching(/^Usage: keyward/)]);
    }
  });

  it('a new deployment starts sealed; M−1 shares leave it sealed; the M-th, submitted with the CLI, unseals it', async () => {
    const api = stack.api;
    expect(await sealStatus(api)).toEqual({ sealed: true, reason: expect.stringMatching(/no root key/) as unknown });
    expect((await api.get('/health/ready')).status).toBe(503);

    const first = await submitted(api, set.shareTexts[0]!);
    expect(first).toMatchObject({
      sealed: true,
      duplicate: false,
      progress: { submitted: 1, threshold: 3, shares: 5, rootKcv: set.rootKcv },
    });
    expect(Date.parse(first.progress!.expiresAt) - Date.parse(first.progress!.startedAt)).toBe(10 * 60_000);
    // The same share again counts once.
    expect(await submitted(api, set.shareTexts[0]!)).toMatchObject({ sealed: true, duplicate: true, progress: { submitted: 1 } });
    expect(await submitted(api, `  ${set.shareTexts[3]!}\n`)).toMatchObject({ sealed: true, progress: { submitted: 2, threshold: 3 } });

    // M−1 = 2 shares: progress is visible (publicly), and the service is still sealed.
    expect(await sealStatus(api)).toMatchObject({ sealed: true, progress: { submitted: 2, threshold: 3, setId: set.setId } });
    const onboarding = await stack.call(stack.providerKey, 'POST', '/v1/tenants', { name: 'While Sealed' });
    expect([onboarding.status, problemType(onboarding)]).toEqual([503, 'sealed']);
    expect((await api.get('/health/ready')).status).toBe(503);
    const status = await keyward(['root', 'status', ...cliTarget(api)]);
    expect([status.code, status.stdout]).toEqual([0, expect.stringMatching(/Sealed[\s\S]*2 of 3 shares[\s\S]*1 more needed/)]);

    // The M-th share, through `keyward root unseal` (read from standard input: kept out of the process list).
    const cli = await keyward(['root', 'unseal', ...cliTarget(api), '--api-key', stack.providerKey], `${set.shareTexts[1]!}\n`);
    expect([cli.code, cli.stderr]).toEqual([0, '']);
    expect(cli.stdout).toMatch(new RegExp(`Share 2 accepted: threshold reached. Unsealed \\(root key ${set.rootKcv}`));

    expect(await sealStatus(api)).toEqual({ sealed: false, rootKcv: set.rootKcv });
    expect((await api.get('/health/ready')).status).toBe(200);
    // The first unseal recorded the root key's check value in the keystore; nothing else of it is stored.
    const root = await stack.db.collection<{ _id: string; kcv: string }>('keystore').findOne({ _id: 'root' });
    expect(root?.kcv).toBe(set.rootKcv);
    expect(JSON.stringify(await stack.db.collection('keystore').find().toArray())).not.toContain(dataOf(set.shareTexts[0]!));

    // Keys work.
    const tenant = await stack.onboard('Unsealed Corp');
    user = await stack.principal(tenant.adminKey, 'key-user');
    const created = await stack.call(tenant.adminKey, 'POST', '/v1/keys', { activate: true });
    expect(created.status).toBe(201);
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    const encrypted = await stack.call(user, 'POST', `/v1/keys/${keyId}/encrypt`, { plaintext: b64('sealed away') });
    expect(encrypted.status).toBe(200);
    ciphertext = encrypted.json<{ ciphertext: string }>().ciphertext;

    const late = await submit(api, set.shareTexts[2]!);
    expect([late.status, problemType(late)]).toEqual([409, 'already-unsealed']);
  });

  it('a restarted instance: M−1 shares do not unseal it, wrong shares are refused precisely, M shares do', async () => {
    const sealed = await stack.startApi();
    try {
      expect(await sealStatus(sealed)).toMatchObject({ sealed: true });
      const refused = await decrypt(sealed);
      expect([refused.status, problemType(refused)]).toEqual([503, 'sealed']);

      // M−1 shares (another pair than before).
      await submitted(sealed, set.shareTexts[4]!);
      expect(await submitted(sealed, set.shareTexts[2]!)).toMatchObject({ sealed: true, progress: { submitted: 2, threshold: 3 } });
      const stillSealed = await decrypt(sealed);
      expect([stillSealed.status, problemType(stillSealed)]).toEqual([503, 'sealed']);
      expect((await sealed.get('/health/ready')).status).toBe(503);

      // A mistyped share: refused by the key-api, and by the CLI before sending.
      const typo = await submit(sealed, mistyped(set.shareTexts[0]!));
      expect([typo.status, problemType(typo), problemDetail(typo)]).toEqual([
        400,
        'invalid-share',
        expect.stringMatching(/checksum does not match/),
      ]);
      const cliTypo = await keyward([
        'root',
        'unseal',
        ...cliTarget(sealed),
        '--api-key',
        stack.providerKey,
        '--share',
        mistyped(set.shareTexts[0]!),
      ]);
      expect([cliTypo.code, cliTypo.stderr]).toEqual([1, expect.stringMatching(/this share is refused: .*checksum does not match/)]);
      const notAShare = await submit(sealed, randomBytes(32).toString('base64'));
      expect([notAShare.status, problemDetail(notAShare)]).toEqual([400, expect.stringMatching(/not a Keyward root key share/)]);

      // A share of another root key: refused at once against the keystore's check value.
      const otherKey = (await splitRootKey(randomBytes(32), { shares: 5, threshold: 3 })).shares[0]!;
      const wrongKey = await submit(sealed, otherKey);
      expect([wrongKey.status, problemType(wrongKey)]).toEqual([422, 'root-key-mismatch']);
      expect(problemDetail(wrongKey)).toBe(
        `this share is of root key ${decodeShare(otherKey).kcv}, but the keystore was built with root key ${set.rootKcv}`,
      );

      // A share of another split of the same root key (say, an older set): refused, it would never combine.
      const key = await combineRootKeyShares(set.shareTexts.slice(0, 3).map(decodeShare));
      const resplit = await splitRootKey(key, { shares: 5, threshold: 3 });
      key.fill(0);
      const otherSet = await submit(sealed, resplit.shares[0]!);
      expect([otherSet.status, problemType(otherSet)]).toEqual([422, 'share-set-mismatch']);
      expect(problemDetail(otherSet)).toMatch(/another split of the same root key/);

      // Only a provider-admin may submit.
      expect((await submit(sealed, set.shareTexts[0]!, user)).status).toBe(403);
      expect((await sealed.request('POST', '/v1/sys/unseal/shares', { body: { share: set.shareTexts[0]! } })).status).toBe(401);

      // None of that counted.
      expect((await sealStatus(sealed)).progress).toMatchObject({ submitted: 2, threshold: 3 });

      // A reset discards the held shares.
      const reset = await keyward(['root', 'unseal', ...cliTarget(sealed), '--api-key', stack.providerKey, '--reset']);
      expect([reset.code, reset.stdout]).toEqual([0, expect.stringMatching(/Shares discarded[\s\S]*No share submitted yet/)]);
      expect(await sealStatus(sealed)).not.toHaveProperty('progress');

      // A forged share (valid checksum, altered data) completing the threshold unseals nothing, and the shares are discarded.
      await submitted(sealed, set.shareTexts[4]!);
      await submitted(sealed, set.shareTexts[2]!);
      const bad = await submit(sealed, forged(set.shareTexts[0]!));
      expect([bad.status, problemType(bad)]).toEqual([422, 'shares-inconsistent']);
      expect(await sealStatus(sealed)).toEqual({ sealed: true, reason: expect.any(String) as unknown });
      expect((await decrypt(sealed)).status).toBe(503);

      // M genuine shares unseal it; the data encrypted before decrypts.
      await submitted(sealed, set.shareTexts[4]!);
      await submitted(sealed, set.shareTexts[2]!);
      const done = await submitted(sealed, set.shareTexts[0]!);
      expect(done).toMatchObject({ sealed: false, rootKcv: set.rootKcv, progress: { submitted: 3, threshold: 3 } });
      const answer = await decrypt(sealed);
      expect(answer.status).toBe(200);
      expect(Buffer.from(answer.json<{ plaintext: string }>().plaintext, 'base64').toString('utf8')).toBe('sealed away');
      expect((await sealed.get('/health/ready')).status).toBe(200);
      // Shares never reach a log line.
      for (const share of set.shareTexts) expect(sealed.log).not.toContain(dataOf(share));
    } finally {
      await sealed.stop();
    }
  });

  it('the root key can still be given whole (POST /v1/sys/unseal), even with shares already submitted', async () => {
    const sealed = await stack.startApi();
    try {
      await submitted(sealed, set.shareTexts[1]!);
      const key = await combineRootKeyShares(set.shareTexts.slice(1, 4).map(decodeShare));
      const answer = await stack.callOn(sealed, stack.providerKey, 'POST', '/v1/sys/unseal', { rootKey: key.toString('base64') });
      key.fill(0);
      expect([answer.status, answer.json()]).toEqual([200, { sealed: false, rootKcv: set.rootKcv }]);
      expect((await decrypt(sealed)).status).toBe(200);
    } finally {
      await sealed.stop();
    }
  });
});
