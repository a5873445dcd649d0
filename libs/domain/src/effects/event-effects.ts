import type { KeywardEventBody } from '../keyset/keyset';

/** Every event type of the domain. */
export type KeywardEventType = KeywardEventBody['type'];

/** Keystore entries a commit crypto-shreds: some versions of a key, or the whole tenant (its KEK first). */
export type ShredEffect =
  { readonly shred: 'versions'; readonly keyId: string; readonly versions: readonly number[] } | { readonly shred: 'tenant' };

/**
 * What one committed event means outside the log. Three kinds of consequence, applied by
 * whoever holds the thing:
 *
 * - caches (`forget*`): copies this process keeps (unwrapped material, a tenant's KEK,
 *   authenticated API keys). Dropping them only costs a re-read from the stores, so every
 *   instance applies them for any commit it hears of, even an unverified stream message.
 * - keystore (`shred`): crypto-shredding. Idempotent; applied for stored commits only, by the
 *   writer after the commit, the projector again from the stream, a restore on replay.
 * - credentials (`disablePrincipals`): the principals' API keys are disabled in the credential
 *   store; applied for stored (or about to be stored) commits only.
 */
export interface EventEffects {
  /** Keys whose unwrapped material leaves memory (it may no longer protect data). */
  readonly forgetKeys: readonly string[];
  /** The tenant's KEK (and so every key of it) leaves memory. */
  readonly forgetTenant: boolean;
  /** Principals whose cached authentications are dropped. */
  readonly forgetPrincipals: readonly string[];
  readonly shred: readonly ShredEffect[];
  readonly disablePrincipals: readonly string[];
}

export const NO_EFFECTS: EventEffects = Object.freeze({
  forgetKeys: [],
  forgetTenant: false,
  forgetPrincipals: [],
  shred: [],
  disablePrincipals: [],
});

const none = (): EventEffects => NO_EFFECTS;
/** The key may no longer protect data (it can still unprotect, from the store): drop its unwrapped copies. */
const forgetKey = ({ data }: { readonly data: { readonly keyId: string } }): EventEffects => ({ ...NO_EFFECTS, forgetKeys: [data.keyId] });

type Rule<T extends KeywardEventType> = (event: Extract<KeywardEventBody, { type: T }>) => EventEffects;

/**
 * The rule table: every event type of the domain, and what it means for caches, keystore and
 * credentials. The compiler makes every new event type have a row here.
 */
export const EVENT_RULES: { readonly [T in KeywardEventType]: Rule<T> } = {
  'tenant.onboarded.v1': none,
  // A suspended tenant's keys refuse every operation until it is resumed.
  'tenant.suspended.v1': () => ({ ...NO_EFFECTS, forgetTenant: true }),
  'tenant.resumed.v1': none,
  'tenant.offboarded.v1': () => ({ ...NO_EFFECTS, forgetTenant: true, shred: [{ shred: 'tenant' }] }),
  'tenant.policy-set.v1': none,
  'key.created.v1': none,
  'key.activated.v1': none,
  'key.deactivated.v1': forgetKey,
  'key.compromised.v1': forgetKey,
  'key.rotated.v1': none,
  // Only a key that can no longer protect data is scheduled: nothing should keep its material warm.
  'key.destruction-scheduled.v1': forgetKey,
  'key.destruction-cancelled.v1': none,
  'key.destroyed.v1': ({ data }) => ({
    ...NO_EFFECTS,
    forgetKeys: [data.keyId],
    shred: [{ shred: 'versions', keyId: data.keyId, versions: data.versions }],
  }),
  'key.alias-set.v1': none,
  'key.labels-changed.v1': none,
  'key.description-set.v1': none,
  'key.min-decryption-version-set.v1': none,
  'key.export-enabled.v1': none,
  // A new owner changes who may use the key: caches keep no per-principal copy, the state carries it.
  'key.owner-assigned.v1': forgetKey,
  'key.attributes-changed.v1': none,
  'principal.created.v1': none,
  'principal.revoked.v1': ({ data }) => ({ ...NO_EFFECTS, forgetPrincipals: [data.principalId], disablePrincipals: [data.principalId] }),
  'principal.enrollment-issued.v1': none,
  'principal.enrolled.v1': none,
  'principal.certificate-bound.v1': none,
  'principal.certificate-unbound.v1': none,
  // Grants live in the tenant log every instance folds: the commit itself invalidates the cached log (KeyStateSource.noteCommit).
  'grant.created.v1': none,
  'grant.revoked.v1': none,
  // An executed request's own command events are in the same commit and carry their effects.
  'approval.requested.v1': none,
  'approval.granted.v1': none,
  'approval.executed.v1': none,
  'approval.failed.v1': none,
  'approval.rejected.v1': none,
};

/** What one event means for caches, keystore and credentials. An unknown type (a forged message) means nothing. */
export function effectsOf(event: KeywardEventBody): EventEffects {
  if (!Object.hasOwn(EVENT_RULES, event.type)) return NO_EFFECTS;
  return (EVENT_RULES[event.type] as (event: KeywardEventBody) => EventEffects)(event);
}

/** The effects of a commit's events, in order. */
export function commitEffects(events: readonly KeywardEventBody[]): EventEffects {
  const all = events.map(effectsOf);
  return {
    forgetKeys: all.flatMap((e) => e.forgetKeys),
    forgetTenant: all.some((e) => e.forgetTenant),
    forgetPrincipals: all.flatMap((e) => e.forgetPrincipals),
    shred: all.flatMap((e) => e.shred),
    disablePrincipals: all.flatMap((e) => e.disablePrincipals),
  };
}
