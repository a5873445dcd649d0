import type { KeyAttributes } from './key.attributes';
import type { KeyOrigin, KeyType, KeyUsage, KmipCipherParameters } from './key.types';
import type { UsageLimits } from './key.usage-limits';

export interface CreateKey {
  readonly kind: 'key.create';
  readonly keyId: string;
  readonly keyType: KeyType;
  readonly alias?: string;
  readonly description?: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Activate at once (ignored when an activation date is given). */
  readonly activate?: boolean;
  readonly activationDate?: Date;
  readonly deactivationDate?: Date;
  readonly exportable?: boolean;
  /** Check value of the version-1 material (generated or imported outside the domain). */
  readonly kcv: string;
  /** `imported`: the caller supplied the material (KMIP Register); default `generated`. */
  readonly origin?: KeyOrigin;
  /** Length in bytes of imported material (required when imported; the domain checks it fits the key type). */
  readonly materialBytes?: number;
  /** Client attributes stored with the key and answered back (KMIP attributes Keyward has no field for). */
  readonly attributes?: KeyAttributes;
  /** Created over KMIP: KMIP uses the material as is, REST's data plane refuses the key (see KeyState.kmipOnly). */
  readonly kmipOnly?: boolean;
  /** KMIP keys only: the key's Cryptographic Parameters. */
  readonly cipherParameters?: KmipCipherParameters;
  /** KMIP keys only: usages beyond the type's that the client asked for (KEY_REUSE; used only under the tenant's allowKeyReuse). */
  readonly extraUsages?: readonly KeyUsage[];
  /** KMIP keys only: the most bytes or objects the key may protect (key.usage-limits.ts). */
  readonly usageLimits?: UsageLimits;
  /**
   * A public key registered without its private key (KMIP Register of a Public Key; asymmetric types,
   * imported material only): the material is the public key (SPKI DER) and the key verifies (RSA:
   * also encrypts) but never signs or decrypts (KeyState.publicOnly).
   */
  readonly publicOnly?: boolean;
}
export interface ActivateKey {
  readonly kind: 'key.activate';
  readonly keyId: string;
  readonly reason?: 'requested' | 'activation-date';
}
export interface DeactivateKey {
  readonly kind: 'key.deactivate';
  readonly keyId: string;
  readonly reason?: 'requested' | 'deactivation-date';
}
export interface CompromiseKey {
  readonly kind: 'key.compromise';
  readonly keyId: string;
  readonly reason: string;
  readonly compromiseDate?: Date;
}
export interface RotateKey {
  readonly kind: 'key.rotate';
  readonly keyId: string;
  readonly kcv: string;
}
export interface ScheduleKeyDestruction {
  readonly kind: 'key.schedule-destruction';
  readonly keyId: string;
  readonly waitingPeriodDays?: number;
}
export interface CancelKeyDestruction {
  readonly kind: 'key.cancel-destruction';
  readonly keyId: string;
}
export interface DestroyKey {
  readonly kind: 'key.destroy';
  readonly keyId: string;
}
export interface SetKeyAlias {
  readonly kind: 'key.set-alias';
  readonly keyId: string;
  readonly alias: string;
}
export interface ChangeKeyLabels {
  readonly kind: 'key.change-labels';
  readonly keyId: string;
  readonly set?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
}
export interface SetKeyDescription {
  readonly kind: 'key.set-description';
  readonly keyId: string;
  readonly description: string;
}
export interface SetMinDecryptionVersion {
  readonly kind: 'key.set-min-decryption-version';
  readonly keyId: string;
  readonly version: number;
}

/** Assign the key to an ownership-bound principal (a kmip-client), or take it back (null). */
export interface AssignKeyOwner {
  readonly kind: 'key.assign-owner';
  readonly keyId: string;
  readonly owner: string | null;
}
/**
 * Destruction as a KMIP client asks for it: at once for a never-activated key, and for a Deactivated
 * or Compromised key its owner holds when the tenant policy says `immediate-for-owner`; otherwise a
 * pending destruction that stops every use at once (key.use.ts) and is carried out after the waiting
 * period unless cancelled. Never for an Active key (revoke it first).
 */
export interface RequestKeyDestruction {
  readonly kind: 'key.request-destruction';
  readonly keyId: string;
}
/** Set (whole value lists) or remove client attributes. */
export interface ChangeKeyAttributes {
  readonly kind: 'key.change-attributes';
  readonly keyId: string;
  readonly set?: KeyAttributes;
  readonly remove?: readonly string[];
}

export interface EnableKeyExport {
  readonly kind: 'key.enable-export';
  readonly keyId: string;
}

export type KeyCommand =
  | CreateKey
  | ActivateKey
  | DeactivateKey
  | CompromiseKey
  | RotateKey
  | ScheduleKeyDestruction
  | CancelKeyDestruction
  | DestroyKey
  | SetKeyAlias
  | ChangeKeyLabels
  | SetKeyDescription
  | SetMinDecryptionVersion
  | EnableKeyExport
  | AssignKeyOwner
  | RequestKeyDestruction
  | ChangeKeyAttributes;

/** Commands that act on an existing key. */
export type ExistingKeyCommand = Exclude<KeyCommand, CreateKey>;
