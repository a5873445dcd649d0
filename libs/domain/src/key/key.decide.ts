import type { Role } from '../shared/actor';
import { refuse } from '../shared/domain-error';
import type { KmipDestroyPolicy } from '../tenant/tenant';
import type { DecisionContext } from '../shared/decision-context';
import { ALIAS_PATTERN, LABEL_KEY_PATTERN, MAX_DESCRIPTION, MAX_LABEL_VALUE, MAX_LABELS } from '../shared/ids';
import type { ChangeKeyLabels, CreateKey, ExistingKeyCommand } from './key.commands';
import { decideAttributeChange, validateAttributes } from './key.attributes';
import type { KeyEventBody } from './key.events';
import { isOwnershipBound, ownerAtCreation } from './key.ownership';
import type { KeyState } from './key.state';
import { isAsymmetricKeyType } from './key.asymmetric';
import {
  acceptsMaterialLength,
  DESTRUCTION_WAIT_DAYS,
  isDestroyed,
  KEY_REUSE,
  KMIP_ONLY_KEY_TYPES,
  MAX_CIPHER_PARAMETERS,
  type KeyLifecycleState,
  type KeyType,
  type KeyUsage,
  type KmipCipherParameters,
} from './key.types';
import { validateUsageLimits } from './key.usage-limits';

const DAY_MS = 86_400_000;

/** What a key decision needs to know about the rest of the tenant's key set. */
export interface KeySetView {
  /** The key holding `alias`, if any. */
  aliasOwner(alias: string): string | undefined;
  /** The tenant's principals (an owner must be one of them). */
  readonly principals: ReadonlyMap<string, { readonly role: Role; readonly revokedAt: string | null }>;
  /** How a KMIP Destroy of a Deactivated or Compromised key is carried out (tenant policy). */
  kmipDestroy(): KmipDestroyPolicy;
}

const illegal = (key: KeyState, action: string): never =>
  refuse('illegal-transition', `cannot ${action} a key in state ${key.state}`, { keyId: key.keyId, state: key.state, action });

function requireState(key: KeyState, action: string, allowed: readonly KeyLifecycleState[]): void {
  if (!allowed.includes(key.state)) illegal(key, action);
}

function requireNotDestroyed(key: KeyState, action: string): void {
  if (isDestroyed(key.state)) illegal(key, action);
}

function validateAlias(alias: string, keyId: string | undefined, keys: KeySetView): void {
  if (!ALIAS_PATTERN.test(alias) || alias.startsWith('alias/')) {
    refuse('invalid', 'alias must be 1-128 characters of A-Z a-z 0-9 / _ . - and must not start with "alias/"', { alias });
  }
  const owner = keys.aliasOwner(alias);
  if (owner !== undefined && owner !== keyId) refuse('already-exists', `alias "${alias}" is already used by another key`, { alias });
}

function validateLabels(current: Readonly<Record<string, string>>, change: Pick<ChangeKeyLabels, 'set' | 'remove'>): void {
  for (const [name, value] of Object.entries(change.set ?? {})) {
    if (!LABEL_KEY_PATTERN.test(name)) refuse('invalid', `label name "${name}" must match ${LABEL_KEY_PATTERN.source}`);
    if (value.length > MAX_LABEL_VALUE) refuse('invalid', `label "${name}" is longer than ${MAX_LABEL_VALUE} characters`);
  }
  const next = new Set(Object.keys(current));
  for (const name of change.remove ?? []) next.delete(name);
  for (const name of Object.keys(change.set ?? {})) next.add(name);
  if (next.size > MAX_LABELS) refuse('invalid', `a key has at most ${MAX_LABELS} labels`);
}

function validateDescription(description: string): void {
  if (description.length > MAX_DESCRIPTION) refuse('invalid', `description is longer than ${MAX_DESCRIPTION} characters`);
}

function requireValidDate(date: Date | undefined, name: string): void {
  if (date !== undefined && Number.isNaN(date.getTime())) refuse('invalid', `${name} is not a valid date`);
}

function validateCipherParameters(parameters: KmipCipherParameters, kmipOnly: boolean): void {
  if (!kmipOnly) refuse('invalid', 'only keys created over KMIP have Cryptographic Parameters');
  const entries = Object.entries(parameters);
  const valid = (v: unknown): boolean => typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v));
  if (entries.length > MAX_CIPHER_PARAMETERS || entries.some(([name, v]) => !/^[a-zA-Z]{1,40}$/.test(name) || !valid(v))) {
    refuse('invalid', `Cryptographic Parameters are at most ${MAX_CIPHER_PARAMETERS} named integers or booleans`);
  }
}

