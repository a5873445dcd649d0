import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(300_000);

const repoRoot = join(__dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The frames of a keyward encrypt file: header bytes, then each frame (prefix, ciphertext, tag). */
function frames(file: Buffer): { header: Buffer; frames: Buffer[] } {
  const fixed = 72;
  const headerLength = fixed + 2 + file.readUInt16BE(fixed);
  const out: Buffer[] = [];
  for (let at = headerLength; at < file.length;) {
    const length = 5 + file.readUInt32BE(at + 1);
    out.push(file.subarray(at, at + length));
    at += length;
  }
  return { header: file.subarray(0, headerLength), frames: out };
}

describe('keyward encrypt | decrypt | data-key | rewrap | mac | verify-mac against a running key-api', () => {
  const stack = new KeywardStack();
  const work = mkdtempSync(join(tmpdir(), 'kw-cli-data-'));
  let user: string;
  let admin: string;
  let strangerUser: string;
  const path = (name: string): string => join(work, name);

  /** Runs bin/keyward.mjs; `stdin`/`stdout` name files that become its standard input/output (binary). */
  const keyward = (args: readonly string[], io: { stdin?: string; stdout?: string; apiKey?: string } = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const input = io.stdin === undefined ? 'ignore' : openSync(io.stdin, 'r');
      const output = io.stdout === undefined ? 'pipe' : openSync(io.stdout, 'w');
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'keyward.mjs'), ...args], {
        cwd: repoRoot,
        stdio: [input, output, 'pipe'],
        env: {
          ...process.env,
          KEYWARD_URL: stack.api.baseUrl,
          KEYWARD_CA: join(stack.dataDir, 'tls', 'ca.crt'),
          KEYWARD_API_KEY: io.apiKey ?? user,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('exit', (code) => {
        if (typeof input === 'number') closeSync(input);
        if (typeof output === 'number') closeSync(output);
        resolve({ code, stdout, stderr });
      });
    });
  const ok = async (args: readonly string[], io: Parameters<typeof keyward>[1] = {}): Promise<Run> => {
    const run = await keyward(args, io);
    expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
    return run;
  };

  beforeAll(async () => {
    await stack.start();
    ({ adminKey: admin } = await stack.onboard('CLI Data Corp'));
    user = await stack.principal(admin, 'key-user');
    for (const body of [
      { alias: 'files', activate: true },
      { alias: 'sums', activate: true, keyType: 'HMAC-SHA256' },
    ]) {
      expect((await stack.call(admin, 'POST', '/v1/keys', body)).status).toBe(201);
    }
    const stranger = await stack.onboard('Other Corp');
    strangerUser = await stack.principal(stranger.adminKey, 'key-user');
  });
  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    await stack.stop();
  });

  it.each([
    ['empty', 0],
    ['every byte value', 256],
    ['one frame exactly', 64 * 1024],
    ['several frames and a partial one', 3 * 64 * 1024 + 7],
  ])('round-trips a %s file through standard input and output (%i bytes)', async (_name, size) => {
    const plain = size === 256 ? Buffer.from(Array.from({ length: 256 }, (_, i) => i)) : randomBytes(size);
    writeFileSync(path('in.bin'), plain);
    await ok(['encrypt', '--key', 'alias/files'], { stdin: path('in.bin'), stdout: path('in.kwe') });
    const sealed = readFileSync(path('in.kwe'));
    expect(sealed.subarray(0, 3).toString()).toBe('KWE');
    expect(frames(sealed).frames).toHaveLength(Math.max(1, Math.ceil(size / (64 * 1024))));
    await ok(['decrypt'], { stdin: path('in.kwe'), stdout: path('out.bin') });
    expect(readFileSync(path('out.bin')).equals(plain)).toBe(true);
  });

  it('--in/--out and --aad: a 1 MiB file round-trips; without the same --aad it is refused and --out is not written', async () => {
    const plain = randomBytes(1024 * 1024 + 5);
    writeFileSync(path('mib.bin'), plain);
    await ok(['encrypt', '--key', 'alias/files', '--aad', 'invoice-7', '--in', path('mib.bin'), '--out', path('mib.kwe')]);
    await ok(['decrypt', '--aad', 'invoice-7', '--in', path('mib.kwe'), '--out', path('mib.out')]);
    expect(readFileSync(path('mib.out')).equals(plain)).toBe(true);
    const wrongAad = await keyward(['decrypt', '--aad', 'invoice-8', '--in', path('mib.kwe'), '--out', path('mib.wrong')]);
    expect(wrongAad.code).toBe(1);
    expect(wrongAad.stderr).toMatch(/^keyward decrypt: refused \(422 authentication-failed\)/);
    expect(existsSync(path('mib.wrong'))).toBe(false);
  });

  describe('altered files are refused (exit 1), and --out is never written', () => {
    let sealed: Buffer;
    let parts: { header: Buffer; frames: Buffer[] };
    beforeAll(async () => {
      writeFileSync(path('four.bin'), randomBytes(3 * 64 * 1024 + 100));
      await ok(['encrypt', '--key', 'alias/files', '--in', path('four.bin'), '--out', path('four.kwe')]);
      sealed = readFileSync(path('four.kwe'));
      parts = frames(sealed);
      expect(parts.frames).toHaveLength(4);
    });
    const flipped = (at: number): Buffer => {
      const copy = Buffer.from(sealed);
      copy[at] = (copy[at] ?? 0) ^ 0x40;
      return copy;
    };
    const frame = (i: number) => (): Buffer => parts.frames[i]!;
    const [f0, f1, f2, f3] = [frame(0), frame(1), frame(2), frame(3)];

    it.each<[string, () => Buffer, RegExp]>([
      ['a byte of a frame changed', () => flipped(parts.header.length + 64 * 1024), /refused \(tampered\): frame 0 failed authentication/],
      ['two frames swapped', () => Buffer.concat([parts.header, f0(), f2(), f1(), f3()]), /refused \(tampered\): frame 1 failed/],
      ['the last frame cut off', () => Buffer.concat([parts.header, f0(), f1(), f2()]), /refused \(truncated\).*without its final frame/],
      ['cut in the middle of a frame', () => sealed.subarray(0, sealed.length - 1000), /refused \(truncated\)/],
      ['a frame dropped', () => Buffer.concat([parts.header, f0(), f2(), f3()]), /refused \(tampered\)/],
      ['the message id changed', () => flipped(20), /refused \(wrong-data-key\)/],
      ['not an encrypted file', () => Buffer.from('just some text\n'), /refused \(not-envelope\)/],
    ])('%s', async (_name, altered, message) => {
      writeFileSync(path('bad.kwe'), altered());
      const run = await keyward(['decrypt', '--in', path('bad.kwe'), '--out', path('bad.out')]);
      expect(run.stderr).toMatch(message);
      expect(run.code).toBe(1);
      expect(existsSync(path('bad.out'))).toBe(false);
    });

    it("another tenant's key-user cannot decrypt it (its key answers 404)", async () => {
      const run = await keyward(['decrypt', '--in', path('four.kwe'), '--out', path('stranger.out')], { apiKey: strangerUser });
      expect(run.stderr).toMatch(/refused \(404 not-found\)/);
      expect(run.code).toBe(1);
      expect(existsSync(path('stranger.out'))).toBe(false);
    });

    it('an administrator cannot use the key (403), and a missing key is named', async () => {
      const asAdmin = await keyward(['encrypt', '--key', 'alias/files', '--in', path('four.bin')], { apiKey: admin });
      expect(asAdmin.stderr).toMatch(/^keyward encrypt: refused \(403 forbidden-role\)/);
      expect(asAdmin.code).toBe(1);
      const noKey = await keyward(['encrypt', '--in', path('four.bin')]);
      expect(noKey.stderr).toMatch(/^keyward encrypt: --key is required/);
      expect(noKey.code).toBe(64);
    });
  });

  it('rewrap: after a rotation the file names version 2, its frames are unchanged, and it still decrypts', async () => {
    const plain = randomBytes(200_000);
    writeFileSync(path('r.bin'), plain);
    await ok(['encrypt', '--key', 'alias/files', '--in', path('r.bin'), '--out', path('r.kwe')]);
    expect((await stack.call(admin, 'POST', '/v1/keys/alias%2Ffiles/rotate', {})).status).toBe(200);
    await ok(['rewrap', '--in', path('r.kwe'), '--out', path('r2.kwe')]);
    const before = frames(readFileSync(path('r.kwe')));
    const after = frames(readFileSync(path('r2.kwe')));
    expect(after.frames).toEqual(before.frames);
    expect(after.header.equals(before.header)).toBe(false);
    // The wrapped data key is a Keyward ciphertext: its version (uint32 after the key id) is now 2.
    const wrapped = after.header.subarray(74);
    expect(wrapped.readUInt32BE(5 + wrapped.readUInt8(4))).toBe(2);
    await ok(['decrypt', '--in', path('r2.kwe'), '--out', path('r2.out')]);
    expect(readFileSync(path('r2.out')).equals(plain)).toBe(true);

    // A single Keyward ciphertext, base64 as the API answers it, is rewrapped in the same form.
    const encrypted = await stack.call(user, 'POST', '/v1/keys/alias%2Ffiles/encrypt', { plaintext: 'aGVsbG8=' });
    writeFileSync(path('ct.b64'), `${encrypted.json<{ ciphertext: string }>().ciphertext}\n`);
    const rewrapped = await ok(['rewrap', '--in', path('ct.b64')]);
    const decrypted = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext: rewrapped.stdout.trim() });
    expect(decrypted.json()).toMatchObject({ plaintext: 'aGVsbG8=', version: 2 });
  });

  it('data-key prints a data key and its ciphertext (base64); --without-plaintext only the ciphertext', async () => {
    const made = JSON.parse((await ok(['data-key', '--key', 'alias/files', '--bytes', '16', '--json'])).stdout) as Record<string, string>;
    expect(Buffer.from(made.plaintext!, 'base64')).toHaveLength(16);
    const decrypted = await stack.call(user, 'POST', '/v1/decrypt', { ciphertext: made.ciphertext });
    expect(decrypted.json<{ plaintext: string }>().plaintext).toBe(made.plaintext);
    const only = JSON.parse((await ok(['data-key', '--key', 'alias/files', '--without-plaintext', '--json'])).stdout) as object;
    expect(Object.keys(only).sort()).toEqual(['ciphertext', 'keyId', 'version']);
    expect(await keyward(['data-key', '--key', 'alias/files', '--bytes', '20'])).toMatchObject({ code: 64 });
  });

  it('mac and verify-mac: valid (0), altered data invalid (2); over 64 KiB needs --digest', async () => {
    writeFileSync(path('doc.txt'), 'pay 100 to alice\n');
    await ok(['mac', '--key', 'alias/sums', '--in', path('doc.txt'), '--out', path('doc.mac')]);
    expect(readFileSync(path('doc.mac')).subarray(0, 2).toString()).toBe('kw');
    expect((await ok(['verify-mac', '--key', 'alias/sums', '--mac', path('doc.mac')], { stdin: path('doc.txt') })).stdout).toBe('valid\n');
    writeFileSync(path('doc2.txt'), 'pay 900 to alice\n');
    expect(await keyward(['verify-mac', '--key', 'alias/sums', '--mac', path('doc.mac'), '--in', path('doc2.txt')])).toEqual({
      code: 2,
      stdout: 'invalid\n',
      stderr: '',
    });
    writeFileSync(path('big.bin'), randomBytes(200_000));
    const tooBig = await keyward(['mac', '--key', 'alias/sums', '--in', path('big.bin')]);
    expect(tooBig.stderr).toMatch(/larger than 64 KiB.*--digest/);
    expect(tooBig.code).toBe(1);
    const b64 = await ok(['mac', '--key', 'alias/sums', '--digest', '--base64', '--in', path('big.bin')]);
    writeFileSync(path('big.mac'), b64.stdout);
    expect((await ok(['verify-mac', '--key', 'alias/sums', '--digest', '--mac', path('big.mac'), '--in', path('big.bin')])).stdout).toBe(
      'valid\n',
    );
  });
});
