// keyward grants: which key-user may do what with which keys, under which conditions (docs/security.md, "Grants"); over the SDK's typed client.
import { defineGroup, UsageError } from '@keyward/cli-kit';
import type { Operation, SuccessOf } from '@keyward/sdk';
import { apiVerb } from '../api/api-verb';
import { withClient } from '../api/sdk-client';
import { show, table, type Column } from '../output';
import type { PendingApproval } from './shared';

export const summary = 'Grants of key-users on keys: list (tenant-admin, auditor; a key-user its own), create, revoke (tenant-admin)';

/** The operations a grant may allow, as key-api names them (libs/domain's GRANT_OPERATIONS). */
const OPERATIONS = ['encrypt', 'decrypt', 'data-key', 'rewrap', 'mac', 'verify-mac', 'sign', 'verify', 'export', 'read'] as const;
type GrantOperation = (typeof OPERATIONS)[number];

type CreateBody = Operation<'/v1/grants', 'post'>['requestBody'];
type Grant = SuccessOf<Operation<'/v1/grants/{id}', 'get'>>;
type GrantList = SuccessOf<Operation<'/v1/grants', 'get'>>;
/** What a create answers: the grant, or (under dual control, 202) the approval request it became. */
interface Created {
  readonly seq: number;
  readonly grant?: Grant;
  readonly pendingApproval?: PendingApproval;
}

/** name=value pairs (repeatable options) as an object; `what` names the option in errors. */
function pairs(list: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--${what} takes name=value, not "${item}"`);
    out[item.slice(0, at)] = item.slice(at + 1);
  }
  return out;
}

/** A comma-separated list, trimmed, without empty items. */
const listOf = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function operationsOf(text: string | undefined): GrantOperation[] {
  if (text === undefined || listOf(text).length === 0)
    throw new UsageError(`--operations is required (comma-separated: ${OPERATIONS.join(', ')})`);
  const ops = listOf(text);
  const unknown = ops.filter((op) => !(OPERATIONS as readonly string[]).includes(op));
  if (unknown.length > 0) throw new UsageError(`unknown operation(s) ${unknown.join(', ')}: one of ${OPERATIONS.join(', ')}`);
  return ops as GrantOperation[];
}

/** The key selector: exactly one of --key (repeatable), --alias-prefix, --label (repeatable, all must match), --owned. */
function selectorOf(values: {
  readonly key?: readonly string[];
  readonly 'alias-prefix'?: string;
  readonly label?: readonly string[];
  readonly owned?: boolean;
}): CreateBody['keys'] {
  const { key, label, owned } = values;
  const aliasPrefix = values['alias-prefix'];
  const given = [(key?.length ?? 0) > 0, aliasPrefix !== undefined, (label?.length ?? 0) > 0, owned === true].filter(Boolean);
  if (given.length !== 1) throw new UsageError('name the keys with exactly one of --key, --alias-prefix, --label or --owned');
  if (key !== undefined && key.length > 0) return { ids: key.flatMap(listOf) };
  if (aliasPrefix !== undefined) return { aliasPrefix };
  if (owned === true) return { owned: true };
  return { labels: pairs(label ?? [], 'label') };
}

/** A selector or conditions object as one short cell. */
function describeKeys(keys: Grant['keys']): string {
  if (Array.isArray(keys.ids)) return `ids ${(keys.ids as string[]).join(',')}`;
  if (typeof keys.aliasPrefix === 'string') return `alias ${keys.aliasPrefix}*`;
  if (keys.owned === true) return 'owned';
  const labels = (keys.labels ?? {}) as Record<string, string>;
  return `labels ${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}`;
}
function describeConditions(conditions: Grant['conditions']): string {
  const parts: string[] = [];
  const context = conditions.encryptionContext as Record<string, string> | undefined;
  if (context !== undefined)
    parts.push(
      `context ${Object.entries(context)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    );
  if (typeof conditions.aad === 'string') parts.push('aad (exact)');
  if (typeof conditions.notBefore === 'string') parts.push(`from ${conditions.notBefore}`);
  if (typeof conditions.notAfter === 'string') parts.push(`until ${conditions.notAfter}`);
  if (conditions.certificateBound === true) parts.push('certificate-bound');
  return parts.join('; ');
}

const columns: readonly Column<Grant>[] = [
  ['grant', (g) => g.grantId],
  ['principal', (g) => g.principalId],
  ['operations', (g) => g.operations.join(',')],
  ['keys', (g) => describeKeys(g.keys)],
  ['conditions', (g) => describeConditions(g.conditions)],
  ['created', (g) => g.createdAt],
  ['revoked', (g) => g.revokedAt ?? ''],
];

