import { CodedError } from '@keyward/domain';

/**
 * Why a root key share was refused. `format`, `checksum` and `version` concern the text a custodian
 * typed; the others concern how the share fits the shares submitted with it.
 */
export type ShareErrorCode =
  /** Not the shape of a Keyward share (prefix, fields, lengths, values). */
  | 'format'
  /** The checksum does not match: a character was mistyped, added or left out. */
  | 'checksum'
  /** A share format this version of Keyward does not read. */
  | 'version'
  /** A share of another split (another root key, set or threshold) than the ones submitted with it. */
  | 'set-mismatch'
  /** Two different shares claim the same place in the set (one of them was altered). */
  | 'conflict'
  /** Fewer shares than the threshold. */
  | 'insufficient'
  /** The shares combine to a key whose check value is not the one they carry: one was altered. */
  | 'inconsistent';

/** A share was refused; the message says precisely why and never contains share material. */
export class ShareError extends CodedError<ShareErrorCode> {}
