import type { DecisionContext } from '../shared/decision-context';
import { refuse } from '../shared/domain-error';
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
import { decideTenant, evolveTenant, type TenantCommand, type TenantEvent, type TenantEventBody, type TenantState } from '../tenant/tenant';

/** The log that holds the provider's own principals; it has no tenant.onboarded event. */
export const PROVIDER_LOG = 'provider';

export type KeywardCommand = TenantCommand | KeyCommand | PrincipalCommand;
export type KeywardEventBody = TenantEventBody | KeyEventBody | PrincipalEventBody;
export type KeywardEvent = TenantEvent | KeyEvent | PrincipalEvent;

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

  constructor(readonly logId: string) {}

  aliasOwner(alias: string): string | undefined {
    return this.aliases.get(alias);
  }

  /** The key a reference names: its id, or `alias/<name>`. */
  resolveKey(ref: string): KeyState | undefined {
    const id = ref.startsWith('alias/') ? this.aliases.get(ref.slice('alias/'.length)) : ref;
    return id === undefined ? undefined : this.keys.get(id);
  }
}

const isTenantCommand = (c: KeywardCommand): c is TenantCommand => c.kind.startsWith('tenant.');
const isPrincipalCommand = (c: KeywardCommand): c is PrincipalCommand => c.kind.startsWith('principal.');

/** Decides one command against a tenant log: the events to append, or a DomainError. Pure. */
export function decide(command: KeywardCommand, log: TenantLog, ctx: DecisionContext): KeywardEventBody[] {
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
  if (isPrincipalCommand(command)) {
    if (command.kind === 'principal.create' && (command.role === 'provider-admin') !== (log.logId === PROVIDER_LOG)) {
      refuse(
        'invalid',
        log.logId === PROVIDER_LOG ? 'the provider log holds only provider-admins' : 'a tenant cannot have provider-admin principals',
      );
    }
    return decidePrincipal(command, log.principals.get(command.principalId));
  }
  if (log.logId === PROVIDER_LOG) return refuse('invalid', 'the provider log holds no keys');
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
  if (event.type.startsWith('tenant.')) {
    log.tenant = evolveTenant(log.tenant, event as TenantEvent);
  } else if (event.type.startsWith('principal.')) {
    const e = event as PrincipalEvent;
    const next = evolvePrincipal(log.principals.get(e.data.principalId), e);
    if (next) log.principals.set(next.principalId, next);
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
