import type { KeyState } from '@keyward/domain';
import type { AuditEvent } from '@keyward/event-log';
import type { ReportData } from './audit.service';
import { describeEvent, escapeHtml, renderReport } from './html-report';

const EVIL = `<script>alert("x")</script><img src=x onerror='y'>&\``;
const actor = { principalId: 'prn_admin0001', role: 'tenant-admin' as const };
const event = (seq: number, type: string, data: Record<string, unknown>): AuditEvent => ({
  tenantId: 'tnt_report01',
  seq,
  index: 0,
  type,
  actor,
  at: `2030-01-01T00:00:0${seq}.000Z`,
  correlationId: 'req-1',
  commitHash: 'ab'.repeat(32),
  data,
});
const key: KeyState = {
  keyId: 'key_aaaaaaaaaa',
  keyType: 'AES-256-GCM',
  state: 'Deactivated',
  alias: EVIL,
  description: EVIL,
  labels: { team: EVIL },
  exportable: false,
  exportEnabled: false,
  versions: [{ version: 1, kcv: 'aaaa', createdAt: '2030-01-01T00:00:01.000Z', destroyed: false }],
  latestVersion: 1,
  minDecryptionVersion: 1,
  activationDate: null,
  deactivationDate: null,
  compromiseDate: null,
  compromiseReason: null,
  destroyAfter: null,
  destroyedAt: null,
  createdAt: '2030-01-01T00:00:01.000Z',
  createdBy: actor,
  updatedAt: '2030-01-01T00:00:03.000Z',
  history: [],
};

function report(overrides: Partial<ReportData> = {}): ReportData {
  return {
    tenantId: 'tnt_report01',
    from: '2030-01-01T00:00:00.000Z',
    to: '2030-02-01T00:00:00.000Z',
    generatedAt: '2030-02-02T00:00:00.000Z',
    head: { seq: 4, hash: 'cd'.repeat(32), committedAt: '2030-01-01T00:00:04.000Z' },
    chain: { ok: true, verifiedThroughSeq: 4 },
    tenant: {
      tenantId: 'tnt_report01',
      name: EVIL,
      status: 'Active',
      policy: { allowCompromisedDecrypt: false, dualControl: { quorum: null, operations: [] } },
      onboardedAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2030-01-01T00:00:00.000Z',
    },
    keys: [key],
    keysAtStart: new Map(),
    grantMode: 'open',
    grants: [],
    principals: [
      { principalId: 'prn_admin0001', name: EVIL, role: 'tenant-admin', createdAt: '2030-01-01T00:00:00.000Z', revokedAt: null },
    ],
    events: [
      event(1, 'tenant.onboarded.v1', { tenantId: 'tnt_report01', name: EVIL }),
      event(2, 'key.created.v1', {
        keyId: key.keyId,
        keyType: 'AES-256-GCM',
        alias: EVIL,
        description: EVIL,
        version: { version: 1, kcv: 'aaaa' },
      }),
      event(3, 'approval.requested.v1', {
        approvalId: 'apr_1',
        operation: 'key.schedule-destruction',
        command: { keyId: key.keyId },
        quorum: 2,
      }),
      event(4, 'approval.executed.v1', {
        approvalId: 'apr_1',
        requestedBy: actor,
        approvedBy: [{ principalId: EVIL, role: 'tenant-admin' }],
      }),
      event(4, 'something.unknown.v9', { note: EVIL }),
    ],
    omittedEvents: 0,
    ...overrides,
  };
}