export const grants = defineGroup({
  summary,
  commands: {
    list: apiVerb({
      summary: "List the tenant's grants, oldest first, and the tenant's grant mode (required or open)",
      options: {
        principal: { type: 'string', value: 'PRINCIPAL', description: 'only the grants of this principal' },
        key: { type: 'string', value: 'KEY', description: 'only the grants that cover this key id (as the key is now)' },
        revoked: { type: 'boolean', description: 'include revoked grants' },
      },
      async run({ values, target, inv }) {
        const query = {
          ...(values.principal === undefined ? {} : { principalId: values.principal }),
          ...(values.key === undefined ? {} : { keyId: values.key }),
          revoked: values.revoked === true ? ('include' as const) : ('exclude' as const),
        };
        const answer: GrantList = await withClient(target(), (client) => client.request('get', '/v1/grants', { query }));
        show(inv, values.json, answer, (r) => `Grant mode: ${r.mode}\n${table(r.items, columns)}`);
      },
    }),
    create: apiVerb({
      summary:
        'Grant a key-user (or kmip-client) operations on keys, optionally under conditions (under dual control when the tenant policy lists grant.create)',
      details:
        'Name the keys with exactly one of --key (ids; repeatable or comma-separated), --alias-prefix, --label (repeatable; a key must carry all), ' +
        'or --owned (a kmip-client: the keys it owns; its standing ownership grant grtown_… can be revoked and replaced by a narrower one). ' +
        'Conditions, all of which must hold: --context (the AAD is a JSON object holding each entry), --aad (the AAD is exactly these bytes), ' +
        '--not-before / --not-after (ISO-8601), --certificate-bound.',
      options: {
        principal: { type: 'string', value: 'PRINCIPAL', description: 'the key-user or kmip-client principal (required)' },
        operations: { type: 'string', value: 'OPS', description: `comma-separated, of ${OPERATIONS.join(', ')} (required)` },
        key: { type: 'string', multiple: true, value: 'KEY', description: 'a key id (repeatable, or comma-separated)' },
        'alias-prefix': { type: 'string', value: 'PREFIX', description: 'every key whose alias starts with it' },
        label: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'every key with this label (repeatable: all)' },
        owned: { type: 'boolean', description: 'every key the principal owns (a kmip-client: to narrow its standing ownership grant)' },
        context: { type: 'string', multiple: true, value: 'NAME=VALUE', description: 'a required encryption context entry (repeatable)' },
        aad: { type: 'string', value: 'TEXT', description: 'the exact AAD required (UTF-8; sent base64)' },
        'not-before': { type: 'string', value: 'ISO', description: 'in force from this instant' },
        'not-after': { type: 'string', value: 'ISO', description: 'in force until this instant (exclusive)' },
        'certificate-bound': { type: 'boolean', description: 'only while the principal is bound to a client certificate' },
      },
      async run({ values, target, inv }) {
        if (!values.principal) throw new UsageError('--principal is required');
        const conditions: NonNullable<CreateBody['conditions']> = {
          ...(values.context?.length ? { encryptionContext: pairs(values.context, 'context') } : {}),
          ...(values.aad === undefined ? {} : { aad: Buffer.from(values.aad, 'utf8').toString('base64') }),
          ...(values['not-before'] === undefined ? {} : { notBefore: values['not-before'] }),
          ...(values['not-after'] === undefined ? {} : { notAfter: values['not-after'] }),
          ...(values['certificate-bound'] === true ? { certificateBound: true as const } : {}),
        };
        const body: CreateBody = {
          principalId: values.principal,
          operations: operationsOf(values.operations),
          keys: selectorOf(values),
          ...(Object.keys(conditions).length > 0 ? { conditions } : {}),
        };
        const answer: Created = await withClient(target(), (client) => client.request('post', '/v1/grants', { body }));
        show(inv, values.json, answer, (r) =>
          r.pendingApproval !== undefined
            ? `Pending approval ${r.pendingApproval.approvalId} for grant.create: ${r.pendingApproval.quorum - r.pendingApproval.approvals} more approval(s) needed (keyward approvals approve ${r.pendingApproval.approvalId})`
            : `Grant ${r.grant?.grantId} created (seq ${r.seq}): ${r.grant?.principalId} may ${r.grant?.operations.join(', ')} on ${r.grant ? describeKeys(r.grant.keys) : ''}.`,
        );
      },
    }),
    revoke: apiVerb({
      summary: 'Revoke a grant: every key-api and kmip instance refuses its next use once it hears of the commit',
      args: '<grantId>',
      async run({ values, positionals, target, inv }) {
        const id = positionals[0];
        if (id === undefined || id === '') throw new UsageError('name the grant: keyward grants revoke <grantId>');
        const answer = await withClient(target(), (client) => client.request('delete', '/v1/grants/{id}', { path: { id } }));
        show(inv, values.json, answer, (r) => `Grant ${id} revoked (seq ${r.seq}).`);
      },
    }),
  },
});
