// keyward principals: the tenant's principals and their roles; new ones enroll themselves (keyward enroll).
import { readFileSync } from 'node:fs';
import { defineGroup, UsageError } from '@keyward/cli-kit';
import { apiVerb } from '../api/api-verb';
import { expectOk, query } from '../api/client';
import { listVerb } from '../api/list-verb';
import { show, type Column } from '../output';
import { enrollmentText, type Enrollment, type PendingApproval } from './shared';

export const summary =
  'Principals of the tenant: list, create (answers an enrollment token), reissue its token, revoke (tenant-admin; list also auditor)';

const ROLES = ['tenant-admin', 'key-user', 'auditor', 'kmip-client'];

interface Principal {
  readonly principalId: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: string;
  readonly revokedAt?: string | null;
}

interface Issued {
  readonly pendingApproval?: PendingApproval;
  readonly principalId: string;
  readonly name: string;
  readonly role: string;
  readonly seq: number;
  readonly enrollment: Enrollment;
}

const columns: readonly Column<Principal>[] = [
  ['principal', (p) => p.principalId],
  ['name', (p) => p.name],
  ['role', (p) => p.role],
  ['created', (p) => p.createdAt],
  ['revoked', (p) => p.revokedAt ?? ''],
];

const enrollmentBody = (publicKeyFile: string | undefined): object =>
  publicKeyFile ? { enrollment: { publicKey: readFileSync(publicKeyFile, 'utf8') } } : {};

export const principals = defineGroup({
  summary,
  commands: {
    list: listVerb({ summary: 'List the principals of the tenant', path: '/v1/principals', limit: '1-200, default 50', columns }),
    create: apiVerb({
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
      async run({ values, target, inv }) {
        if (!values.name) throw new UsageError('--name is required');
        if (values.role === undefined || !ROLES.includes(values.role)) throw new UsageError(`--role is one of ${ROLES.join(', ')}`);
        const body = { name: values.name, role: values.role, ...enrollmentBody(values['public-key']) };
        show(inv, values.json, await expectOk<Issued>(target(), 'POST', '/v1/principals', { body }), (r) =>
          r.pendingApproval
            ? `Pending approval ${r.pendingApproval.approvalId}: the approver who completes it receives the enrollment token.`
            : `Principal ${r.principalId} (${r.name}, ${r.role}) created (seq ${r.seq}); hand it this one-time enrollment token:\n${enrollmentText(r.enrollment)}`,
        );
      },
    }),
    reissue: apiVerb({
      summary: 'A new enrollment token for a principal that never enrolled (the old one stops working; for an admin: an approval)',
      args: '<principalId>',
      options: {
        'public-key': { type: 'string', value: 'FILE', description: 'a new public key to wrap its API key under' },
        tenant: { type: 'string', value: 'TENANT', description: 'provider-admins: the tenant of a first tenant-admin that never enrolled' },
      },
      async run({ values, positionals, target, inv }) {
        const path = `/v1/principals/${encodeURIComponent(positionals[0] ?? '')}/enrollment${query({ tenantId: values.tenant })}`;
        show(inv, values.json, await expectOk<Issued>(target(), 'POST', path, { body: enrollmentBody(values['public-key']) }), (r) =>
          r.pendingApproval
            ? `Pending approval ${r.pendingApproval.approvalId}; once approved, this token works:\n${enrollmentText(r.enrollment)}`
            : `New enrollment token for ${r.principalId} (seq ${r.seq}):\n${enrollmentText(r.enrollment)}`,
        );
      },
    }),
    revoke: apiVerb({
      summary: 'Revoke a principal: its API keys stop working at once',
      args: '<principalId>',
      async run({ values, positionals, target, inv }) {
        const id = positionals[0] ?? '';
        const answer = await expectOk<{ pendingApproval?: PendingApproval; seq: number }>(
          target(),
          'DELETE',
          `/v1/principals/${encodeURIComponent(id)}`,
        );
        show(inv, values.json, answer, (r) =>
          r.pendingApproval ? `Pending approval ${r.pendingApproval.approvalId}.` : `Principal ${id} revoked (seq ${r.seq}).`,
        );
      },
    }),
  },
});
