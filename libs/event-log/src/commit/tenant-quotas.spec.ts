import { DomainError, TenantLog, type KeywardCommand } from '@keyward/domain';
import { TenantQuotas } from './tenant-quotas';

const TENANT = 'tnt_quota00001';
const create = (keyId: string): KeywardCommand => ({ kind: 'key.create', keyId, keyType: 'AES-256-GCM', kcv: 'k' });
const suspend: KeywardCommand = { kind: 'tenant.suspend', tenantId: TENANT };

/** A log holding keys in the given states (only the count and states matter to the quota). */
function logWith(states: readonly string[]): TenantLog {
  const log = new TenantLog(TENANT);
  states.forEach((state, i) => log.keys.set(`key_${i}`, { keyId: `key_${i}`, state } as never));
  return log;
}

function refusal(work: () => void): DomainError | undefined {
  try {
    work();
    return undefined;
  } catch (err: unknown) {
    if (err instanceof DomainError) return err;
    throw err;
  }
}

describe('TenantQuotas', () => {
  it('refuses a key beyond maxKeys with quota-exceeded (destroyed keys do not count); other commands pass', () => {
    const quotas = new TenantQuotas({ maxKeys: 2, commitsPerMinute: 1_000 });
    expect(
      refusal(() => quotas.admit(TENANT, create('key_new'), logWith(['Active', 'Destroyed', 'DestroyedCompromised']))),
    ).toBeUndefined();
    const refused = refusal(() => quotas.admit(TENANT, create('key_new'), logWith(['Active', 'PreActive', 'Destroyed'])));
    expect(refused).toMatchObject({ code: 'quota-exceeded', details: { quota: 'keys', limit: 2, current: 2 } });
    expect(refusal(() => quotas.admit(TENANT, suspend, logWith(['Active', 'PreActive'])))).toBeUndefined();
  });

  it('refuses commits beyond commitsPerMinute with rate-exceeded and a retry delay, per tenant, then refills', () => {
    let now = 1_000_000;
    const quotas = new TenantQuotas({ maxKeys: 10, commitsPerMinute: 3 }, 100, () => now);
    const log = logWith([]);
    for (let i = 0; i < 3; i++) {
      expect(refusal(() => quotas.admit(TENANT, suspend, log))).toBeUndefined();
      quotas.committed(TENANT);
    }
    const refused = refusal(() => quotas.admit(TENANT, suspend, log));
    expect(refused).toMatchObject({ code: 'rate-exceeded', details: { quota: 'commits-per-minute', limit: 3, retryAfterSeconds: 20 } });
    // Another tenant has its own budget.
    expect(refusal(() => quotas.admit('tnt_other00001', suspend, log))).toBeUndefined();
    // One token comes back every 20 s.
    now += 20_000;
    expect(refusal(() => quotas.admit(TENANT, suspend, log))).toBeUndefined();
  });

  it('remembers at most maxTenants buckets (the least recently used go)', () => {
    const now = 0;
    const quotas = new TenantQuotas({ maxKeys: 10, commitsPerMinute: 1 }, 2, () => now);
    const log = logWith([]);
    for (const tenantId of ['tnt_a', 'tnt_b', 'tnt_c']) quotas.committed(tenantId);
    // tnt_a's bucket was dropped: it starts full again; tnt_c's is still empty.
    expect(refusal(() => quotas.admit('tnt_a', suspend, log))).toBeUndefined();
    expect(refusal(() => quotas.admit('tnt_c', suspend, log))?.code).toBe('rate-exceeded');
  });
});
