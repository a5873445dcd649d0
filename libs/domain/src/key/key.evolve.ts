import { changedAttributes } from './key.attributes';
import type { KeyEvent } from './key.events';
import type { KeyState, KeyStateChange } from './key.state';
import type { KeyLifecycleState } from './key.types';

function transition(key: KeyState, event: KeyEvent, to: KeyLifecycleState, reason?: string): KeyState {
  const change: KeyStateChange = {
    at: event.at,
    from: key.state,
    to,
    event: event.type,
    actor: event.actor,
    ...(reason ? { reason } : {}),
  };
  return { ...key, state: to, updatedAt: event.at, history: [...key.history, change] };
}

/** Folds one event into a key's state. `undefined` before the key exists. Pure. */
export function evolveKey(key: KeyState | undefined, event: KeyEvent): KeyState | undefined {
  if (event.type === 'key.created.v1') {
    const d = event.data;
    return {
      keyId: d.keyId,
      keyType: d.keyType,
      state: 'PreActive',
      alias: d.alias ?? null,
      description: d.description,
      labels: { ...d.labels },
      exportable: d.exportable,
      ...(d.origin === 'imported' ? { origin: 'imported' as const } : {}),
      ...(d.owner === undefined ? {} : { owner: d.owner }),
      ...(d.attributes === undefined ? {} : { attributes: d.attributes }),
      ...(d.kmipOnly === true ? { kmipOnly: true as const } : {}),
      ...(d.cipherParameters === undefined ? {} : { cipherParameters: { ...d.cipherParameters } }),
      ...(d.extraUsages === undefined ? {} : { extraUsages: [...d.extraUsages] }),
      ...(d.usageLimits === undefined ? {} : { usageLimits: { ...d.usageLimits } }),
      ...(d.publicOnly === true ? { publicOnly: true as const } : {}),
      exportEnabled: false,
      versions: [{ version: d.version.version, kcv: d.version.kcv, createdAt: event.at, destroyed: false }],
      latestVersion: d.version.version,
      minDecryptionVersion: 1,
      activationDate: d.activationDate ?? null,
      deactivationDate: d.deactivationDate ?? null,
      compromiseDate: null,
      compromiseReason: null,
      destroyAfter: null,
      destroyedAt: null,
      createdAt: event.at,
      createdBy: event.actor,
      updatedAt: event.at,
      history: [{ at: event.at, from: null, to: 'PreActive', event: event.type, actor: event.actor }],
    };
  }
  if (key === undefined) return undefined;
  switch (event.type) {
    case 'key.activated.v1':
      return { ...transition(key, event, 'Active', event.data.reason), activationDate: key.activationDate ?? event.at };
    case 'key.deactivated.v1':
      return { ...transition(key, event, 'Deactivated', event.data.reason), deactivationDate: event.at };
    case 'key.compromised.v1':
      return {
        ...transition(key, event, key.state === 'Destroyed' ? 'DestroyedCompromised' : 'Compromised', event.data.reason),
        compromiseDate: event.data.compromiseDate,
        compromiseReason: event.data.reason,
      };
    case 'key.rotated.v1':
      return {
        ...key,
        versions: [
          ...key.versions,
          { version: event.data.version.version, kcv: event.data.version.kcv, createdAt: event.at, destroyed: false },
        ],
        latestVersion: event.data.version.version,
        updatedAt: event.at,
      };
    case 'key.destruction-scheduled.v1':
      return {
        ...key,
        destroyAfter: event.data.destroyAfter,
        ...(event.data.suspendUse ? { useSuspended: true as const } : {}),
        updatedAt: event.at,
      };
    case 'key.destruction-cancelled.v1': {
      const { useSuspended: _, ...rest } = key;
      return { ...rest, destroyAfter: null, updatedAt: event.at };
    }
    case 'key.destroyed.v1': {
      const { useSuspended: _, ...live } = transition(key, event, key.state === 'Compromised' ? 'DestroyedCompromised' : 'Destroyed');
      return {
        ...live,
        versions: key.versions.map((v) => ({ ...v, destroyed: true })),
        alias: null,
        destroyAfter: null,
        destroyedAt: event.at,
      };
    }
    case 'key.alias-set.v1':
      return { ...key, alias: event.data.alias, updatedAt: event.at };
    case 'key.labels-changed.v1': {
      const removed = new Set(event.data.removed);
      const labels = Object.fromEntries(Object.entries({ ...key.labels, ...event.data.set }).filter(([name]) => !removed.has(name)));
      return { ...key, labels, updatedAt: event.at };
    }
    case 'key.description-set.v1':
      return { ...key, description: event.data.description, updatedAt: event.at };
    case 'key.min-decryption-version-set.v1':
      return { ...key, minDecryptionVersion: event.data.version, updatedAt: event.at };
    case 'key.export-enabled.v1':
      return { ...key, exportEnabled: true, updatedAt: event.at };
    case 'key.owner-assigned.v1': {
      const { owner: _, ...rest } = key;
      return { ...rest, ...(event.data.owner === null ? {} : { owner: event.data.owner }), updatedAt: event.at };
    }
    case 'key.attributes-changed.v1': {
      const { attributes: _, ...rest } = key;
      const attributes = changedAttributes(key.attributes ?? {}, event.data.set, event.data.removed);
      return { ...rest, ...(Object.keys(attributes).length === 0 ? {} : { attributes }), updatedAt: event.at };
    }
  }
}
