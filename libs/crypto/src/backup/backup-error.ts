/**
 * Why a backup, verification or restore was refused. `code` is stable (scripts and tests match on
 * it); the message says precisely what is wrong and where, and never holds key material.
 */
export type BackupErrorCode =
  /** A snapshot part (its manifest or its data object) is not at its destination. */
  | 'missing-part'
  /** The KEK and DEK parts are not the two halves of one snapshot. */
  | 'mismatched-pair'
  /** A backup key is not the one the part was encrypted under. */
  | 'wrong-key'
  /** The KEK backup key was given for the DEK part and the other way round. */
  | 'swapped-keys'
  /** The two backup keys are one key, or a backup key is the root key. */
  | 'key-reuse'
  /** A part or a manifest was altered: authentication failed. */
  | 'tampered'
  /** A part ends before its final chunk. */
  | 'truncated'
  /** A KEK part where a DEK part was expected, or a part of another snapshot. */
  | 'wrong-part'
  /** Content decrypted but does not match what the signed manifest recorded. */
  | 'digest-mismatch'
  /** A manifest that cannot be read at all. */
  | 'invalid-manifest'
  /** Not a Keyward backup file, or a format this version does not read. */
  | 'unsupported-format'
  /** The root key given is not the one the snapshot's KEKs are wrapped with. */
  | 'root-key-mismatch'
  /** Restore only goes into an empty keystore. */
  | 'not-empty'
  /** The event log is not the one the snapshot was taken against. */
  | 'log-mismatch'
  /** Backups are not configured, or a setting is missing for this command. */
  | 'not-configured';

export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackupError';
  }
}
