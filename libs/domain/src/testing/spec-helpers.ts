// Test-only helpers shared by the domain specs (excluded from the build).
import { decide, evolveCommit, stamp, type KeywardCommand, type KeywardEvent, type TenantLog } from '../keyset/keyset';
import type { DecisionContext } from '../shared/decision-context';
import { DomainError } from '../shared/domain-error';

/** The fixed clock every domain spec decides against. */
export const NOW = new Date('2030-06-15T12:00:00.000Z');
export const DAY_MS = 86_400_000;
export const day = (offset: number): Date => new Date(NOW.getTime() + offset * DAY_MS);
export const iso = (offset: number): string => day(offset).toISOString();

/** Decides a command and folds its events as the next commit, as the write side does. */
export function applyCommand(log: TenantLog, command: KeywardCommand, ctx: DecisionContext): KeywardEvent[] {
  const events = stamp(decide(command, log, ctx), ctx);
  evolveCommit(log, { seq: log.seq + 1, events });
  return events;
}

/** The DomainError `fn` throws; fails the test when it throws nothing or something else. */
export function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but the command was accepted');
}
