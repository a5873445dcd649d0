import {
  APPROVAL_TTL_HOURS,
  checkApprover,
  evolveApproval,
  type ApprovalCommand,
  type ApprovalEvent,
  type ApprovalEventBody,
  type ApprovalState,
} from '../approval/approval';
import type { DecisionContext } from '../shared/decision-context';
import { DomainError, refuse } from '../shared/domain-error';
import type { DomainEvent, EventBody } from '../shared/event';
import type { KeyCommand } from '../key/key.commands';
import { decideCreateKey, decideKey } from '../key/key.decide';
import type { KeyEvent, KeyEventBody } from '../key/key.events';
import { evolveKey } from '../key/key.evolve';
import type { KeyState } from '../key/key.state';
import {
  decidePrincipal,
  evolvePrincipal,
  type PrincipalCommand,
  type PrincipalEvent,
  type PrincipalEventBody,
  type PrincipalState,
} from '../principal/principal';
import { requireOwnerCommand } from '../key/key.ownership';
import { requireKnownKey } from '../grant/authorize';
import {
  decideTenant,
  evolveTenant,
  type KmipDestroyPolicy,
  type TenantCommand,
  type TenantEvent,
  type TenantEventBody,
  type TenantState,
} from '../tenant/tenant';
import {
  decidePrincipalCertificate,
  evolvePrincipalCertificate,
  isPrincipalCertificateCommand,
  isPrincipalCertificateEvent,
  type PrincipalCertificate,
  type PrincipalCertificateCommand,
  type PrincipalCertificateEvent,
  type PrincipalCertificateEventBody,
} from '../principal/principal-certificate';
import { checkRejecter, standingApprovers } from '../approval/approval-standing';
import { activeWithRole, isProviderDecision, PROVIDER_LOG, quorumFor, sensitiveOperation } from '../approval/dual-control';
import {
  decideGrant,
  evolveGrant,
  isGrantCommand,
  isGrantEvent,
  ownershipGrantOf,
  type GrantCommand,
  type GrantEvent,
  type GrantEventBody,
} from '../grant/grant';
import type { GrantState } from '../grant/grant.types';

/** Commands that act directly; sensitive ones among them may need approvals first. */
export type DirectCommand = TenantCommand | KeyCommand | PrincipalCommand | PrincipalCertificateCommand | GrantCommand;
export type KeywardCommand = DirectCommand | ApprovalCommand<DirectCommand>;
export type KeywardEventBody =
  TenantEventBody | KeyEventBody | PrincipalEventBody | ApprovalEventBody<DirectCommand> | PrincipalCertificateEventBody | GrantEventBody;
export type KeywardEvent = TenantEvent | KeyEvent | PrincipalEvent | ApprovalEvent<DirectCommand> | PrincipalCertificateEvent | GrantEvent;

/**
 * Everything one tenant's commit log says: the tenant, its keys, its principals. This is the
 * consistency boundary: a command is decided against it and appended as one commit.
 * The fold mutates the instance it is given (replaying 100,000 events must stay linear);
 * callers apply events only after their commit is stored.
 */
export class TenantLog {
  seq = 0;
  tenant: TenantState | undefined;
  readonly keys = new Map<string, KeyState>();
  readonly aliases = new Map<string, string>();
  readonly principals = new Map<string, PrincipalState>();
  readonly approvals = new Map<string, ApprovalState<DirectCommand>>();
  /** Each principal's current client-certificate binding (principal.certificate-bound/unbound events). */
  readonly certificates = new Map<string, PrincipalCertificate>();
  /** Every grant the log holds, revoked ones included (grant.created/revoked events). */
  readonly grants = new Map<string, GrantState>();
  /** Each principal's unrevoked grants, in creation order, indexed by key id: what authorize reads on every crypto request. */
  private readonly grantsByPrincipal = new Map<string, PrincipalGrants>();

  constructor(readonly logId: string) {}

  /** The principal's unrevoked grants (in force or not), oldest first. */
  grantsOf(principalId: string): readonly GrantState[] {
    return this.grantsByPrincipal.get(principalId)?.all ?? NO_GRANTS;
  }

  /**
   * The principal's unrevoked grants that may cover a key, in creation order: those naming its id,
   * and every alias-prefix or label grant (whose match depends on the key as it is now). A principal
   * holding hundreds of grants by id costs a lookup, not a scan.
   */
  grantsFor(principalId: string, keyId: string): readonly GrantState[] {
    const held = this.grantsByPrincipal.get(principalId);
    if (held === undefined) return NO_GRANTS;
    const named = held.byKey.get(keyId);
    if (named === undefined) return held.selected;
    if (held.selected.length === 0) return named;
    return mergeByOrder(named, held.selected, held.order);
  }

