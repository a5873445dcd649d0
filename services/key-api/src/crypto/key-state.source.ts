import { Inject, Injectable } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import type { TenantLog } from '@keyward/domain';
import { CommandExecutor } from '@keyward/event-log';
import { KEYWARD_CONFIG } from '@keyward/platform';

/**
 * Key and tenant state for the crypto hot path, without I/O in the steady state: this process's
 * copy of each tenant log, trusted until keyward.events says a newer commit exists (or, should
 * the stream go quiet, for at most CRYPTO_STATE_TTL_MS). Then one indexed read catches it up.
 */
@Injectable()
export class KeyStateSource {
  /** Highest seq each tenant's log is known to have (from this process's commits or the stream). */
  private readonly known = new Map<string, number>();
  private readonly checkedAt = new Map<string, number>();
  private readonly ttlMs: number;

  constructor(
    private readonly executor: CommandExecutor,
    @Inject(KEYWARD_CONFIG) config: KeywardConfig,
  ) {
    this.ttlMs = config.crypto.stateTtlMs;
  }

  async log(tenantId: string, now = Date.now()): Promise<TenantLog> {
    const log = this.executor.peek(tenantId);
    if (log !== undefined && log.seq >= (this.known.get(tenantId) ?? 0) && now - (this.checkedAt.get(tenantId) ?? 0) < this.ttlMs) {
      return log;
    }
    const current = await this.executor.current(tenantId);
    this.checkedAt.set(tenantId, now);
    return current;
  }

  /** The stream carried commit `seq` of `tenantId`: anything older is stale from now on. */
  noteCommit(tenantId: string, seq: number): void {
    if (seq > (this.known.get(tenantId) ?? 0)) this.known.set(tenantId, seq);
  }

  /** Catches a tenant up in the background, so the next request finds it fresh (only tenants in use). */
  refresh(tenantId: string): Promise<void> {
    if (this.executor.peek(tenantId) === undefined) return Promise.resolve();
    return this.executor.current(tenantId).then(() => {
      this.checkedAt.set(tenantId, Date.now());
    });
  }
}
