// keyward keys: the tenant's keys and their lifecycle (NIST SP 800-57 / KMIP states).
import { defineGroup, UsageError, wholeNumber, type Command, type OptionSpecs, type ValuesOf } from '@keyward/cli-kit';
import { apiVerb } from '../api/api-verb';
import { expectOk, segment } from '../api/client';
import { listVerb } from '../api/list-verb';
import { show } from '../output';
import { signatureVerbs } from './key-signatures';
import { keyColumns, type Actor, type PendingApproval } from './shared';

export const summary = 'Keys: list, show, create and every lifecycle step (tenant-admin; reads also key-user and auditor)';

interface KeyVersion {
  readonly version: number;
  readonly destroyed?: boolean;
  readonly kcv: string;
}

interface Key {
  readonly keyId: string;
  readonly alias?: string | null;
  readonly keyType: string;
  readonly state: string;
  readonly latestVersion: number;
  readonly minDecryptionVersion: number;
  readonly createdAt: string;
  readonly createdBy: Actor;
  readonly description?: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly versions: readonly KeyVersion[];
  readonly activationDate?: string | null;
  readonly deactivationDate?: string | null;
  readonly compromiseDate?: string | null;
  readonly compromiseReason?: string | null;
  readonly destroyAfter?: string | null;
  readonly destroyedAt?: string | null;
  readonly history?: readonly {
    readonly at: string;
    readonly from?: string | null;
    readonly to: string;
    readonly event: string;
    readonly actor: Actor;
    readonly reason?: string | null;
  }[];
}

interface KeyCommandResult {
  readonly pendingApproval?: PendingApproval;
  readonly key: Key;
  readonly seq: number;
}

export function describeKey(k: Key): string {
  const lines = [
    `${k.keyId}${k.alias ? `  (alias ${k.alias})` : ''}`,
    `type:          ${k.keyType}`,
    `state:         ${k.state}`,
    `versions:      ${k.versions.map((v) => `v${v.version}${v.destroyed ? ' (destroyed)' : ''} kcv ${v.kcv}`).join(', ')}; latest v${k.latestVersion}, decrypts from v${k.minDecryptionVersion}`,
    `created:       ${k.createdAt} by ${k.createdBy.principalId} (${k.createdBy.role})`,
  ];
  if (k.description) lines.push(`description:   ${k.description}`);
  if (Object.keys(k.labels).length > 0)
    lines.push(
      `labels:        ${Object.entries(k.labels)
        .map(([n, v]) => `${n}=${v}`)
        .join(', ')}`,
    );
  const dates: readonly (readonly [string, string | null | undefined])[] = [
    ['activation', k.activationDate],
    ['deactivation', k.deactivationDate],
    ['compromised', k.compromiseDate ? `${k.compromiseDate} (${String(k.compromiseReason)})` : k.compromiseDate],
    ['destroy after', k.destroyAfter],
    ['destroyed', k.destroyedAt],
  ];
  for (const [name, value] of dates) {
    if (value) lines.push(`${`${name}:`.padEnd(15)}${value}`);
  }
  if (k.history) {
    lines.push('history:');
    for (const h of k.history)
      lines.push(`  ${h.at}  ${h.from ?? '-'} -> ${h.to}  ${h.event}  by ${h.actor.principalId}${h.reason ? ` (${h.reason})` : ''}`);
  }
  return lines.join('\n');
}

/** What a key command answered: the key after it, or the approval request it became. */
const commandResult =
  (verb: string) =>
  (r: KeyCommandResult): string =>
    r.pendingApproval
      ? `Pending approval ${r.pendingApproval.approvalId} for ${r.pendingApproval.operation}: ${r.pendingApproval.quorum - r.pendingApproval.approvals} more approval(s) needed (keyward approvals approve ${r.pendingApproval.approvalId})`
      : `${verb}: ${r.key.keyId} is ${r.key.state}, latest version ${r.key.latestVersion} (seq ${r.seq}).`;

