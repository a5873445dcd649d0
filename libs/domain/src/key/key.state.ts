import type { Actor } from '../shared/actor';
import type { KeyAttributes } from './key.attributes';
import type { KeyLifecycleState, KeyType, KeyUsage, KmipCipherParameters } from './key.types';
import type { UsageLimits } from './key.usage-limits';

export interface KeyVersionState {
  readonly version: number;
  readonly kcv: string;
  readonly createdAt: string;
  readonly destroyed: boolean;
}

export interface KeyStateChange {
  readonly at: string;
  readonly from: KeyLifecycleState | null;
  readonly to: KeyLifecycleState;
  readonly event: string;
  readonly actor: Actor;
  readonly reason?: string;
}

/** One key, as the events made it. Pure data: the projector stores exactly this. */
export interface KeyState {
  readonly keyId: string;
  readonly keyType: KeyType;
  readonly state: KeyLifecycleState;
  readonly alias: string | null;
  readonly description: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly exportable: boolean;
  /** Present only when the caller imported the material (KMIP Register); absent for generated keys. */
  readonly origin?: 'imported';
  /**
   * Present only for keys created or registered over KMIP: KMIP Encrypt/Decrypt run under the material
   * itself (caller-chosen modes and IVs, as the OASIS known-answer cases need) and REST's data plane
   * refuses the key, so no REST ciphertext ever exists under material a caller can drive with chosen IVs.
   */
  readonly kmipOnly?: true;
  /** KMIP keys only: the Cryptographic Parameters given at creation. */
  readonly cipherParameters?: KmipCipherParameters;
  /** KMIP keys only: usages beyond the type's its client asked for (KEY_REUSE), used only while the tenant policy allows key reuse. */
  readonly extraUsages?: readonly KeyUsage[];
  /** KMIP keys only: the Usage Limits given at creation (the count is kept outside the log: usage-limits.ts). */
  readonly usageLimits?: UsageLimits;
  /**
   * Present only for a public key registered alone (KMIP Register of a Public Key): the version's
   * material is the public key (SPKI DER), so the key verifies signatures (RSA: also encrypts with
   * OAEP) and never signs or decrypts; it is not in the tenant's JWKS (it is not the tenant's key to
   * sign with), and like any imported key it does not rotate.
   */
  readonly publicOnly?: true;
  /** Material retrieval switched on (dual-controlled), for exportable keys only. */
  readonly exportEnabled: boolean;
  readonly versions: readonly KeyVersionState[];
  readonly latestVersion: number;
  readonly minDecryptionVersion: number;
  readonly activationDate: string | null;
  readonly deactivationDate: string | null;
  readonly compromiseDate: string | null;
  readonly compromiseReason: string | null;
  readonly destroyAfter: string | null;
  /** Present while a pending destruction (KMIP Destroy) stops every use of the key. */
  readonly useSuspended?: true;
  /** The ownership-bound principal (kmip-client) that owns the key; absent: none (key.ownership.ts). */
  readonly owner?: string;
  /** Client attributes, by name, each a list of values (absent: none). */
  readonly attributes?: KeyAttributes;
  readonly destroyedAt: string | null;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly updatedAt: string;
  readonly history: readonly KeyStateChange[];
}
