import {
  evolveKey,
  evolvePrincipal,
  KEY_STATES,
  type KeyEvent,
  type KeyLifecycleState,
  type PrincipalEvent,
  type TenantEvent,
  evolveTenant,
  evolvePrincipalCertificate,
  isPrincipalCertificateEvent,
} from '@keyward/domain';
import type { Commit } from '../commit/commit';
import { GENESIS_HASH } from '../commit/commit';
import type { KeyView, PrincipalView, TenantView } from './views';
import { viewId } from './views';
import { pendingDates } from './due-dates';

/**
 * One tenant's views in memory: the projector folds commits into it, then writes only the
 * documents that changed. Everything is derived from events with the same `evolve` the write
 * side uses, so a rebuild from the log produces identical documents.
 */
export class TenantProjection {
  lastSeq = 0;
  lastHash = GENESIS_HASH;
  /** Documents as last stored (their appliedSeq is the write guard). */
  readonly storedSeq = new Map<string, number>();
  tenant: TenantView | undefined;
  readonly keys = new Map<string, KeyView>();
  readonly principals = new Map<string, PrincipalView>();
  readonly dirty = new Set<string>();
  /** Keys whose document in view_due is stored (as far as this projection knows): deleted once they have no pending date. */
  readonly storedDue = new Set<string>();
  private readonly keysByState = Object.fromEntries(KEY_STATES.map((s) => [s, 0])) as Record<KeyLifecycleState, number>;
  private activePrincipals = 0;

  constructor(readonly tenantId: string) {}

  /** Folds one commit (whose seq must be lastSeq + 1). */
  apply(commit: Commit): void {
    const seq = commit.seq;
    const tenantBehind = this.tenant === undefined || this.tenant.appliedSeq < seq;
    // A document already at or past this seq was stored before a crash: skip its events,
    // unless an earlier event of this same commit is what moved it there.
    const touched = new Set<string>();
    const behind = (id: string, doc: { appliedSeq: number } | undefined): boolean =>
      doc === undefined || doc.appliedSeq < seq || touched.has(id);
    for (const event of commit.events) {
      // Approval requests are read from the log itself (GET /v1/approvals); they change no view.
      if (event.type.startsWith('approval.')) continue;
      // Grants too (GET /v1/grants, the audit's access view): the write side's tenant log holds them.
      if (event.type.startsWith('grant.')) continue;
      if (event.type.startsWith('tenant.')) {
        if (!tenantBehind) continue; // already stored before a crash
        // The view is a superset of the tenant state: evolve it directly, then restore the view fields.
        const next = evolveTenant(this.tenant, event as TenantEvent);
        if (next) this.tenant = { ...next, _id: this.tenantId, ...this.counts(), appliedSeq: seq };
      } else if (isPrincipalCertificateEvent(event)) {
        const id = viewId(this.tenantId, event.data.principalId);
        const before = this.principals.get(id);
        if (before === undefined || !behind(id, before)) continue;
        touched.add(id);
        this.principals.set(id, { ...before, certificate: evolvePrincipalCertificate(event) ?? null, appliedSeq: seq });
        this.dirty.add(id);
      } else if (event.type.startsWith('principal.')) {
        const e = event as PrincipalEvent;
        const id = viewId(this.tenantId, e.data.principalId);
        const before = this.principals.get(id);
        if (!behind(id, before)) continue;
        touched.add(id);
        const next = evolvePrincipal(before, e);
        if (next) {
          this.activePrincipals += (next.revokedAt === null ? 1 : 0) - (before && before.revokedAt === null ? 1 : 0);
          this.principals.set(id, { ...next, _id: id, tenantId: this.tenantId, appliedSeq: seq });
          this.dirty.add(id);
        }
      } else {
        const e = event as KeyEvent;
        const id = viewId(this.tenantId, e.data.keyId);
        const current = this.keys.get(id);
        if (!behind(id, current)) continue;
        touched.add(id);
        const next = evolveKey(current && stripView(current), e);
        if (next) {
          if (current) this.keysByState[current.state] -= 1;
          this.keysByState[next.state] += 1;
          this.keys.set(id, { ...next, _id: id, tenantId: this.tenantId, appliedSeq: seq });
          this.dirty.add(id);
        }
      }
    }
    if (this.tenant && tenantBehind) {
      this.tenant = { ...this.tenant, ...this.counts(), appliedSeq: seq };
      this.dirty.add(this.tenantId);
    }
    this.lastSeq = seq;
    this.lastHash = commit.hash;
  }

  private counts(): Pick<TenantView, 'keyCount' | 'keysByState' | 'principalCount'> {
    return { keyCount: this.keys.size, keysByState: { ...this.keysByState }, principalCount: this.activePrincipals };
  }

  /** Restores stored documents (before folding newer commits). */
  load(
    checkpoint: { lastSeq: number; lastHash: string } | null,
    tenant: TenantView | null,
    keys: KeyView[],
    principals: PrincipalView[],
  ): void {
    this.lastSeq = checkpoint?.lastSeq ?? 0;
    this.lastHash = checkpoint?.lastHash ?? GENESIS_HASH;
    if (tenant) {
      this.tenant = tenant;
      this.storedSeq.set(tenant._id, tenant.appliedSeq);
    }
    for (const key of keys) {
      this.keys.set(key._id, key);
      this.storedSeq.set(key._id, key.appliedSeq);
      if (pendingDates(key).length > 0) this.storedDue.add(key._id);
      this.keysByState[key.state] += 1;
    }
    for (const principal of principals) {
      this.principals.set(principal._id, principal);
      this.storedSeq.set(principal._id, principal.appliedSeq);
      if (principal.revokedAt === null) this.activePrincipals += 1;
    }
  }
}

function stripView(view: KeyView): Omit<KeyView, '_id' | 'tenantId' | 'appliedSeq'> {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { _id, tenantId, appliedSeq, ...state } = view;
  return state;
}
