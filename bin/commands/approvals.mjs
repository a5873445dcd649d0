// keyward approvals: dual-control requests (destruction, policy, admins, offboarding ...).
import { expectOk, output, query, runGroup, table } from './lib/cli.mjs';

export const summary =
  'Dual-control requests: list, show, approve, reject (tenant-admin; list and show also auditor; provider-admin with --tenant)';

const tenantOption = { tenant: { type: 'string', value: 'TENANT', description: 'provider-admins: the tenant whose requests these are' } };

const describe = (a) =>
  [
    `${a.approvalId}  ${a.operation}  ${a.status}`,
    `requested:  ${a.requestedAt} by ${a.requestedBy.principalId} (${a.requestedBy.role}); expires ${a.expiresAt}`,
    `approvals:  ${a.approvals} of ${a.quorum}${a.approvedBy.length > 0 ? ` (approved by ${a.approvedBy.map((p) => p.principalId).join(', ')})` : ''}`,
    `command:    ${JSON.stringify(a.command)}`,
    ...(a.closedAt ? [`closed:     ${a.closedAt}${a.outcome ? ` — ${a.outcome}` : ''}`] : []),
  ].join('\n');

/** An enrollment token as it is handed over: the new principal redeems it for its own API key. */
const enrollmentText = (e) =>
  `  ${e.token}\n(expires ${e.expiresAt}${e.publicKeyFingerprint ? `; its API key will be wrapped under public key ${e.publicKeyFingerprint}` : ''}). The new principal runs: keyward enroll redeem --token <token>`;

const decided = (r) =>
  `${describe(r.approval)}${r.issued ? `\nThe new principal ${r.issued.principalId}; hand it this one-time enrollment token:\n${enrollmentText(r.issued.enrollment)}` : ''}`;

const verbs = {
  list: {
    summary: 'List approval requests, newest first',
    options: {
      status: { type: 'string', value: 'STATUS', description: 'Pending, Executed, Failed, Rejected or Expired' },
      ...tenantOption,
    },
    async run({ values, target }) {
      const answer = await expectOk(target(), 'GET', `/v1/approvals${query({ status: values.status, tenantId: values.tenant })}`);
      const columns = [
        ['approval', (a) => a.approvalId],
        ['operation', (a) => a.operation],
        ['status', (a) => a.status],
        ['approvals', (a) => `${a.approvals}/${a.quorum}`],
        ['requested by', (a) => a.requestedBy.principalId],
        ['expires', (a) => a.expiresAt],
      ];
      output(values, answer.json, (r) => table(r.items, columns));
    },
  },
  get: {
    summary: 'Show one approval request',
    args: '<approvalId>',
    options: tenantOption,
    async run({ values, positionals, target }) {
      const answer = await expectOk(
        target(),
        'GET',
        `/v1/approvals/${encodeURIComponent(positionals[0])}${query({ tenantId: values.tenant })}`,
      );
      output(values, answer.json, describe);
    },
  },
  approve: {
    summary: "Approve someone else's request; at its quorum the command runs, exactly once",
    args: '<approvalId>',
    options: tenantOption,
    async run({ values, positionals, target }) {
      const path = `/v1/approvals/${encodeURIComponent(positionals[0])}/approve${query({ tenantId: values.tenant })}`;
      output(values, (await expectOk(target(), 'POST', path)).json, decided);
    },
  },
  reject: {
    summary: 'Reject a request (or, as its requester, withdraw it)',
    args: '<approvalId>',
    options: { reason: { type: 'string', value: 'TEXT', description: 'why (recorded in the event)' }, ...tenantOption },
    async run({ values, positionals, target }) {
      const path = `/v1/approvals/${encodeURIComponent(positionals[0])}/reject${query({ tenantId: values.tenant })}`;
      output(values, (await expectOk(target(), 'POST', path, { body: values.reason ? { reason: values.reason } : {} })).json, decided);
    },
  },
};

export const run = (args) => runGroup('approvals', summary, verbs, args);
