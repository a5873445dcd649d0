import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from '../commit/canonical-json';

/** The head of a tenant's chain at an instant: what a checkpoint vouches for. */
export interface CheckpointClaim {
  readonly tenantId: string;
  readonly seq: number;
  readonly hash: string;
  /** When the head was signed (ISO-8601 UTC). */
  readonly at: string;
}

export interface SignedCheckpoint extends CheckpointClaim {
  readonly alg: 'Ed25519';
  /** Identifies the signing key: the first 16 hex digits of SHA-256 over its public key (SPKI DER). */
  readonly keyId: string;
  /** Ed25519 signature over `checkpointPayload(claim)`, base64url. */
  readonly signature: string;
}

export const CHECKPOINT_PAYLOAD_VERSION = 1;

/**
 * The exact bytes a checkpoint signature covers: the canonical JSON (keys sorted, no whitespace)
 * of `{at, hash, seq, tenantId, v: 1}`, UTF-8. Anyone can rebuild it from a checkpoint.
 */
export function checkpointPayload(claim: CheckpointClaim): string {
  return canonicalJson({ v: CHECKPOINT_PAYLOAD_VERSION, tenantId: claim.tenantId, seq: claim.seq, hash: claim.hash, at: claim.at });
}

export function signingKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function signCheckpoint(claim: CheckpointClaim, privateKey: KeyObject): SignedCheckpoint {
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('checkpoints are signed with an Ed25519 key');
  const signature = sign(null, Buffer.from(checkpointPayload(claim), 'utf8'), privateKey).toString('base64url');
  const { tenantId, seq, hash, at } = claim;
  return { tenantId, seq, hash, at, alg: 'Ed25519', keyId: signingKeyId(createPublicKey(privateKey)), signature };
}

/** True when the signature is the given public key's (PEM, or a KeyObject) over this claim. */
export function verifyCheckpoint(checkpoint: CheckpointClaim & { readonly signature: string }, publicKey: KeyObject | string): boolean {
  try {
    const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, Buffer.from(checkpointPayload(checkpoint), 'utf8'), key, Buffer.from(checkpoint.signature, 'base64url'));
  } catch {
    return false;
  }
}
