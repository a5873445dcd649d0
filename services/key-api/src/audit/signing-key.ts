import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditSetting } from '@keyward/config';
import { signingKeyId } from '@keyward/event-log';

export interface CheckpointSigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  readonly path: string;
  /** True when this start generated it. */
  readonly created: boolean;
  /** Set when the file could be read by others than its owner (it is then tightened to 0600). */
  readonly loosePermissions: boolean;
}

/**
 * The Ed25519 key key-api signs checkpoints with: read from AUDIT_SIGNING_KEY_FILE, or (development
 * and test) generated once into KEYWARD_DATA/audit-signing.key with mode 0600. It stays in this
 * process and that file: only the public key is ever written to MongoDB. `none`: not signing.
 */
export function loadSigningKey(setting: AuditSetting['signingKey']): CheckpointSigningKey | null {
  if (setting.kind === 'none') return null;
  const { path } = setting;
  let pem: Buffer | undefined;
  try {
    pem = readFileSync(path);
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the checkpoint signing key ${path}: ${String(err)}`);
    if (setting.kind === 'file') throw new Error(`AUDIT_SIGNING_KEY_FILE ${path} does not exist`);
  }
  if (pem === undefined) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
      return describe(privateKey, path, true, false);
    } catch (err: unknown) {
      // Another key-api on the same data folder wrote it first: use that one.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      pem = readFileSync(path);
    }
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new Error(`${path} does not hold a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new Error(`${path} holds a ${privateKey.asymmetricKeyType ?? 'unknown'} key; checkpoints are signed with Ed25519`);
  }
  const loose = (statSync(path).mode & 0o077) !== 0;
  if (loose) {
    try {
      chmodSync(path, 0o600);
    } catch {
      // a read-only mount: the warning is all we can do
    }
  }
  return describe(privateKey, path, false, loose);
}

function describe(privateKey: KeyObject, path: string, created: boolean, loosePermissions: boolean): CheckpointSigningKey {
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: signingKeyId(publicKey), path, created, loosePermissions };
}