/** Extra usages: KMIP keys only, and only those KEY_REUSE lists for the type (never a usage the type lacks otherwise). */
function validateExtraUsages(keyType: KeyType, extraUsages: readonly KeyUsage[], kmipOnly: boolean): void {
  if (!kmipOnly) refuse('invalid', 'only keys created over KMIP take a usage beyond their type');
  const reusable = KEY_REUSE[keyType] ?? [];
  const refused = extraUsages.filter((usage) => !reusable.includes(usage));
  if (refused.length > 0) {
    refuse('invalid', `a ${keyType} key cannot also be used to ${refused.join(', ')}`, { keyType, usages: refused });
  }
}

export function decideCreateKey(
  command: CreateKey,
  existing: KeyState | undefined,
  ctx: DecisionContext,
  keys: KeySetView,
): KeyEventBody[] {
  if (existing !== undefined) refuse('already-exists', `key ${command.keyId} already exists`, { keyId: command.keyId });
  if (command.alias !== undefined) validateAlias(command.alias, undefined, keys);
  validateDescription(command.description ?? '');
  validateLabels({}, { set: command.labels ?? {} });
  if (command.attributes !== undefined) validateAttributes(command.attributes);
  const owner = ownerAtCreation(ctx.actor);
  if (command.exportable === true && isAsymmetricKeyType(command.keyType)) {
    refuse('invalid', `a ${command.keyType} private key cannot be exportable; its public key is readable instead`, {
      keyType: command.keyType,
    });
  }
  const imported = command.origin === 'imported';
  if (command.keyType === 'CERTIFICATE' && !imported)
    refuse('invalid', 'a certificate is registered, never generated', { keyType: command.keyType });
  const publicOnly = command.publicOnly === true;
  if (publicOnly && (!imported || !isAsymmetricKeyType(command.keyType))) {
    refuse('invalid', 'only an imported asymmetric key can be a public key alone', { keyType: command.keyType });
  }
  if (imported && (command.materialBytes === undefined || !acceptsMaterialLength(command.keyType, command.materialBytes, publicOnly))) {
    refuse('invalid', `imported material of ${command.materialBytes ?? 'unknown'} bytes does not fit a ${command.keyType} key`, {
      keyType: command.keyType,
      materialBytes: command.materialBytes ?? null,
    });
  }
  const kmipOnly = command.kmipOnly === true;
  if (KMIP_ONLY_KEY_TYPES.has(command.keyType) && !kmipOnly) {
    refuse('invalid', `${command.keyType} keys are created over KMIP only`, { keyType: command.keyType });
  }
  if (command.cipherParameters !== undefined) validateCipherParameters(command.cipherParameters, kmipOnly);
  const extraUsages = command.extraUsages ?? [];
  if (extraUsages.length > 0) validateExtraUsages(command.keyType, extraUsages, kmipOnly);
  if (command.usageLimits !== undefined) validateUsageLimits(command.usageLimits, kmipOnly);
  const { activationDate, deactivationDate } = command;
  if (activationDate && deactivationDate && deactivationDate.getTime() <= activationDate.getTime()) {
    refuse('invalid', 'deactivationDate must be after activationDate');
  }
  // Imported material may come with its history (an archived key registered to read old data): its dates
  // may both have passed, and the key is then created deactivated. New material must have a future to protect.
  const deactivatedAlready = deactivationDate !== undefined && deactivationDate.getTime() <= ctx.now.getTime();
  if (deactivatedAlready && !imported) refuse('invalid', 'deactivationDate must be in the future');
  const created: KeyEventBody = {
    type: 'key.created.v1',
    data: {
      keyId: command.keyId,
      keyType: command.keyType,
      ...(command.alias === undefined ? {} : { alias: command.alias }),
      description: command.description ?? '',
      labels: { ...(command.labels ?? {}) },
      ...(activationDate ? { activationDate: activationDate.toISOString() } : {}),
      ...(deactivationDate ? { deactivationDate: deactivationDate.toISOString() } : {}),
      exportable: command.exportable ?? false,
      version: { version: 1, kcv: command.kcv },
      ...(imported ? { origin: 'imported' as const } : {}),
      ...(owner === undefined ? {} : { owner }),
      ...(command.attributes === undefined || Object.keys(command.attributes).length === 0 ? {} : { attributes: command.attributes }),
      ...(kmipOnly ? { kmipOnly: true as const } : {}),
      ...(command.cipherParameters === undefined ? {} : { cipherParameters: { ...command.cipherParameters } }),
      ...(extraUsages.length === 0 ? {} : { extraUsages: [...new Set(extraUsages)] }),
      ...(command.usageLimits === undefined ? {} : { usageLimits: { total: command.usageLimits.total, unit: command.usageLimits.unit } }),
      ...(publicOnly ? { publicOnly: true as const } : {}),
    },
  };
  // A given activation date decides activation: now if it has passed, else the scheduler does it.
  const activateNow = activationDate ? activationDate.getTime() <= ctx.now.getTime() : command.activate === true;
  const events: KeyEventBody[] = activateNow
    ? [created, { type: 'key.activated.v1', data: { keyId: command.keyId, reason: activationDate ? 'activation-date' : 'requested' } }]
    : [created];
  if (deactivatedAlready) events.push({ type: 'key.deactivated.v1', data: { keyId: command.keyId, reason: 'deactivation-date' } });
  return events;
}

