import { FailureLockout } from './failure-lockout';

describe('FailureLockout', () => {
  let clock = 1_000_000;
  const now = (): number => clock;
  const policy = { failures: 3, windowMs: 60_000, lockoutMs: 10_000 };
  beforeEach(() => (clock = 1_000_000));

  it('locks a key out after the given failures within the window, for the lock-out time', () => {
    const lockout = new FailureLockout(policy, 100, now);
    expect(lockout.fail('k')).toBe(0);
    expect(lockout.fail('k')).toBe(0);
    expect(lockout.lockedFor('k')).toBe(0);
    expect(lockout.fail('k')).toBe(10_000);
    expect(lockout.lockedFor('k')).toBe(10_000);
    expect(lockout.lockedFor('other')).toBe(0);
    clock += 4_000;
    expect(lockout.lockedFor('k')).toBe(6_000);
    clock += 6_000;
    expect(lockout.lockedFor('k')).toBe(0);
    // After the lock-out, counting starts over.
    expect(lockout.fail('k')).toBe(0);
  });

  it('forgets failures older than the window', () => {
    const lockout = new FailureLockout(policy, 100, now);
    lockout.fail('k');
    lockout.fail('k');
    clock += 60_001;
    expect(lockout.fail('k')).toBe(0);
    expect(lockout.fail('k')).toBe(0);
    expect(lockout.fail('k')).toBe(10_000);
  });

  it('a success clears the failures but never lifts a lock-out', () => {
    const lockout = new FailureLockout(policy, 100, now);
    lockout.fail('k');
    lockout.fail('k');
    lockout.succeed('k');
    expect(lockout.fail('k')).toBe(0);
    lockout.fail('k');
    expect(lockout.fail('k')).toBe(10_000);
    lockout.succeed('k');
    expect(lockout.lockedFor('k')).toBe(10_000);
  });

  it('stays bounded under a flood of new keys, keeping locked keys longest', () => {
    const lockout = new FailureLockout(policy, 50, now);
    for (let i = 0; i < 3; i++) lockout.fail('locked');
    for (let i = 0; i < 1_000; i++) lockout.fail(`spray-${i}`);
    expect(lockout.size).toBeLessThanOrEqual(50);
    expect(lockout.lockedFor('locked')).toBe(10_000);
  });
});
