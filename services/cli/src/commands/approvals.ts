// keyward approvals: dual-control requests (destruction, policy, admins, offboarding ...).
import { defineGroup } from '@keyward/cli-kit';
import { apiVerb } from '../api/api-verb';
import { expectOk, query } from '../api/client';
import { show, table, type Column } from '../output';
import { enrollmentText, type Actor, type Enrollment } from './shared';

export const summary =
  'Dual-control requests: list, show, approve, reject (tenant-admin; list and show also auditor; provider-admin with --tenant)';

interface Approval {
  readonly approvalId: string;
  readonly operation: string;
  readonly status: string;
  readonly requestedAt: string;
  readonly requestedBy: Actor;
  readonly expiresAt: string;
  readonly approvals: number;
  readonly quorum: number;
  readonly approvedBy: readonly Actor[];
  readonly command: unknown;
  readonly closedAt?: string | null;
  readonly outcome?: string | null;
}

interface Decision {
  readonly approval: Approval;
  readonly issued?: { readonly principalId: string; readonly enrollment: Enrollment };
}

const tenantOption = {
  tenant: { type: 'string', value: 'TENANT', description: 'provider-admins: the tenant whose requests these are' },
} as const;

const describe = (a: Approval): string =>
  [
    `${a.approvalId}  ${a.operation}  ${a.status}`,
    `requested:  ${a.requestedAt} by ${a.requestedBy.principalId} (${a.requestedBy.role}); expires ${a.expiresAt}`,
    `approvals:  ${a.approvals} of ${a.quorum}${a.approvedBy.length > 0 ? ` (approved by ${a.approvedBy.map((p) => p.principalId).join(', ')})` : ''}`,
    `command:    ${JSON.stringify(a.command)}`,
    ...(a.closedAt ? [`closed:     ${a.closedAt}${a.outcome ? ` — ${a.outcome}` : ''}`] : []),
  ].join('\n');

const decided = (r: Decision): string =>
  `${describe(r.approval)}${r.issued ? `\nThe new principal ${r.issued.principalId}; hand it this one-time enrollment token:\n${enrollmentText(r.issued.enrollment)}` : ''}`;

const columns: readonly Column<Approval>[] = [
  ['approval', (a) => a.approvalId],
  ['operation', (a) => a.operation],
  ['status', (a) => a.status],
  ['approvals', (a) => `${a.approvals}/${a.quorum}`],
  ['requested by', (a) => a.requestedBy.principalId],
  ['expires', (a) => a.expiresAt],
];

const approvalPath = (id: string | undefined, action: string, tenant: string | undefined): string =>
  `/v1/approvals/${encodeURIComponent(id ?? '')}${action}${query({ tenantId: tenant })}`;

export const approvals = defineGroup({
  summary,
  commands: {
    list: apiVerb({
      summary: 'List approval requests, newest first',
      options: {
        status: { type: 'string', value: 'STATUS', description: 'Pending, Executed, Failed, Rejected or Expired' },
        ...tenantOption,
      },
      async run({ values, target, inv }) {
        const answer = await expectOk<{ items: Approval[] }>(
          target(),
          'GET',
          `/v1/approvals${query({ status: values.status, tenantId: values.tenant })}`,
        );
        show(inv, values.json, answer, (r) => table(r.items, columns));
      },
    }),
    get: apiVerb({
      summary: 'Show one approval request',
      args: '<approvalId>',
      options: tenantOption,
      async run({ values, positionals, target, inv }) {
        show(inv, values.json, await expectOk<Approval>(target(), 'GET', approvalPath(positionals[0], '', values.tenant)), describe);
      },
    }),
    approve: apiVerb({
      summary: "Approve someone else's request; at its quorum the command runs, exactly once",
      args: '<approvalId>',
      options: tenantOption,
      async run({ values, positionals, target, inv }) {
        show(
          inv,
          values.json,
          await expectOk<Decision>(target(), 'POST', approvalPath(positionals[0], '/approve', values.tenant)),
          decided,
        );
      },
    }),
    reject: apiVerb({
      summary: 'Reject a request (or, as its requester, withdraw it)',
      args: '<approvalId>',
      options: { reason: { type: 'string', value: 'TEXT', description: 'why (recorded in the event)' }, ...tenantOption },
      async run({ values, positionals, target, inv }) {
        const body = values.reason ? { reason: values.reason } : {};
        show(
          inv,
          values.json,
          await expectOk<Decision>(target(), 'POST', approvalPath(positionals[0], '/reject', values.tenant), { body }),
          decided,
        );
      },
    }),
  },
});
