import type { Actor } from './actor';

/** Everything a decision may depend on besides the command and the state: injected, never read from the world. */
export interface DecisionContext {
  readonly now: Date;
  readonly actor: Actor;
  readonly correlationId: string;
}
