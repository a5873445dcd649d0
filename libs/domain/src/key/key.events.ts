import type { DomainEvent, EventBody } from '../shared/event';
import type { KeyType } from './key.types';

export interface KeyVersionFacts {
  readonly version: number;
  /** Key check value: identifies the material without revealing it. */
  readonly kcv: string;
}

export type KeyCreated = EventBody<
  'key.created.v1',
  {
    readonly keyId: string;
    readonly keyType: KeyType;
    readonly alias?: string;
    readonly description: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly activationDate?: string;
    readonly deactivationDate?: string;
    readonly exportable: boolean;
    readonly version: KeyVersionFacts;
  }
>;
export type KeyActivated = EventBody<'key.activated.v1', { readonly keyId: string; readonly reason: 'requested' | 'activation-date' }>;
export type KeyDeactivated = EventBody<
  'key.deactivated.v1',
  { readonly keyId: string; readonly reason: 'requested' | 'deactivation-date' }
>;
export type KeyCompromised = EventBody<
  'key.compromised.v1',
  { readonly keyId: string; readonly reason: string; readonly compromiseDate: string }
>;
export type KeyRotated = EventBody<'key.rotated.v1', { readonly keyId: string; readonly version: KeyVersionFacts }>;
export type KeyDestructionScheduled = EventBody<
  'key.destruction-scheduled.v1',
  { readonly keyId: string; readonly waitingPeriodDays: number; readonly destroyAfter: string }
>;
export type KeyDestructionCancelled = EventBody<'key.destruction-cancelled.v1', { readonly keyId: string }>;
export type KeyDestroyed = EventBody<'key.destroyed.v1', { readonly keyId: string; readonly versions: readonly number[] }>;
export type KeyAliasSet = EventBody<'key.alias-set.v1', { readonly keyId: string; readonly alias: string; readonly previous?: string }>;
export type KeyLabelsChanged = EventBody<
  'key.labels-changed.v1',
  { readonly keyId: string; readonly set: Readonly<Record<string, string>>; readonly removed: readonly string[] }
>;
export type KeyDescriptionSet = EventBody<'key.description-set.v1', { readonly keyId: string; readonly description: string }>;
export type KeyMinDecryptionVersionSet = EventBody<
  'key.min-decryption-version-set.v1',
  { readonly keyId: string; readonly version: number }
>;

export type KeyExportEnabled = EventBody<'key.export-enabled.v1', { readonly keyId: string }>;

export type KeyEventBody =
  | KeyCreated
  | KeyActivated
  | KeyDeactivated
  | KeyCompromised
  | KeyRotated
  | KeyDestructionScheduled
  | KeyDestructionCancelled
  | KeyDestroyed
  | KeyAliasSet
  | KeyLabelsChanged
  | KeyDescriptionSet
  | KeyMinDecryptionVersionSet
  | KeyExportEnabled;

export type KeyEvent = KeyEventBody & Omit<DomainEvent, 'type' | 'data'>;
export type KeyEventType = KeyEventBody['type'];
