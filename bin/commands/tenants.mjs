// keyward tenants: the provider's view of tenants, and a tenant's own summary and policy.
import { readFileSync } from 'node:fs';
import { expectOk, output, pages, runGroup, table, UsageError, wholeNumber } from './lib/cli.mjs';

export const summary = 'Tenants: list, show, onboard, suspend, resume, offboard (provider-admin); the own tenant and its policy';

const tenantColumns = [
  ['tenant', (t) => t.tenantId],
  ['name', (t) => t.name],
  ['status', (t) => t.status],
  ['keys', (t) => t.keyCount],
  ['principals', (t) => t.principalCount],
  ['onboarded', (t) => t.onboardedAt],
];

const describeTenant = (t) =>
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

const commandResult = (r) =>
  r.pendingApproval
    ? `Pending approval ${r.pendingApproval.approvalId}: ${r.pendingApproval.quorum - r.pendingApproval.approvals} more approval(s) needed (keyward approvals approve ${r.pendingApproval.approvalId})`
    : `Tenant ${r.tenantId} is ${r.status} (seq ${r.seq}).`;

const listOptions = {
  limit: { type: 'string', value: 'N', description: 'items per page (1-200, default 50)' },
  cursor: { type: 'string', value: 'CURSOR', description: 'nextCursor of a previous page' },
  all: { type: 'boolean', description: 'follow every page' },
};

const verbs = {
  list: {
    summary: 'List the tenants (provider-admin)',
    options: listOptions,
    async run({ values, target }) {
      const page = await pages(target(), '/v1/tenants', { limit: values.limit, cursor: values.cursor }, values.all);
      output(values, page, (p) => `${table(p.items, tenantColumns)}${p.nextCursor ? `\n(more: --cursor ${p.nextCursor}, or --all)` : ''}`);
    },
  },
  get: {
    summary: 'Show a tenant: status, key counts by state (provider-admin)',
    args: '<tenantId>',
    async run({ values, positionals, target }) {
      const answer = await expectOk(target(), 'GET', `/v1/tenants/${encodeURIComponent(positionals[0])}`);
      output(values, answer.json, describeTenant);
    },
  },
  onboard: {
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
    async run({ values, target }) {
      if (!values.name) throw new UsageError('--name is required');
      const body = {
        name: values.name,
        ...(values['admin-name'] ? { adminName: values['admin-name'] } : {}),
        ...(values['admin-public-key'] ? { adminEnrollment: { publicKey: readFileSync(values['admin-public-key'], 'utf8') } } : {}),
      };
      const answer = await expectOk(target(), 'POST', '/v1/tenants', { body });
      output(
        values,
        answer.json,
        (r) =>
          `Tenant ${r.tenantId} (${r.name}) onboarded (seq ${r.seq}).\nFirst tenant-admin ${r.admin.principalId}; hand it this one-time enrollment token (it redeems it with "keyward enroll redeem --token <token>"):\n  ${r.admin.enrollment.token}\n(expires ${r.admin.enrollment.expiresAt})`,
      );
    },
  },
  suspend: {
    summary: 'Suspend a tenant: its keys stop working until resumed (provider-admin)',
    args: '<tenantId>',
    options: { reason: { type: 'string', value: 'TEXT', description: 'why (recorded in the event)' } },
    async run({ values, positionals, target }) {
      const body = values.reason ? { reason: values.reason } : {};
      const answer = await expectOk(target(), 'POST', `/v1/tenants/${encodeURIComponent(positionals[0])}/suspend`, { body });
      output(values, answer.json, commandResult);
    },
  },
  resume: {
    summary: 'Resume a suspended tenant (provider-admin)',
    args: '<tenantId>',
    async run({ values, positionals, target }) {
      const answer = await expectOk(target(), 'POST', `/v1/tenants/${encodeURIComponent(positionals[0])}/resume`, { body: {} });
      output(values, answer.json, commandResult);
    },
  },
  offboard: {
    summary: 'Offboard a tenant for good: its KEK and all key material are destroyed (provider-admin)',
    args: '<tenantId>',
    options: { confirm: { type: 'string', value: 'TENANT', description: 'the tenant id again, to confirm (required)' } },
    async run({ values, positionals, target }) {
      if (values.confirm !== positionals[0]) throw new UsageError('--confirm must repeat the tenant id');
      const answer = await expectOk(target(), 'POST', `/v1/tenants/${encodeURIComponent(positionals[0])}/offboard`, {
        body: { confirm: values.confirm },
      });
      output(values, answer.json, commandResult);
    },
  },
  current: {
    summary: "Show the caller's own tenant, with its dual-control quorum (tenant-admin, auditor)",
    async run({ values, target }) {
      const answer = await expectOk(target(), 'GET', '/v1/tenant');
      output(values, answer.json, describeTenant);
    },
  },
  policy: {
    summary: "Show the caller's tenant policy, or change it (tenant-admin; may need a second admin's approval)",
    options: {
      'allow-compromised-decrypt': { type: 'string', value: 'on|off', description: 'let Compromised keys still decrypt and verify' },
      quorum: { type: 'string', value: 'N|auto', description: 'people needed in all for sensitive operations (auto: 2 with two admins)' },
    },
    async run({ values, target }) {
      const t = target();
      const body = {};
      const allow = values['allow-compromised-decrypt'];
      if (allow !== undefined) {
        if (allow !== 'on' && allow !== 'off') throw new UsageError('--allow-compromised-decrypt is on or off');
        body.allowCompromisedDecrypt = allow === 'on';
      }
      if (values.quorum !== undefined) {
        const current = (await expectOk(t, 'GET', '/v1/tenant/policy')).json;
        body.dualControl = {
          ...current.dualControl,
          quorum: values.quorum === 'auto' ? null : wholeNumber('quorum', values.quorum, { min: 1 }),
        };
      }
      const answer =
        Object.keys(body).length === 0
          ? await expectOk(t, 'GET', '/v1/tenant/policy')
          : await expectOk(t, 'PUT', '/v1/tenant/policy', { body });
      output(values, answer.json, (p) =>
        p.pendingApproval
          ? commandResult(p)
          : [
              `allowCompromisedDecrypt: ${p.allowCompromisedDecrypt}`,
              `dualControl: quorum ${p.dualControl.quorum ?? 'auto'}, operations ${p.dualControl.operations.join(', ')}`,
            ].join('\n'),
      );
    },
  },
};

export const run = (args) => runGroup('tenants', summary, verbs, args);
