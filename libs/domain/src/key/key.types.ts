/** NIST SP 800-57 / KMIP key states. */
export const KEY_STATES = ['PreActive', 'Active', 'Deactivated', 'Compromised', 'Destroyed', 'DestroyedCompromised'] as const;
export type KeyLifecycleState = (typeof KEY_STATES)[number];

/**
 * Key types and what they are for. The usage decides which crypto operations a key admits;
 * asymmetric types slot in by adding entries here.
 */
export const KEY_TYPES = {
  'AES-256-GCM': { usage: 'encrypt', materialBytes: 32 },
  'HMAC-SHA256': { usage: 'mac', materialBytes: 32 },
} as const;
export type KeyType = keyof typeof KEY_TYPES;
export type KeyUsage = (typeof KEY_TYPES)[KeyType]['usage'];

export const isKeyType = (value: string): value is KeyType => Object.hasOwn(KEY_TYPES, value);

export const DESTRUCTION_WAIT_DAYS = { default: 7, min: 1, max: 90 } as const;

export const isDestroyed = (state: KeyLifecycleState): boolean => state === 'Destroyed' || state === 'DestroyedCompromised';
