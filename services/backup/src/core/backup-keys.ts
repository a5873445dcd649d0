import { existsSync, readFileSync } from 'node:fs';
import type { KeywardConfig, SecretSource } from '@keyward/config';
import { BackupError, keyCheckValue, loadRootKey, parseBackupKey, PART_LABEL, type BackupPart } from '@keyward/crypto';

/** The two backup keys: each part of a snapshot is encrypted under its own. */
export interface BackupKeys {
  readonly kek: Buffer;
  readonly dek: Buffer;
}

function loadOne(source: SecretSource, part: BackupPart): Buffer {
  const name = `BACKUP_${PART_LABEL[part]}_KEY`;
  switch (source.kind) {
    case 'none':
      throw new BackupError('not-configured', `no ${PART_LABEL[part]} backup key: set ${name}_FILE (or ${name})`);
    case 'env': {
      const key = parseBackupKey(source.base64);
      if (!key) throw new BackupError('not-configured', `${name} is not 32 bytes of base64`);
      return key;
    }
    case 'file': {
      let content: Buffer;
      try {
        content = readFileSync(source.path);
      } catch (err: unknown) {
        throw new BackupError(
          'not-configured',
          `${name}_FILE ${source.path} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        );
      }
      const key = parseBackupKey(content);
      content.fill(0);
      if (!key) throw new BackupError('not-configured', `${name}_FILE ${source.path} does not hold a 32-byte key (raw or base64)`);
      return key;
    }
  }
}

/**
 * Loads both backup keys and refuses reuse: the two must differ (a snapshot under one cannot be
 * opened with the other), and neither may be the root key, when the root key is at hand here.
 */
export function loadBackupKeys(keys: KeywardConfig['backup']['keys'], rootKey: Buffer | null): BackupKeys {
  const kek = loadOne(keys.kek, 'kek');
  const dek = loadOne(keys.dek, 'dek');
  try {
    if (kek.equals(dek)) throw new BackupError('key-reuse', 'the KEK and DEK backup keys are the same key: each part needs its own key');
    if (rootKey !== null) refuseRootKcv({ kek, dek }, keyCheckValue(rootKey));
  } catch (err: unknown) {
    kek.fill(0);
    dek.fill(0);
    throw err;
  }
  return { kek, dek };
}

/** A backup key that is the root key (same check value as the keystore's root) is refused. */
export function refuseRootKcv(keys: BackupKeys, rootKcv: string | null): void {
  if (rootKcv === null) return;
  for (const part of ['kek', 'dek'] as const) {
    if (keyCheckValue(keys[part]) === rootKcv) {
      throw new BackupError('key-reuse', `the ${PART_LABEL[part]} backup key is the root key: a backup key must be a key of its own`);
    }
  }
}

/**
 * The configured root key when it can be read without side effects (never generates one): for
 * comparing with the backup keys, and as the default root key of a restore.
 */
export function configuredRootKey(config: KeywardConfig): Buffer | null {
  const source = config.rootKey;
  if (source.kind === 'none' || (source.kind === 'generate' && !existsSync(source.path))) return null;
  const loaded = loadRootKey(source);
  return loaded.key;
}

export function zeroKeys(keys: BackupKeys): void {
  keys.kek.fill(0);
  keys.dek.fill(0);
}
