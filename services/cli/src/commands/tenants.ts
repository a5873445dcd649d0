// keyward tenants: the provider's view of tenants, and a tenant's own summary and policy.
import { readFileSync } from 'node:fs';
import { defineGroup, UsageError, wholeNumber } from '@keyward/cli-kit';
import { apiVerb } from '../api/api-verb';
import { expectOk } from '../api/client';
import { listVerb } from '../api/list-verb';
import { show, type Column } from '../output';
import type { Enrollment, PendingApproval } from './shared';

export const summary = 'Tenants: list, show, onboard, suspend, resume, offboard (provider-admin); the own tenant and its policy';

interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly status: string;
  readonly keyCount: number;
  readonly principalCount: number;
  readonly onboardedAt: string;
  readonly updatedAt: string;
  readonly keysByState?: Readonly<Record<string, number>>;
  readonly dualControl?: { readonly quorum: number; readonly activeAdmins: number; readonly warning?: string };
}

interface TenantCommandResult {
  readonly pendingApproval?: PendingApproval;
  readonly tenantId: string;
  readonly status: string;
  readonly seq: number;
}

interface Policy {
  readonly pendingApproval?: PendingApproval;
  readonly allowCompromisedDecrypt: boolean;
  readonly dualControl: { readonly quorum: number | null; readonly operations: readonly string[] };
  readonly kmipDestroy?: string;
}

const tenantColumns: readonly Column<Tenant>[] = [
  ['tenant', (t) => t.tenantId],
  ['name', (t) => t.name],
  ['status', (t) => t.status],
  ['keys', (t) => t.keyCount],
  ['principals', (t) => t.principalCount],
  ['onboarded', (t) => t.onboardedAt],
];

const describeTenant = (t: Tenant): string =>
  [
    `${t.tenantId}  ${t.name}`,
    `status:      ${t.status} (since ${t.updatedAt})`,
    `onboarded:   ${t.onboardedAt}`,
    `keys:        ${t.keyCount}${
      t.keysByState
        ? `  ${Object.entries(t.keysByState)
            .filter(([, n]) => n > 0)
            .map(([s, n]) => `${s} ${n}`)
            .join(', ')}`
        : ''
    }`,
    `principals:  ${t.principalCount}`,
    ...(t.dualControl
      ? [
          `dual control: quorum ${t.dualControl.quorum}, ${t.dualControl.activeAdmins} active admin(s)${t.dualControl.warning ? ` — ${t.dualControl.warning}` : ''}`,
        ]
      : []),
  ].join('\n');

const pendingText = (p: PendingApproval): string =>
  `Pending approval ${p.approvalId}: ${p.quorum - p.approvals} more approval(s) needed (keyward approvals approve ${p.approvalId})`;

const commandResult = (r: TenantCommandResult): string =>
  r.pendingApproval ? pendingText(r.pendingApproval) : `Tenant ${r.tenantId} is ${r.status} (seq ${r.seq}).`;

const tenantPath = (tenantId: string | undefined, action = ''): string => `/v1/tenants/${encodeURIComponent(tenantId ?? '')}${action}`;

