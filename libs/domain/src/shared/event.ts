import type { Actor } from './actor';

/** A fact, as stored in a commit and published on Kafka. `type` is stable and versioned. */
export interface DomainEvent<T extends string = string, D = unknown> {
  readonly type: T;
  readonly data: D;
  readonly actor: Actor;
  readonly correlationId: string;
  /** ISO-8601 UTC instant. */
  readonly at: string;
}

/** Just the part `decide` produces; the envelope (actor, correlation id, time) comes from the context. */
export interface EventBody<T extends string = string, D = unknown> {
  readonly type: T;
  readonly data: D;
}