export function decideKey(command: ExistingKeyCommand, key: KeyState | undefined, ctx: DecisionContext, keys: KeySetView): KeyEventBody[] {
  if (key === undefined) return refuse('not-found', `key ${command.keyId} not found`, { keyId: command.keyId });
  const keyId = key.keyId;
  switch (command.kind) {
    case 'key.activate':
      requireState(key, 'activate', ['PreActive']);
      if (key.destroyAfter !== null)
        refuse('illegal-transition', 'cannot activate a key scheduled for destruction; cancel the destruction first', { keyId });
      if (key.deactivationDate !== null && Date.parse(key.deactivationDate) <= ctx.now.getTime()) {
        refuse('illegal-transition', 'cannot activate a key whose deactivation date has passed', { keyId });
      }
      return [{ type: 'key.activated.v1', data: { keyId, reason: command.reason ?? 'requested' } }];
    case 'key.deactivate':
      requireState(key, 'deactivate', ['PreActive', 'Active']);
      return [{ type: 'key.deactivated.v1', data: { keyId, reason: command.reason ?? 'requested' } }];
    case 'key.compromise': {
      requireState(key, 'mark compromised', ['PreActive', 'Active', 'Deactivated', 'Destroyed']);
      const reason = command.reason.trim();
      if (reason.length === 0 || reason.length > 512) refuse('invalid', 'a compromise needs a reason of 1-512 characters');
      requireValidDate(command.compromiseDate, 'compromiseDate');
      const when = command.compromiseDate ?? ctx.now;
      if (when.getTime() > ctx.now.getTime()) refuse('invalid', 'compromiseDate cannot be in the future');
      return [{ type: 'key.compromised.v1', data: { keyId, reason, compromiseDate: when.toISOString() } }];
    }
    case 'key.rotate':
      requireState(key, 'rotate', ['Active']);
      if (key.origin === 'imported')
        refuse('invalid', `key ${keyId} holds imported material; import a new key instead of rotating it`, { keyId });
      return [{ type: 'key.rotated.v1', data: { keyId, version: { version: key.latestVersion + 1, kcv: command.kcv } } }];
    case 'key.schedule-destruction': {
      requireState(key, 'schedule destruction of', ['PreActive', 'Deactivated', 'Compromised']);
      if (key.destroyAfter !== null)
        refuse('illegal-transition', 'destruction is already scheduled', { keyId, destroyAfter: key.destroyAfter });
      const days = command.waitingPeriodDays ?? DESTRUCTION_WAIT_DAYS.default;
      if (!Number.isInteger(days) || days < DESTRUCTION_WAIT_DAYS.min || days > DESTRUCTION_WAIT_DAYS.max) {
        refuse('invalid', `waitingPeriodDays must be an integer from ${DESTRUCTION_WAIT_DAYS.min} to ${DESTRUCTION_WAIT_DAYS.max}`);
      }
      const destroyAfter = new Date(ctx.now.getTime() + days * DAY_MS).toISOString();
      return [{ type: 'key.destruction-scheduled.v1', data: { keyId, waitingPeriodDays: days, destroyAfter } }];
    }
    case 'key.cancel-destruction':
      requireNotDestroyed(key, 'cancel destruction of');
      if (key.destroyAfter === null) refuse('illegal-transition', 'no destruction is scheduled', { keyId });
      return [{ type: 'key.destruction-cancelled.v1', data: { keyId } }];
    case 'key.destroy':
      requireState(key, 'destroy', ['PreActive', 'Deactivated', 'Compromised']);
      if (key.destroyAfter === null) refuse('illegal-transition', 'destruction must be scheduled first', { keyId });
      else if (Date.parse(key.destroyAfter) > ctx.now.getTime()) {
        refuse('illegal-transition', `the waiting period runs until ${key.destroyAfter}`, { keyId, destroyAfter: key.destroyAfter });
      }
      return [{ type: 'key.destroyed.v1', data: { keyId, versions: key.versions.filter((v) => !v.destroyed).map((v) => v.version) } }];
    case 'key.request-destruction':
      return decideRequestedDestruction(key, ctx, keys);
    case 'key.assign-owner': {
      requireNotDestroyed(key, 'assign an owner to');
      const owner = command.owner;
      if (owner !== null) {
        const principal = keys.principals.get(owner);
        if (principal === undefined || principal.revokedAt !== null)
          refuse('invalid', `no active principal ${owner} in this tenant`, { owner });
        else if (!isOwnershipBound(principal.role))
          refuse('invalid', `a ${principal.role} cannot own keys; only a kmip-client can`, { owner });
      }
      if ((key.owner ?? null) === owner) return [];
      return [{ type: 'key.owner-assigned.v1', data: { keyId, owner, ...(key.owner === undefined ? {} : { previous: key.owner }) } }];
    }
    case 'key.change-attributes': {
      requireNotDestroyed(key, 'change the attributes of');
      const change = decideAttributeChange(key.attributes ?? {}, command.set ?? {}, command.remove ?? []);
      if (Object.keys(change.set).length === 0 && change.removed.length === 0) return [];
      return [{ type: 'key.attributes-changed.v1', data: { keyId, ...change } }];
    }
    case 'key.set-alias':
      requireNotDestroyed(key, 'set the alias of');
      validateAlias(command.alias, keyId, keys);
      if (key.alias === command.alias) return [];
      return [{ type: 'key.alias-set.v1', data: { keyId, alias: command.alias, ...(key.alias === null ? {} : { previous: key.alias }) } }];
    case 'key.change-labels': {
      requireNotDestroyed(key, 'change the labels of');
      validateLabels(key.labels, command);
      const set = Object.fromEntries(Object.entries(command.set ?? {}).filter(([k, v]) => key.labels[k] !== v));
      const removed = (command.remove ?? []).filter((k) => Object.hasOwn(key.labels, k) && !Object.hasOwn(set, k));
      if (Object.keys(set).length === 0 && removed.length === 0) return [];
      return [{ type: 'key.labels-changed.v1', data: { keyId, set, removed } }];
    }
    case 'key.set-description':
      requireNotDestroyed(key, 'describe');
      validateDescription(command.description);
      if (key.description === command.description) return [];
      return [{ type: 'key.description-set.v1', data: { keyId, description: command.description } }];
    case 'key.enable-export':
      if (!key.exportable) refuse('invalid', `key ${keyId} was not created exportable; its material can never leave Keyward`, { keyId });
      requireState(key, 'enable export of', ['PreActive', 'Active', 'Deactivated']);
      return key.exportEnabled ? [] : [{ type: 'key.export-enabled.v1', data: { keyId } }];
    case 'key.set-min-decryption-version':
      requireNotDestroyed(key, 'change the minimum decryption version of');
      if (!Number.isInteger(command.version) || command.version < 1 || command.version > key.latestVersion) {
        refuse('invalid', `minDecryptionVersion must be an integer from 1 to the latest version (${key.latestVersion})`);
      }
      if (command.version === key.minDecryptionVersion) return [];
      return [{ type: 'key.min-decryption-version-set.v1', data: { keyId, version: command.version } }];
  }
}

