// keyward keys: the tenant's keys and their lifecycle (NIST SP 800-57 / KMIP states).
import { expectOk, keyPath, output, pages, runGroup, table, UsageError, wholeNumber } from './lib/cli.mjs';

export const summary = 'Keys: list, show, create and every lifecycle step (tenant-admin; reads also key-user and auditor)';

const keyColumns = [
  ['key', (k) => k.keyId],
  ['alias', (k) => k.alias ?? ''],
  ['type', (k) => k.keyType],
  ['state', (k) => k.state],
  ['version', (k) => k.latestVersion],
  ['created', (k) => k.createdAt],
];

export function describeKey(k) {
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
  for (const [name, value] of [
    ['activation', k.activationDate],
    ['deactivation', k.deactivationDate],
    ['compromised', k.compromiseDate && `${k.compromiseDate} (${k.compromiseReason})`],
    ['destroy after', k.destroyAfter],
    ['destroyed', k.destroyedAt],
  ]) {
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
const commandResult = (verb) => (r) =>
  r.pendingApproval
    ? `Pending approval ${r.pendingApproval.approvalId} for ${r.pendingApproval.operation}: ${r.pendingApproval.quorum - r.pendingApproval.approvals} more approval(s) needed (keyward approvals approve ${r.pendingApproval.approvalId})`
    : `${verb}: ${r.key.keyId} is ${r.key.state}, latest version ${r.key.latestVersion} (seq ${r.seq}).`;

function labels(list = []) {
  const out = {};
  for (const item of list) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--label takes name=value, not "${item}"`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/** A verb that posts one lifecycle command to /v1/keys/{ref}/<action>. */
const lifecycle = (action, summary, verb, body = () => ({}), options = {}) => ({
  summary,
  args: '<key>',
  details: 'KEY is a key id or alias/<name>.',
  options,
  async run({ values, positionals, target }) {
    const answer = await expectOk(target(), 'POST', `/v1/keys/${keyPath(positionals[0])}/${action}`, { body: body(values) });
    output(values, answer.json, commandResult(verb));
  },
});

const verbs = {
  list: {
    summary: 'List keys in creation order (filter by state, alias, label)',
    options: {
      state: {
        type: 'string',
        value: 'STATE',
        description: 'PreActive, Active, Deactivated, Compromised, Destroyed, DestroyedCompromised',
      },
      alias: { type: 'string', value: 'ALIAS', description: 'only the key with this alias' },
      label: { type: 'string', value: 'NAME=VALUE', description: 'only keys with this label' },
      limit: { type: 'string', value: 'N', description: 'items per page (1-200, default 50)' },
      cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
      all: { type: 'boolean', description: 'follow every page' },
    },
    async run({ values, target }) {
      const params = { state: values.state, alias: values.alias, label: values.label, limit: values.limit, cursor: values.cursor };
      const page = await pages(target(), '/v1/keys', params, values.all);
      output(values, page, (p) => `${table(p.items, keyColumns)}${p.nextCursor ? `\n(more: --cursor ${p.nextCursor}, or --all)` : ''}`);
    },
  },
  get: {
    summary: 'Show a key with its versions and state history',
    args: '<key>',
    details: 'KEY is a key id or alias/<name>.',
    async run({ values, positionals, target }) {
      const ref = positionals[0];
      const path = ref.startsWith('alias/') ? `/v1/keys/alias/${encodeURIComponent(ref.slice(6))}` : `/v1/keys/${keyPath(ref)}`;
      const answer = await expectOk(target(), 'GET', path);
      output(values, answer.json, describeKey);
    },
  },
  create: {
    summary: 'Create a key (PreActive, or Active with --activate)',
    options: {
      type: { type: 'string', value: 'TYPE', description: 'AES-256-GCM (default) or HMAC-SHA256' },
      alias: { type: 'string', value: 'ALIAS', description: 'a unique name to refer to it by (alias/<name>)' },
      description: { type: 'string', value: 'TEXT', description: 'free text' },
      label: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'a label (repeatable)' },
      activate: { type: 'boolean', description: 'activate at once' },
      'activation-date': { type: 'string', value: 'ISO', description: 'activate on this date (the server enforces it)' },
      'deactivation-date': { type: 'string', value: 'ISO', description: 'deactivate on this date (the end of its cryptoperiod)' },
      exportable: { type: 'boolean', description: 'may be exported (under dual control)' },
    },
    async run({ values, target }) {
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
      const answer = await expectOk(target(), 'POST', '/v1/keys', { body });
      output(values, answer.json, commandResult('created'));
    },
  },
  activate: lifecycle('activate', 'Activate a PreActive key', 'activated'),
  rotate: lifecycle('rotate', 'Add a new version; old versions keep decrypting', 'rotated'),
  deactivate: lifecycle('deactivate', 'Deactivate a key: it then only decrypts and verifies', 'deactivated'),
  compromise: lifecycle(
    'compromise',
    'Mark a key compromised',
    'compromised',
    (v) => {
      if (!v.reason) throw new UsageError('--reason is required');
      return { reason: v.reason, ...(v.date ? { compromiseDate: v.date } : {}) };
    },
    {
      reason: { type: 'string', value: 'TEXT', description: 'why (required)' },
      date: { type: 'string', value: 'ISO', description: 'when the compromise happened (default now)' },
    },
  ),
  'schedule-destruction': lifecycle(
    'schedule-destruction',
    'Schedule destruction after a waiting period (dual-controlled)',
    'destruction scheduled',
    (v) => (v.days === undefined ? {} : { waitingPeriodDays: wholeNumber('days', v.days, { min: 1 }) }),
    { days: { type: 'string', value: 'N', description: 'waiting period in days (default 7)' } },
  ),
  'cancel-destruction': lifecycle('cancel-destruction', 'Cancel a scheduled destruction', 'destruction cancelled'),
  'set-alias': {
    summary: 'Give a key a (new) alias',
    args: '<key> <alias>',
    async run({ values, positionals, target }) {
      const answer = await expectOk(target(), 'PUT', `/v1/keys/${keyPath(positionals[0])}/alias`, { body: { alias: positionals[1] } });
      output(values, answer.json, commandResult('alias set'));
    },
  },
  update: {
    summary: 'Change the description and labels of a key',
    args: '<key>',
    options: {
      description: { type: 'string', value: 'TEXT', description: 'the new description' },
      label: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'set a label (repeatable)' },
      'remove-label': { type: 'string', multiple: true, value: 'NAME', description: 'remove a label (repeatable)' },
    },
    async run({ values, positionals, target }) {
      const set = labels(values.label);
      for (const name of values['remove-label'] ?? []) set[name] = null;
      const body = {
        ...(values.description === undefined ? {} : { description: values.description }),
        ...(Object.keys(set).length > 0 ? { labels: set } : {}),
      };
      if (Object.keys(body).length === 0) throw new UsageError('give --description, --label or --remove-label');
      const answer = await expectOk(target(), 'PATCH', `/v1/keys/${keyPath(positionals[0])}`, { body });
      output(values, answer.json, commandResult('updated'));
    },
  },
  'min-decryption-version': {
    summary: 'Retire old versions: ciphertexts of versions below this no longer decrypt (lowering it is dual-controlled)',
    args: '<key> <version>',
    async run({ values, positionals, target }) {
      const version = wholeNumber('version', positionals[1], { min: 1 });
      const answer = await expectOk(target(), 'PUT', `/v1/keys/${keyPath(positionals[0])}/min-decryption-version`, { body: { version } });
      output(values, answer.json, commandResult('minimum decryption version set'));
    },
  },
};

export const run = (args) => runGroup('keys', summary, verbs, args);
