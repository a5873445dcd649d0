import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { KeywardConfig } from '@keyward/config';
import { KEYWARD_CONFIG, MetricsRegistry, ProblemError } from '@keyward/platform';
import { ScanSlots } from './scan-slots';

/** A refused scan should come back once a running one had time to end. */
const RETRY_AFTER_SECONDS = 5;

/**
 * Caps the audit queries that scan a whole shared topic (verify, usage): AUDIT_SCANS_PER_TENANT
 * at once per tenant and AUDIT_SCANS_MAX at once per instance; beyond either, 429 with Retry-After,
 * so that one tenant cannot keep the brokers and this instance busy for everyone.
 */
@Injectable()
export class AuditScanLimiter {
  private readonly slots: ScanSlots;
  private readonly refused: Counter<'limit'>;

  constructor(@Inject(KEYWARD_CONFIG) config: KeywardConfig, metrics: MetricsRegistry) {
    this.slots = new ScanSlots(config.limits.auditScansPerTenant, config.limits.auditScansMax);
    this.refused = new Counter({
      name: 'keyward_audit_scans_refused_total',
      help: 'Audit topic scans refused with 429 because the tenant or the instance ran as many as allowed',
      labelNames: ['limit'],
      registers: [metrics.registry],
    });
  }

  async run<T>(tenantId: string, scan: () => Promise<T>): Promise<T> {
    const slot = this.slots.acquire(tenantId);
    if ('refused' in slot) {
      this.refused.inc({ limit: slot.refused });
      const who = slot.refused === 'tenant' ? 'this tenant already runs' : 'this instance already runs';
      const max = slot.refused === 'tenant' ? this.slots.maxPerTenant : this.slots.maxOverall;
      throw new ProblemError(
        429,
        'audit-scan-busy',
        'Too many audit scans',
        `${who} ${max} audit topic scan(s) at once; retry after the Retry-After delay`,
        { limit: slot.refused, retryAfterSeconds: RETRY_AFTER_SECONDS },
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
    }
    try {
      return await scan();
    } finally {
      slot.release();
    }
  }
}
