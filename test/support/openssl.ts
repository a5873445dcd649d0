import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Verifies a signature with the openssl command line tool (a verifier Keyward did not write): true
 * when it prints "Verified OK". `algorithm` is a Keyward signature algorithm (RSA-PSS-SHA256,
 * RSA-PKCS1-SHA384, ECDSA-SHA256, ED25519, ...); the files are written in `dir`.
 */
export function opensslVerifies(dir: string, pem: string, algorithm: string, message: Buffer, signature: Buffer): boolean {
  writeFileSync(join(dir, 'pub.pem'), pem);
  writeFileSync(join(dir, 'msg.bin'), message);
  writeFileSync(join(dir, 'sig.bin'), signature);
  const hash = /SHA(\d+)$/.exec(algorithm)?.[1];
  const args =
    algorithm === 'ED25519'
      ? ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-rawin', '-in', 'msg.bin', '-sigfile', 'sig.bin']
      : [
          'dgst',
          `-sha${hash}`,
          ...(algorithm.startsWith('RSA-PSS') ? ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest'] : []),
          '-verify',
          'pub.pem',
          '-signature',
          'sig.bin',
          'msg.bin',
        ];
  try {
    return /Verified OK|Signature Verified Successfully/.test(execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' }));
  } catch {
    return false;
  }
}
