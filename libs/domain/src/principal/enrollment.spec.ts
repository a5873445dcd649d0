import { NOW, applyCommand, day, iso, refusal } from '../testing/spec-helpers';
import { sensitiveOperation } from '../approval/dual-control';
import { decide, TenantLog, type KeywardCommand } from '../keyset/keyset';
import type { Actor, Role } from '../shared/actor';
import type { DecisionContext } from '../shared/decision-context';
import { enrollmentRefusal } from './enrollment';

const TENANT = 'tnt_acme0001';
const PRN = 'prn_new00001';
const ADMIN: Actor = { principalId: 'prn_admin0001', role: 'tenant-admin' };
const PROVIDER: Actor = { principalId: 'prn_root00001', role: 'provider-admin' };
const HASH = 'a'.repeat(64);
const OTHER_HASH = 'b'.repeat(64);
const FROM = { address: '192.0.2.7', userAgent: 'spec' };
const KEY = { fingerprint: `sha256:${'c'.repeat(64)}`, spki: 'AAAA' };

const ctxAt = (now: Date = NOW, actor: Actor = ADMIN): DecisionContext => ({ now, actor, correlationId: 'corr' });
const self = (role: Role = 'key-user'): Actor => ({ principalId: PRN, role });

function logWith(role: Role = 'key-user', enrollmentKey?: typeof KEY): TenantLog {
  const log = new TenantLog(TENANT);
  applyCommand(
    log,
    { kind: 'tenant.onboard', tenantId: TENANT, name: 'Acme', firstAdmin: { principalId: ADMIN.principalId, name: 'admin' } },
    ctxAt(day(-30), PROVIDER),
  );
  applyCommand(
    log,
    { kind: 'principal.create', principalId: PRN, name: 'new', role, ...(enrollmentKey ? { enrollmentKey } : {}) },
    ctxAt(day(-1)),
  );
  return log;
}
const issue = (tokenHash = HASH, expiresAt = iso(2)): KeywardCommand => ({
  kind: 'principal.issue-enrollment',
  principalId: PRN,
  tokenHash,
  expiresAt,
});
const enroll = (tokenHash = HASH): KeywardCommand => ({ kind: 'principal.enroll', principalId: PRN, tokenHash, from: FROM });

describe('enrollment (a new principal receives its API key itself)', () => {
  it('issues a token (its hash and expiry only) and records the redemption with its origin', () => {
    const log = logWith();
    expect(applyCommand(log, issue(), ctxAt(day(-1))).map((e) => e.data)).toEqual([
      { principalId: PRN, tokenHash: HASH, expiresAt: iso(2) },
    ]);
    const [enrolled] = applyCommand(log, enroll(), ctxAt(NOW, self()));
    expect(enrolled).toMatchObject({
      type: 'principal.enrolled.v1',
      actor: self(),
      at: NOW.toISOString(),
      data: { principalId: PRN, from: FROM },
    });
    expect(log.principals.get(PRN)).toMatchObject({
      enrolledAt: NOW.toISOString(),
      enrollment: { tokenHash: HASH, redeemedAt: NOW.toISOString() },
    });
  });

  it('refuses a second redemption plainly, and a wrong, expired or revoked one all alike', () => {
    const log = logWith();
    applyCommand(log, issue(), ctxAt(day(-1)));
    const why = (command: KeywardCommand, at: Date = NOW) => {
      const err = refusal(() => decide(command, log, ctxAt(at, self())));
      return enrollmentRefusal(err.details);
    };
    expect(why(enroll(OTHER_HASH))).toBe('invalid');
    expect(why(enroll(), day(3))).toBe('invalid');
    applyCommand(log, enroll(), ctxAt(NOW, self()));
    expect(why(enroll())).toBe('used');
    expect(why(enroll(OTHER_HASH))).toBe('invalid');

    const revoked = logWith();
    applyCommand(revoked, issue(), ctxAt(day(-1)));
    applyCommand(revoked, { kind: 'principal.revoke', principalId: PRN }, ctxAt(day(-1)));
    expect(enrollmentRefusal(refusal(() => decide(enroll(), revoked, ctxAt(NOW, self()))).details)).toBe('invalid');
    expect(enrollmentRefusal(refusal(() => decide(enroll(), logWith(), ctxAt(NOW, self()))).details)).toBe('invalid');
  });

  it('a new token replaces the old one; an enrolled principal gets none', () => {
    const log = logWith();
    applyCommand(log, issue(), ctxAt(day(-1)));
    applyCommand(log, issue(OTHER_HASH), ctxAt(day(-1)));
    expect(enrollmentRefusal(refusal(() => decide(enroll(HASH), log, ctxAt(NOW, self()))).details)).toBe('invalid');
    applyCommand(log, enroll(OTHER_HASH), ctxAt(NOW, self()));
    expect(refusal(() => decide(issue(), log, ctxAt())).code).toBe('illegal-transition');
    expect(refusal(() => decide(issue(HASH, iso(-1)), logWith(), ctxAt())).code).toBe('invalid');
    expect(refusal(() => decide(issue('nothex'), logWith(), ctxAt())).code).toBe('invalid');
  });

  it('keeps the public key the principal was created with for every token', () => {
    const log = logWith('key-user', KEY);
    expect(applyCommand(log, issue(), ctxAt(day(-1)))[0]!.data).toMatchObject({ enrollmentKey: KEY });
    expect(log.principals.get(PRN)?.enrollmentKey).toEqual(KEY);
  });

  it('the first token of an admin comes with its creation; a new one is an admin change (dual control)', () => {
    const admin = logWith('tenant-admin');
    const command = issue() as Extract<KeywardCommand, { kind: 'principal.issue-enrollment' }>;
    expect(sensitiveOperation(command, admin)).toBeUndefined();
    applyCommand(admin, command, ctxAt(day(-1)));
    expect(sensitiveOperation(command, admin)).toBe('principal.manage-admin');
    const user = logWith('key-user');
    applyCommand(user, command, ctxAt(day(-1)));
    expect(sensitiveOperation(command, user)).toBeUndefined();
  });
});