export const tenants = defineGroup({
  summary,
  commands: {
    list: listVerb({
      summary: 'List the tenants (provider-admin)',
      path: '/v1/tenants',
      limit: '1-200, default 50',
      columns: tenantColumns,
    }),
    get: apiVerb({
      summary: 'Show a tenant: status, key counts by state (provider-admin)',
      args: '<tenantId>',
      async run({ values, positionals, target, inv }) {
        show(inv, values.json, await expectOk<Tenant>(target(), 'GET', tenantPath(positionals[0])), describeTenant);
      },
    }),
    onboard: apiVerb({
      summary: "Onboard a tenant; prints its first tenant-admin's one-time enrollment token (never its API key) (provider-admin)",
      options: {
        name: { type: 'string', value: 'NAME', description: 'the tenant name (required)' },
        'admin-name': { type: 'string', value: 'NAME', description: 'name of the first tenant-admin principal (default admin)' },
        'admin-public-key': {
          type: 'string',
          value: 'FILE',
          description: "the first admin's public key (keyward enroll keygen): its API key is wrapped under it",
        },
      },
      async run({ values, target, inv }) {
        if (!values.name) throw new UsageError('--name is required');
        const body = {
          name: values.name,
          ...(values['admin-name'] ? { adminName: values['admin-name'] } : {}),
          ...(values['admin-public-key'] ? { adminEnrollment: { publicKey: readFileSync(values['admin-public-key'], 'utf8') } } : {}),
        };
        const answer = await expectOk<{
          tenantId: string;
          name: string;
          seq: number;
          admin: { principalId: string; enrollment: Enrollment };
        }>(target(), 'POST', '/v1/tenants', { body });
        show(
          inv,
          values.json,
          answer,
          (r) =>
            `Tenant ${r.tenantId} (${r.name}) onboarded (seq ${r.seq}).\nFirst tenant-admin ${r.admin.principalId}; hand it this one-time enrollment token (it redeems it with "keyward enroll redeem --token <token>"):\n  ${r.admin.enrollment.token}\n(expires ${r.admin.enrollment.expiresAt})`,
        );
      },
    }),
    suspend: apiVerb({
      summary: 'Suspend a tenant: its keys stop working until resumed (provider-admin)',
      args: '<tenantId>',
      options: { reason: { type: 'string', value: 'TEXT', description: 'why (recorded in the event)' } },
      async run({ values, positionals, target, inv }) {
        const body = values.reason ? { reason: values.reason } : {};
        show(
          inv,
          values.json,
          await expectOk<TenantCommandResult>(target(), 'POST', tenantPath(positionals[0], '/suspend'), { body }),
          commandResult,
        );
      },
    }),
    resume: apiVerb({
      summary: 'Resume a suspended tenant (provider-admin)',
      args: '<tenantId>',
      async run({ values, positionals, target, inv }) {
        show(
          inv,
          values.json,
          await expectOk<TenantCommandResult>(target(), 'POST', tenantPath(positionals[0], '/resume'), { body: {} }),
          commandResult,
        );
      },
    }),
    offboard: apiVerb({
      summary: 'Offboard a tenant for good: its KEK and all key material are destroyed (provider-admin)',
      args: '<tenantId>',
      options: { confirm: { type: 'string', value: 'TENANT', description: 'the tenant id again, to confirm (required)' } },
      async run({ values, positionals, target, inv }) {
        if (values.confirm !== positionals[0]) throw new UsageError('--confirm must repeat the tenant id');
        const answer = await expectOk<TenantCommandResult>(target(), 'POST', tenantPath(positionals[0], '/offboard'), {
          body: { confirm: values.confirm },
        });
        show(inv, values.json, answer, commandResult);
      },
    }),
    current: apiVerb({
      summary: "Show the caller's own tenant, with its dual-control quorum (tenant-admin, auditor)",
      async run({ values, target, inv }) {
        show(inv, values.json, await expectOk<Tenant>(target(), 'GET', '/v1/tenant'), describeTenant);
      },
    }),
    policy: apiVerb({
      summary: "Show the caller's tenant policy, or change it (tenant-admin; may need a second admin's approval)",
      options: {
        'allow-compromised-decrypt': { type: 'string', value: 'on|off', description: 'let Compromised keys still decrypt and verify' },
        quorum: { type: 'string', value: 'N|auto', description: 'people needed in all for sensitive operations (auto: 2 with two admins)' },
        'kmip-destroy': {
          type: 'string',
          value: 'pending|immediate-for-owner',
          description: 'KMIP Destroy of a revoked key by its kmip-client owner: pending (default) or at once',
        },
      },
      async run({ values, target, inv }) {
        const t = target();
        const body: { allowCompromisedDecrypt?: boolean; dualControl?: Policy['dualControl']; kmipDestroy?: string } = {};
        const kmipDestroy = values['kmip-destroy'];
        if (kmipDestroy !== undefined) {
          if (kmipDestroy !== 'pending' && kmipDestroy !== 'immediate-for-owner')
            throw new UsageError('--kmip-destroy is pending or immediate-for-owner');
          body.kmipDestroy = kmipDestroy;
        }
        const allow = values['allow-compromised-decrypt'];
        if (allow !== undefined) {
          if (allow !== 'on' && allow !== 'off') throw new UsageError('--allow-compromised-decrypt is on or off');
          body.allowCompromisedDecrypt = allow === 'on';
        }
        if (values.quorum !== undefined) {
          const current = await expectOk<Policy>(t, 'GET', '/v1/tenant/policy');
          body.dualControl = {
            ...current.dualControl,
            quorum: values.quorum === 'auto' ? null : wholeNumber('quorum', values.quorum, { min: 1 }),
          };
        }
        const answer =
          Object.keys(body).length === 0
            ? await expectOk<Policy>(t, 'GET', '/v1/tenant/policy')
            : await expectOk<Policy>(t, 'PUT', '/v1/tenant/policy', { body });
        show(inv, values.json, answer, (p) =>
          p.pendingApproval
            ? pendingText(p.pendingApproval)
            : [
                `allowCompromisedDecrypt: ${p.allowCompromisedDecrypt}`,
                `dualControl: quorum ${p.dualControl.quorum ?? 'auto'}, operations ${p.dualControl.operations.join(', ')}`,
                `kmipDestroy: ${p.kmipDestroy ?? 'pending'}`,
              ].join('\n'),
        );
      },
    }),
  },
});