  /** Folds a grant event into the grants and the per-principal index. */
  evolveGrant(event: GrantEvent): void {
    evolveGrant(this.grants, event);
    const grant = this.grants.get(event.data.grantId);
    if (grant === undefined) return;
    const all = (this.grantsByPrincipal.get(grant.principalId)?.all ?? []).filter((g) => g.grantId !== grant.grantId);
    if (grant.revokedAt === null) all.push(grant);
    if (all.length > 0) this.grantsByPrincipal.set(grant.principalId, indexGrants(all));
    else this.grantsByPrincipal.delete(grant.principalId);
  }

  /** Sets the grants from a snapshot (every grant in creation order, revoked ones included) and rebuilds the per-principal index. */
  restoreGrants(grants: readonly GrantState[]): void {
    this.grants.clear();
    this.grantsByPrincipal.clear();
    const held = new Map<string, GrantState[]>();
    for (const grant of grants) {
      this.grants.set(grant.grantId, grant);
      if (grant.revokedAt !== null) continue;
      const list = held.get(grant.principalId);
      if (list) list.push(grant);
      else held.set(grant.principalId, [grant]);
    }
    for (const [principalId, all] of held) this.grantsByPrincipal.set(principalId, indexGrants(all));
  }

  /**
   * A copy that can be folded without touching this log (states, grants and grant indexes are
   * immutable values, replaced rather than changed by the fold, so they are shared).
   */
  copy(): TenantLog {
    const copy = new TenantLog(this.logId);
    copy.seq = this.seq;
    copy.tenant = this.tenant;
    const maps: [Map<string, unknown>, Map<string, unknown>][] = [
      [this.keys, copy.keys],
      [this.aliases, copy.aliases],
      [this.principals, copy.principals],
      [this.approvals, copy.approvals],
      [this.certificates, copy.certificates],
      [this.grants, copy.grants],
      [this.grantsByPrincipal, copy.grantsByPrincipal],
    ];
    for (const [from, to] of maps) for (const [k, v] of from) to.set(k, v);
    return copy;
  }

  aliasOwner(alias: string): string | undefined {
    return this.aliases.get(alias);
  }

  kmipDestroy(): KmipDestroyPolicy {
    return this.tenant?.policy.kmipDestroy ?? 'pending';
  }

  /** The key a reference names: its id, or `alias/<name>`. */
  resolveKey(ref: string): KeyState | undefined {
    const id = ref.startsWith('alias/') ? this.aliases.get(ref.slice('alias/'.length)) : ref;
    return id === undefined ? undefined : this.keys.get(id);
  }
}

const NO_GRANTS: readonly GrantState[] = Object.freeze([]);

/** One principal's unrevoked grants: all of them, those by id per key id, the others (alias prefix, labels). */
interface PrincipalGrants {
  readonly all: readonly GrantState[];
  readonly byKey: ReadonlyMap<string, readonly GrantState[]>;
  readonly selected: readonly GrantState[];
  /** Position of each grant in `all` (creation order). */
  readonly order: ReadonlyMap<string, number>;
}

function indexGrants(all: readonly GrantState[]): PrincipalGrants {
  const byKey = new Map<string, GrantState[]>();
  const selected: GrantState[] = [];
  const order = new Map<string, number>();
  all.forEach((grant, i) => {
    order.set(grant.grantId, i);
    if (!('ids' in grant.keys)) {
      selected.push(grant);
      return;
    }
    for (const keyId of grant.keys.ids) {
      const list = byKey.get(keyId);
      if (list) list.push(grant);
      else byKey.set(keyId, [grant]);
    }
  });
  return { all, byKey, selected, order };
}