/** The events of key.destroyed.v1 for every live version. */
const destroyedNow = (key: KeyState): KeyEventBody[] => [
  { type: 'key.destroyed.v1', data: { keyId: key.keyId, versions: key.versions.filter((v) => !v.destroyed).map((v) => v.version) } },
];

/** KMIP Destroy under the tenant policy (see RequestKeyDestruction). */
function decideRequestedDestruction(key: KeyState, ctx: DecisionContext, keys: KeySetView): KeyEventBody[] {
  const keyId = key.keyId;
  if (key.state === 'Active') refuse('illegal-transition', 'cannot destroy an Active key; revoke it first', { keyId, state: key.state });
  requireState(key, 'destroy', ['PreActive', 'Deactivated', 'Compromised']);
  // Never activated: it never protected anything.
  if (key.state === 'PreActive' && key.history.every((h) => h.to !== 'Active')) return destroyedNow(key);
  if (keys.kmipDestroy() === 'immediate-for-owner' && key.owner !== undefined && key.owner === ctx.actor.principalId)
    return destroyedNow(key);
  if (key.destroyAfter !== null) {
    if (Date.parse(key.destroyAfter) <= ctx.now.getTime()) return destroyedNow(key);
    if (key.useSuspended)
      refuse('illegal-transition', `destruction is pending until ${key.destroyAfter}`, { keyId, destroyAfter: key.destroyAfter });
  }
  const days = DESTRUCTION_WAIT_DAYS.default;
  const destroyAfter = key.destroyAfter ?? new Date(ctx.now.getTime() + days * DAY_MS).toISOString();
  return [{ type: 'key.destruction-scheduled.v1', data: { keyId, waitingPeriodDays: days, destroyAfter, suspendUse: true } }];
}