describe('HTML report', () => {
  it('escapes markup, quotes and backticks', () => {
    expect(escapeHtml(EVIL)).toBe('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#60;img src=x onerror=&#39;y&#39;&#62;&#38;&#96;');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml({ a: '<b>' })).toBe('{&#34;a&#34;:&#34;&#60;b&#62;&#34;}');
  });

  it('renders every value from the log escaped: no markup from the data survives', () => {
    const html = renderReport(report());
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain("onerror='y'");
    expect(html.match(/&#60;script&#62;/g)!.length).toBeGreaterThanOrEqual(6);
    expect(html).toContain('@media print');
    expect(html).toContain('thead { display: table-header-group; }');
  });

  it('puts approval events under the key they are about, and says when the chain does not verify', () => {
    const html = renderReport(report());
    const keySection = html.slice(html.indexOf('<section class="key">'), html.indexOf('</section>'));
    expect(keySection).toContain('approval.requested.v1');
    expect(keySection).toContain('approval.executed.v1');
    expect(keySection).not.toContain('tenant.onboarded.v1');
    expect(html).toContain('The hash chain verifies from the genesis hash through commit 4');
    const broken = renderReport(
      report({ chain: { ok: false, verifiedThroughSeq: 2, problem: { seq: 3, problem: 'hash-mismatch', detail: EVIL } } }),
    );
    expect(broken).toContain('The hash chain does NOT verify');
    expect(broken).not.toContain('<script>');
  });

  it('describes every lifecycle event in words', () => {
    const types = [
      ['key.activated.v1', { reason: 'activation-date' }, /activated on its activation date/],
      ['key.deactivated.v1', { reason: 'requested' }, /^deactivated$/],
      ['key.rotated.v1', { version: { version: 2, kcv: 'bb' } }, /rotated to version 2/],
      ['key.compromised.v1', { reason: 'leak', compromiseDate: '2030-01-01T00:00:00.000Z' }, /compromised .* leak/],
      ['key.destruction-scheduled.v1', { destroyAfter: '2030-01-08T00:00:00.000Z', waitingPeriodDays: 7 }, /7-day waiting period/],
      ['key.destruction-cancelled.v1', {}, /cancelled/],
      ['key.destroyed.v1', { versions: [1, 2] }, /versions 1, 2 shredded/],
      ['key.alias-set.v1', { alias: 'b', previous: 'a' }, /alias set to <b>b<\/b> \(was a\)/],
      ['key.labels-changed.v1', { set: { a: 'b' }, removed: ['c'] }, /removed c/],
      ['key.description-set.v1', { description: 'd' }, /description set/],
      ['key.min-decryption-version-set.v1', { version: 2 }, /minimum decryption version set to 2/],
      ['key.export-enabled.v1', {}, /export enabled/],
      ['approval.granted.v1', { approvalId: 'apr_1' }, /approved/],
      ['approval.failed.v1', { approvalId: 'apr_1', reason: 'gone' }, /could not execute: gone/],
      ['approval.rejected.v1', { approvalId: 'apr_1', reason: 'no' }, /rejected: no/],
      ['tenant.suspended.v1', { reason: 'unpaid' }, /suspended: unpaid/],
      ['tenant.resumed.v1', {}, /resumed/],
      ['tenant.offboarded.v1', {}, /offboarded/],
      ['tenant.policy-set.v1', { policy: { allowCompromisedDecrypt: true } }, /policy set/],
      ['principal.created.v1', { principalId: 'prn_1', name: 'n', role: 'auditor' }, /created with role auditor/],
      ['principal.revoked.v1', { principalId: 'prn_1' }, /revoked/],
      [
        'grant.created.v1',
        { grantId: 'grt_1', principalId: 'prn_1', operations: ['encrypt', 'decrypt'], keys: { ids: ['k'] }, conditions: {} },
        /grant <code>grt_1<\/code> to <code>prn_1<\/code>: encrypt, decrypt/,
      ],
      ['grant.revoked.v1', { grantId: 'grt_1', principalId: 'prn_1' }, /grant <code>grt_1<\/code> of <code>prn_1<\/code> revoked/],
    ] as const;
    for (const [type, data, expected] of types) expect(describeEvent(event(1, type, data))).toMatch(expected);
  });

  it('has an access section: open tenants say so; required ones list the grants in force at the end, escaped', () => {
    expect(renderReport(report())).toContain('Grants were not required');
    const grant = {
      grantId: 'grt_report01',
      principalId: 'prn_user0001',
      operations: ['encrypt' as const],
      keys: { aliasPrefix: EVIL },
      conditions: { encryptionContext: { app: EVIL } },
      createdAt: '2030-01-01T00:00:05.000Z',
      createdBy: actor,
      revokedAt: null,
      revokedBy: null,
    };
    const revoked = { ...grant, grantId: 'grt_revoked01', revokedAt: '2030-01-02T00:00:00.000Z', revokedBy: actor };
    const html = renderReport(report({ grantMode: 'required', grants: [grant, revoked] }));
    const access = html.slice(html.indexOf('<h2>Access at the end of the period</h2>'));
    expect(access).toContain('grt_report01');
    expect(access).not.toContain('grt_revoked01');
    expect(access).not.toContain('<script>');
    expect(renderReport(report({ grantMode: 'required', grants: [revoked] }))).toContain('no grant was in place');
  });
});