/** Two lists of grants, each in creation order, merged in creation order. */
function mergeByOrder(a: readonly GrantState[], b: readonly GrantState[], order: ReadonlyMap<string, number>): GrantState[] {
  const out: GrantState[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = a[i];
    const y = b[j];
    if (y === undefined || (x !== undefined && (order.get(x.grantId) ?? 0) < (order.get(y.grantId) ?? 0))) {
      out.push(x as GrantState);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}

const isTenantCommand = (c: KeywardCommand): c is TenantCommand => c.kind.startsWith('tenant.');
const isPrincipalCommand = (c: KeywardCommand): c is PrincipalCommand =>
  c.kind.startsWith('principal.') && !isPrincipalCertificateCommand(c);
const isApprovalCommand = (c: KeywardCommand): c is ApprovalCommand<DirectCommand> => c.kind.startsWith('approval.');

/** Decides one command against a tenant log: the events to append, or a DomainError. Pure. */
export function decide(command: KeywardCommand, log: TenantLog, ctx: DecisionContext): KeywardEventBody[] {
  if (isApprovalCommand(command)) return decideApproval(command, log, ctx);
  const operation = sensitiveOperation(command, log);
  if (operation !== undefined && quorumFor(operation, log) > 1) {
    refuse('approval-required', `${command.kind} needs approval by ${quorumFor(operation, log) - 1} more administrator(s)`, { operation });
  }
  return decideDirect(command, log, ctx);
}

function decideApproval(command: ApprovalCommand<DirectCommand>, log: TenantLog, ctx: DecisionContext): KeywardEventBody[] {
  const { approvalId } = command;
  switch (command.kind) {
    case 'approval.request': {
      const inner = command.command;
      if ((inner.kind as string).startsWith('approval.')) refuse('invalid', 'an approval request cannot wrap another approval command');
      const operation = sensitiveOperation(inner, log);
      const quorum = operation === undefined ? 1 : quorumFor(operation, log, command.quorum);
      // Decided now too: a request that could never execute is refused at once, with the real reason.
      const direct = decideDirect(inner, log, ctx);
      if (operation === undefined || quorum <= 1) return direct;
      if (log.approvals.has(approvalId)) refuse('already-exists', `approval ${approvalId} already exists`);
      if (!isProviderDecision(operation) && activeWithRole(log, ctx.actor.role) < quorum) {
        refuse('invalid', `the policy needs ${quorum} ${ctx.actor.role}s to agree but the tenant has fewer`, { quorum });
      }
      const hours = command.ttlHours ?? APPROVAL_TTL_HOURS.default;
      if (!Number.isInteger(hours) || hours < APPROVAL_TTL_HOURS.min || hours > APPROVAL_TTL_HOURS.max) {
        refuse('invalid', `ttlHours must be an integer from ${APPROVAL_TTL_HOURS.min} to ${APPROVAL_TTL_HOURS.max}`);
      }
      const expiresAt = new Date(ctx.now.getTime() + hours * 3_600_000).toISOString();
      return [{ type: 'approval.requested.v1', data: { approvalId, operation, command: inner, quorum, expiresAt } }];
    }
    case 'approval.approve': {
      const approval = checkApprover(log.approvals.get(approvalId), approvalId, ctx.actor, ctx.now);
      const standing = standingApprovers(approval, (id) => isRevoked(log, id));
      const granted: KeywardEventBody = { type: 'approval.granted.v1', data: { approvalId } };
      if (1 + standing.length + 1 < approval.quorum) return [granted];
      try {
        const executed = decideDirect(approval.command, log, ctx);
        const approvedBy = [...standing, ctx.actor];
        return [
          granted,
          ...executed,
          { type: 'approval.executed.v1', data: { approvalId, requestedBy: approval.requestedBy, approvedBy } },
        ];
      } catch (err: unknown) {
        if (!(err instanceof DomainError)) throw err;
        // The world moved on since the request (for example the key changed state): close it, say why.
        return [granted, { type: 'approval.failed.v1', data: { approvalId, reason: err.message } }];
      }
    }
    case 'approval.reject': {
      const approval = log.approvals.get(approvalId);
      if (approval === undefined) return refuse('not-found', `approval ${approvalId} not found`, { approvalId });
      if (approval.status !== 'Pending') refuse('illegal-transition', `approval ${approvalId} is already ${approval.status.toLowerCase()}`);
      if (ctx.actor.role !== approval.requestedBy.role) refuse('invalid', `only a ${approval.requestedBy.role} may decide on this request`);
      checkRejecter(approval, ctx.actor);
      const reason = (command.reason ?? '').trim().slice(0, 512);
      return [{ type: 'approval.rejected.v1', data: { approvalId, reason } }];
    }
  }
}

/** Decides a command without the dual-control gate (approvals call this once their quorum is reached). */
function decideDirect(command: DirectCommand, log: TenantLog, ctx: DecisionContext): KeywardEventBody[] {
  if (isTenantCommand(command)) {
    if (log.logId === PROVIDER_LOG || command.tenantId !== log.logId) {
      return refuse('invalid', `tenant command for ${command.tenantId} does not belong in log ${log.logId}`);
    }
    const events: KeywardEventBody[] = decideTenant(command, log.tenant);
    if (command.kind === 'tenant.onboard' && command.firstAdmin) {
      events.push(...decidePrincipal({ kind: 'principal.create', role: 'tenant-admin', ...command.firstAdmin }, undefined));
    }
    return events;
  }
  if (log.logId !== PROVIDER_LOG) {
    if (log.tenant === undefined) return refuse('not-found', `tenant ${log.logId} not found`);
    if (log.tenant.status !== 'Active') {
      refuse('tenant-inactive', `tenant is ${log.tenant.status.toLowerCase()}`, { tenantId: log.logId, status: log.tenant.status });
    }
  }
  if (isGrantCommand(command)) {
    if (log.logId === PROVIDER_LOG) return refuse('invalid', 'the provider log holds no grants');
    const grant = log.grants.get(command.grantId);
    const principalId = command.kind === 'grant.create' ? command.principalId : (grant?.principalId ?? '');
    const held = log.grantsOf(principalId).length;
    return decideGrant(command, { grant, principal: log.principals.get(principalId), heldByPrincipal: held, now: ctx.now });
  }
  if (isPrincipalCertificateCommand(command)) {
    return decidePrincipalCertificate(command, log.principals.get(command.principalId), log.certificates.get(command.principalId));
  }
  if (isPrincipalCommand(command)) {
    if (command.kind === 'principal.create' && (command.role === 'provider-admin') !== (log.logId === PROVIDER_LOG)) {
      refuse(
        'invalid',
        log.logId === PROVIDER_LOG ? 'the provider log holds only provider-admins' : 'a tenant cannot have provider-admin principals',
      );
    }
    return decidePrincipal(command, log.principals.get(command.principalId), ctx.now);
  }
  if (log.logId === PROVIDER_LOG) return refuse('invalid', 'the provider log holds no keys');
  requireOwnerCommand(ctx.actor, command);
  // A key the principal may not even read does not exist for it (404, as a read or a use answers).
  if (command.kind !== 'key.create') requireKnownKey(log, ctx.actor, log.keys.get(command.keyId), command.keyId, ctx.now);
  if (command.kind === 'key.create') return decideCreateKey(command, log.keys.get(command.keyId), ctx, log);
  return decideKey(command, log.keys.get(command.keyId), ctx, log);
}

/** Adds the envelope every stored event carries. */
export function stamp(bodies: readonly KeywardEventBody[], ctx: DecisionContext): KeywardEvent[] {
  const at = ctx.now.toISOString();
  return bodies.map((body) => ({ ...body, actor: ctx.actor, correlationId: ctx.correlationId, at }));
}

/** Folds one event into the log state (in place). */
export function evolve(log: TenantLog, event: KeywardEvent): TenantLog {
  if (event.type.startsWith('approval.')) {
    evolveApproval(log.approvals, event as ApprovalEvent);
  } else if (event.type.startsWith('tenant.')) {
    log.tenant = evolveTenant(log.tenant, event as TenantEvent);
  } else if (isGrantEvent(event)) {
    log.evolveGrant(event);
  } else if (isPrincipalCertificateEvent(event)) {
    const binding = evolvePrincipalCertificate(event);
    if (binding) log.certificates.set(event.data.principalId, binding);
    else log.certificates.delete(event.data.principalId);
  } else if (event.type.startsWith('principal.')) {
    const e = event as PrincipalEvent;
    const next = evolvePrincipal(log.principals.get(e.data.principalId), e);
    if (next) log.principals.set(next.principalId, next);
    // An appliance identity's creation implies its standing ownership grant (grant.ts).
    const standing = e.type === 'principal.created.v1' ? ownershipGrantOf(e) : undefined;
    if (standing !== undefined) log.evolveGrant(standing);
  } else {
    const e = event as KeyEvent;
    const before = log.keys.get(e.data.keyId);
    const after = evolveKey(before, e);
    if (after === undefined) return log;
    log.keys.set(after.keyId, after);
    if (before?.alias && before.alias !== after.alias) log.aliases.delete(before.alias);
    if (after.alias !== null) log.aliases.set(after.alias, after.keyId);
  }
  return log;
}

/** Folds a whole commit (its events, in order) and advances the sequence. */
export function evolveCommit(log: TenantLog, commit: { readonly seq: number; readonly events: readonly KeywardEvent[] }): TenantLog {
  for (const event of commit.events) evolve(log, event);
  log.seq = commit.seq;
  return log;
}

export type { DomainEvent, EventBody };

/** Whether this log knows the principal as revoked. */
function isRevoked(log: TenantLog, principalId: string): boolean {
  const principal = log.principals.get(principalId);
  return principal !== undefined && principal.revokedAt !== null;
}
