// keyward principals: the tenant's principals and their roles; new ones enroll themselves (keyward enroll).
import { readFileSync } from 'node:fs';
import { expectOk, output, pages, query, runGroup, table, UsageError } from './lib/cli.mjs';

/** An enrollment token as it is handed over: the new principal redeems it for its own API key. */
const enrollmentText = (e) =>
  `  ${e.token}\n(expires ${e.expiresAt}${e.publicKeyFingerprint ? `; its API key will be wrapped under public key ${e.publicKeyFingerprint}` : ''}). The new principal runs: keyward enroll redeem --token <token>`;

export const summary = 'Principals (API keys) of the tenant: list, create, revoke (tenant-admin; list also auditor)';

const ROLES = ['tenant-admin', 'key-user', 'auditor'];

const verbs = {
  list: {
    summary: 'List the principals of the tenant',
    options: {
      limit: { type: 'string', value: 'N', description: 'items per page (1-200, default 50)' },
      cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
      all: { type: 'boolean', description: 'follow every page' },
    },
    async run({ values, target }) {
      const page = await pages(target(), '/v1/principals', { limit: values.limit, cursor: values.cursor }, values.all);
      const columns = [
        ['principal', (p) => p.principalId],
        ['name', (p) => p.name],
        ['role', (p) => p.role],
        ['created', (p) => p.createdAt],
        ['revoked', (p) => p.revokedAt ?? ''],
      ];
      output(values, page, (p) => `${table(p.items, columns)}${p.nextCursor ? `\n(more: --cursor ${p.nextCursor}, or --all)` : ''}`);
    },
  },
  create: {
    summary:
      'Create a principal with a role; prints its one-time enrollment token (the principal redeems it for its own API key; a third tenant-admin needs an approval)',
    options: {
      name: { type: 'string', value: 'NAME', description: 'its name (required)' },
      role: { type: 'string', value: 'ROLE', description: `${ROLES.join(', ')} (required)` },
      'public-key': {
        type: 'string',
        value: 'FILE',
        description: "the new principal's public key (keyward enroll keygen): its API key is wrapped under it",
      },
    },
    async run({ values, target }) {
      if (!values.name) throw new UsageError('--name is required');
      if (!ROLES.includes(values.role)) throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
      const enrollment = values['public-key'] ? { enrollment: { publicKey: readFileSync(values['public-key'], 'utf8') } } : {};
      const answer = await expectOk(target(), 'POST', '/v1/principals', { body: { name: values.name, role: values.role, ...enrollment } });
      output(values, answer.json, (r) =>
        r.pendingApproval
          ? `Pending approval ${r.pendingApproval.approvalId}: the approver who completes it receives the enrollment token.`
          : `Principal ${r.principalId} (${r.name}, ${r.role}) created (seq ${r.seq}); hand it this one-time enrollment token:\n${enrollmentText(r.enrollment)}`,
      );
    },
  },
  reissue: {
    summary: 'A new enrollment token for a principal that never enrolled (the old one stops working; for an admin: an approval)',
    args: '<principalId>',
    options: {
      'public-key': { type: 'string', value: 'FILE', description: 'a new public key to wrap its API key under' },
      tenant: { type: 'string', value: 'TENANT', description: 'provider-admins: the tenant of a first tenant-admin that never enrolled' },
    },
    async run({ values, positionals, target }) {
      const body = values['public-key'] ? { enrollment: { publicKey: readFileSync(values['public-key'], 'utf8') } } : {};
      const path = `/v1/principals/${encodeURIComponent(positionals[0])}/enrollment${query({ tenantId: values.tenant })}`;
      const answer = await expectOk(target(), 'POST', path, { body });
      output(values, answer.json, (r) =>
        r.pendingApproval
          ? `Pending approval ${r.pendingApproval.approvalId}; once approved, this token works:\n${enrollmentText(r.enrollment)}`
          : `New enrollment token for ${r.principalId} (seq ${r.seq}):\n${enrollmentText(r.enrollment)}`,
      );
    },
  },
  revoke: {
    summary: 'Revoke a principal: its API keys stop working at once',
    args: '<principalId>',
    async run({ values, positionals, target }) {
      const answer = await expectOk(target(), 'DELETE', `/v1/principals/${encodeURIComponent(positionals[0])}`);
      output(values, answer.json, (r) =>
        r.pendingApproval ? `Pending approval ${r.pendingApproval.approvalId}.` : `Principal ${positionals[0]} revoked (seq ${r.seq}).`,
      );
    },
  },
};

export const run = (args) => runGroup('principals', summary, verbs, args);