function labels(list: readonly string[] = []): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const item of list) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--label takes name=value, not "${item}"`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

const KEY_REF = 'KEY is a key id or alias/<name>.';
const keyPath = (ref: string | undefined, action = ''): string => `/v1/keys/${segment(ref ?? '')}${action}`;

/** A verb that posts one lifecycle command to /v1/keys/{ref}/<action>. */
function lifecycle<const O extends OptionSpecs>(
  action: string,
  summary: string,
  done: string,
  options?: O,
  body: (values: ValuesOf<O>) => object = () => ({}),
): Command {
  return apiVerb({
    summary,
    args: '<key>',
    details: KEY_REF,
    options: options ?? ({} as O),
    async run({ values, positionals, target, inv }) {
      const answer = await expectOk<KeyCommandResult>(target(), 'POST', keyPath(positionals[0], `/${action}`), { body: body(values) });
      show(inv, values.json, answer, commandResult(done));
    },
  });
}

export const keys = defineGroup({
  summary,
  commands: {
    list: listVerb({
      summary: 'List keys in creation order (filter by state, alias, label)',
      path: '/v1/keys',
      limit: '1-200, default 50',
      columns: keyColumns<Key>(['created', (k) => k.createdAt]),
      options: {
        state: {
          type: 'string',
          value: 'STATE',
          description: 'PreActive, Active, Deactivated, Compromised, Destroyed, DestroyedCompromised',
        },
        alias: { type: 'string', value: 'ALIAS', description: 'only the key with this alias' },
        label: { type: 'string', value: 'NAME=VALUE', description: 'only keys with this label' },
      },
      params: (values) => ({ state: values.state, alias: values.alias, label: values.label }),
    }),
    get: apiVerb({
      summary: 'Show a key with its versions and state history',
      args: '<key>',
      details: KEY_REF,
      async run({ values, positionals, target, inv }) {
        const ref = positionals[0] ?? '';
        const path = ref.startsWith('alias/') ? `/v1/keys/alias/${encodeURIComponent(ref.slice(6))}` : keyPath(ref);
        show(inv, values.json, await expectOk<Key>(target(), 'GET', path), describeKey);
      },
    }),
    create: apiVerb({
      summary: 'Create a key (PreActive, or Active with --activate)',
      options: {
        type: {
          type: 'string',
          value: 'TYPE',
          description:
            'AES-256-GCM (default), AES-192-GCM, AES-128-GCM, HMAC-SHA256, SECRET, RSA-2048|3072|4096, EC-P256, EC-P384, ED25519',
        },
        alias: { type: 'string', value: 'ALIAS', description: 'a unique name to refer to it by (alias/<name>)' },
        description: { type: 'string', value: 'TEXT', description: 'free text' },
        label: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'a label (repeatable)' },
        activate: { type: 'boolean', description: 'activate at once' },
        'activation-date': { type: 'string', value: 'ISO', description: 'activate on this date (the server enforces it)' },
        'deactivation-date': { type: 'string', value: 'ISO', description: 'deactivate on this date (the end of its cryptoperiod)' },
        exportable: { type: 'boolean', description: 'may be exported (under dual control)' },
      },
      async run({ values, target, inv }) {
        const body = {
          ...(values.type ? { keyType: values.type } : {}),
          ...(values.alias ? { alias: values.alias } : {}),
          ...(values.description ? { description: values.description } : {}),
          ...(values.label ? { labels: labels(values.label) } : {}),
          ...(values.activate ? { activate: true } : {}),
          ...(values['activation-date'] ? { activationDate: values['activation-date'] } : {}),
          ...(values['deactivation-date'] ? { deactivationDate: values['deactivation-date'] } : {}),
          ...(values.exportable ? { exportable: true } : {}),
        };
        show(inv, values.json, await expectOk<KeyCommandResult>(target(), 'POST', '/v1/keys', { body }), commandResult('created'));
      },
    }),
    activate: lifecycle('activate', 'Activate a PreActive key', 'activated'),
    rotate: lifecycle('rotate', 'Add a new version; old versions keep decrypting', 'rotated'),
    deactivate: lifecycle('deactivate', 'Deactivate a key: it then only decrypts and verifies', 'deactivated'),
    compromise: lifecycle(
      'compromise',
      'Mark a key compromised',
      'compromised',
      {
        reason: { type: 'string', value: 'TEXT', description: 'why (required)' },
        date: { type: 'string', value: 'ISO', description: 'when the compromise happened (default now)' },
      },
      (v) => {
        if (!v.reason) throw new UsageError('--reason is required');
        return { reason: v.reason, ...(v.date ? { compromiseDate: v.date } : {}) };
      },
    ),
    'schedule-destruction': lifecycle(
      'schedule-destruction',
      'Schedule destruction after a waiting period (dual-controlled)',
      'destruction scheduled',
      { days: { type: 'string', value: 'N', description: 'waiting period in days (default 7)' } },
      (v) => (v.days === undefined ? {} : { waitingPeriodDays: wholeNumber('days', v.days, { min: 1 }) }),
    ),
    'cancel-destruction': lifecycle('cancel-destruction', 'Cancel a scheduled destruction', 'destruction cancelled'),
    'set-alias': apiVerb({
      summary: 'Give a key a (new) alias',
      args: '<key> <alias>',
      async run({ values, positionals, target, inv }) {
        const answer = await expectOk<KeyCommandResult>(target(), 'PUT', keyPath(positionals[0], '/alias'), {
          body: { alias: positionals[1] },
        });
        show(inv, values.json, answer, commandResult('alias set'));
      },
    }),
    update: apiVerb({
      summary: 'Change the description and labels of a key',
      args: '<key>',
      options: {
        description: { type: 'string', value: 'TEXT', description: 'the new description' },
        label: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'set a label (repeatable)' },
        'remove-label': { type: 'string', multiple: true, value: 'NAME', description: 'remove a label (repeatable)' },
      },
      async run({ values, positionals, target, inv }) {
        const set = labels(values.label);
        for (const name of values['remove-label'] ?? []) set[name] = null;
        const body = {
          ...(values.description === undefined ? {} : { description: values.description }),
          ...(Object.keys(set).length > 0 ? { labels: set } : {}),
        };
        if (Object.keys(body).length === 0) throw new UsageError('give --description, --label or --remove-label');
        show(
          inv,
          values.json,
          await expectOk<KeyCommandResult>(target(), 'PATCH', keyPath(positionals[0]), { body }),
          commandResult('updated'),
        );
      },
    }),
    'min-decryption-version': apiVerb({
      summary: 'Retire old versions: ciphertexts of versions below this no longer decrypt (lowering it is dual-controlled)',
      args: '<key> <version>',
      async run({ values, positionals, target, inv }) {
        const version = wholeNumber('version', positionals[1], { min: 1 });
        const answer = await expectOk<KeyCommandResult>(target(), 'PUT', keyPath(positionals[0], '/min-decryption-version'), {
          body: { version },
        });
        show(inv, values.json, answer, commandResult('minimum decryption version set'));
      },
    }),
    ...signatureVerbs,
  },
});
