/** What a rejoin cost: from reaching the broker again (or losing the group) until joined. */
export interface Rejoin {
  /** From the first successful connect after the loss (or the loss itself) until joined. */
  readonly rejoinMs: number;
  /** From the loss (crash, rebalance, silent consumer) until joined, broker outage included. */
  readonly downMs: number;
}

export type MembershipHealth = { readonly up: true } | { readonly up: false; readonly reason: string };

/**
 * Bookkeeping of one consumer's group membership (no I/O; the caller feeds it kafkajs' events):
 * whether it is joined, since when it is not, how long a rejoin took, and whether readiness should
 * report it down. A consumer that has never joined is down; one that lost its group (or has not
 * fetched nor heartbeated for graceMs) is down once graceMs have passed, so routine rebalances do
 * not flap readiness.
 */
export class GroupMembership {
  private joined = false;
  private everJoined = false;
  private lostAt: number | undefined;
  private reachableAt: number | undefined;
  private lastActivity = 0;

  constructor(
    private readonly graceMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The consumer crashed, is rebalancing or stopped: it no longer receives its partitions. */
  lost(): void {
    if (this.joined || this.lostAt === undefined) this.lostAt = this.now();
    this.joined = false;
  }

  /** A new consumer connected to the cluster while the group is lost: the rejoin clock starts. */
  reachable(): void {
    if (!this.joined && this.reachableAt === undefined) this.reachableAt = this.now();
  }

  /** A fetch answered or a heartbeat went through. */
  active(): void {
    this.lastActivity = this.now();
  }

  /** The consumer joined its group; what the rejoin cost, or undefined for the first join. */
  join(): Rejoin | undefined {
    const at = this.now();
    const first = !this.everJoined;
    const since = this.lostAt ?? at;
    const rejoin = { rejoinMs: at - Math.max(since, this.reachableAt ?? since), downMs: at - since };
    this.joined = true;
    this.everJoined = true;
    this.lostAt = undefined;
    this.reachableAt = undefined;
    this.lastActivity = at;
    return first ? undefined : rejoin;
  }

  get isJoined(): boolean {
    return this.joined;
  }

  health(): MembershipHealth {
    const at = this.now();
    if (!this.everJoined) return { up: false, reason: 'has not joined its consumer group yet' };
    if (!this.joined) {
      const lostFor = at - (this.lostAt ?? at);
      return lostFor > this.graceMs ? { up: false, reason: `out of its consumer group for ${Math.round(lostFor / 1000)} s` } : { up: true };
    }
    const quietFor = at - this.lastActivity;
    return quietFor > this.graceMs ? { up: false, reason: `no fetch nor heartbeat for ${Math.round(quietFor / 1000)} s` } : { up: true };
  }
}

/**
 * Wait before restarting a crashed consumer: 1 s, 2 s, 4 s, 8 s (then 8 s), each scaled by a
 * random factor in [0.5, 1.5) so that restarts of several consumers do not rejoin in lockstep.
 */
export function restartDelayMs(failures: number, random: () => number = Math.random): number {
  const base = Math.min(1_000 * 2 ** Math.max(0, failures), 8_000);
  return Math.round(base * (0.5 + random()));
}
