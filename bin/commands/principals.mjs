// keyward principals: the tenant's principals (API keys) and their roles.
import { expectOk, output, pages, runGroup, table, UsageError } from './lib/cli.mjs';

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
    summary: 'Create a principal with a role; prints its API key, once (a third tenant-admin needs an approval)',
    options: {
      name: { type: 'string', value: 'NAME', description: 'its name (required)' },
      role: { type: 'string', value: 'ROLE', description: `${ROLES.join(', ')} (required)` },
    },
    async run({ values, target }) {
      if (!values.name) throw new UsageError('--name is required');
      if (!ROLES.includes(values.role)) throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
      const answer = await expectOk(target(), 'POST', '/v1/principals', { body: { name: values.name, role: values.role } });
      output(values, answer.json, (r) =>
        r.pendingApproval
          ? `Pending approval ${r.pendingApproval.approvalId}: the approver who completes it receives the API key.`
          : `Principal ${r.principalId} (${r.name}, ${r.role}) created (seq ${r.seq}); its API key, shown once:\n  ${r.apiKey}`,
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
