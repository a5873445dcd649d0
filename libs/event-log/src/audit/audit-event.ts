import type { Actor, KeywardEvent } from '@keyward/domain';
import type { Commit } from '../commit/commit';

/** One event of the log as auditors see it: where it sits in the chain, what happened, who did it, when. */
export interface AuditEvent {
  readonly tenantId: string;
  readonly seq: number;
  /** Position of the event within its commit (from 0). */
  readonly index: number;
  readonly type: string;
  readonly actor: Actor;
  readonly at: string;
  readonly correlationId: string;
  /** Hash of the commit holding the event (the chain link an auditor can check it against). */
  readonly commitHash: string;
  readonly data: unknown;
}

/** Which events to answer. Times are ISO-8601 instants, both bounds inclusive. */
export interface AuditEventFilter {
  readonly fromSeq?: number;
  readonly toSeq?: number;
  readonly from?: string;
  readonly to?: string;
  /** Events about this key, and the approval events of requests whose command names it. */
  readonly keyId?: string;
  /** An exact event type (`key.rotated.v1`) or a dotted prefix of one (`key`, `key.rotated`). */
  readonly type?: string;
}

export function auditEvents(commit: Commit): AuditEvent[] {
  return commit.events.map((event: KeywardEvent, index) => ({
    tenantId: commit.tenantId,
    seq: commit.seq,
    index,
    type: event.type,
    actor: event.actor,
    at: event.at,
    correlationId: event.correlationId,
    commitHash: commit.hash,
    data: event.data,
  }));
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

/** The key an event is about: its own `keyId`, or the key of the command an approval request wraps. */
export function eventKeyId(event: { readonly data: unknown }): string | undefined {
  const data = record(event.data);
  if (typeof data?.keyId === 'string') return data.keyId;
  const command = record(data?.command);
  return typeof command?.keyId === 'string' ? command.keyId : undefined;
}

export function eventApprovalId(event: { readonly type: string; readonly data: unknown }): string | undefined {
  if (!event.type.startsWith('approval.')) return undefined;
  const id = record(event.data)?.approvalId;
  return typeof id === 'string' ? id : undefined;
}

export function typeMatches(type: string, wanted: string): boolean {
  return type === wanted || type.startsWith(`${wanted}.`);
}

/**
 * Whether an event passes the filter. `approvalIds` are the approval requests about the filtered
 * key, so that who approved (or rejected) an operation on it is part of its history.
 */
export function matchesFilter(event: AuditEvent, filter: AuditEventFilter, approvalIds: ReadonlySet<string> = new Set()): boolean {
  if (filter.fromSeq !== undefined && event.seq < filter.fromSeq) return false;
  if (filter.toSeq !== undefined && event.seq > filter.toSeq) return false;
  if (filter.type !== undefined && !typeMatches(event.type, filter.type)) return false;
  if (filter.from !== undefined || filter.to !== undefined) {
    const at = Date.parse(event.at);
    if (filter.from !== undefined && at < Date.parse(filter.from)) return false;
    if (filter.to !== undefined && at > Date.parse(filter.to)) return false;
  }
  if (filter.keyId !== undefined && eventKeyId(event) !== filter.keyId) {
    const approvalId = eventApprovalId(event);
    if (approvalId === undefined || !approvalIds.has(approvalId)) return false;
  }
  return true;
}

/** A page position: after the event at (seq, index). Opaque to callers, stable because the log only grows. */
export interface EventCursor {
  readonly seq: number;
  readonly index: number;
}

export function encodeEventCursor(cursor: EventCursor): string {
  return `${cursor.seq}-${cursor.index}`;
}

export function decodeEventCursor(text: string): EventCursor | undefined {
  const match = /^([0-9]{1,15})-([0-9]{1,6})$/.exec(text);
  if (!match) return undefined;
  return { seq: Number(match[1]), index: Number(match[2]) };
}

/** True when the event comes after the cursor position. */
export function afterCursor(event: { readonly seq: number; readonly index: number }, cursor: EventCursor | undefined): boolean {
  return cursor === undefined || event.seq > cursor.seq || (event.seq === cursor.seq && event.index > cursor.index);
}
