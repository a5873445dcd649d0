import type { KeyState } from '@keyward/domain';
import type { KeyView } from '@keyward/event-log';

/** What the API shows of a key: the state, never storage fields. */
export function keyBody(key: KeyState | KeyView): KeyState {
  return {
    keyId: key.keyId,
    keyType: key.keyType,
    state: key.state,
    alias: key.alias,
    description: key.description,
    labels: key.labels,
    exportable: key.exportable,
    ...(key.kmipOnly === true ? { kmipOnly: true as const } : {}),
    ...(key.publicOnly === true ? { publicOnly: true as const } : {}),
    // Views projected before the field existed lack it.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
    exportEnabled: key.exportEnabled ?? false,
    versions: key.versions,
    latestVersion: key.latestVersion,
    minDecryptionVersion: key.minDecryptionVersion,
    activationDate: key.activationDate,
    deactivationDate: key.deactivationDate,
    compromiseDate: key.compromiseDate,
    compromiseReason: key.compromiseReason,
    destroyAfter: key.destroyAfter,
    destroyedAt: key.destroyedAt,
    createdAt: key.createdAt,
    createdBy: key.createdBy,
    updatedAt: key.updatedAt,
    history: key.history,
    ...(key.owner === undefined ? {} : { owner: key.owner }),
    ...(key.useSuspended ? { useSuspended: key.useSuspended } : {}),
    ...(key.attributes === undefined ? {} : { attributes: key.attributes }),
  };
}

export function keySummary(key: KeyState | KeyView): Omit<KeyState, 'history'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { history, ...rest } = keyBody(key);
  return rest;
}
