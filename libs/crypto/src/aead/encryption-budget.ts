/**
 * NIST SP 800-38D, 8.3: with random 96-bit IVs, one AES-GCM key may be used for at most 2^32
 * encryptions. Keyward's default stops a little below that.
 */
export const GCM_RANDOM_IV_LIMIT = 2 ** 32;

/** Reserves `count` more encryptions of one key version in a shared store; answers the new total reserved. */
export type ReserveEncryptions = (count: number) => Promise<number>;

/** Thrown when a key version has used its whole budget of encryptions. */
export class EncryptionBudgetExhausted extends Error {
  constructor(
    readonly id: string,
    readonly limit: number,
  ) {
    super(`${id} has used its ${limit} encryptions`);
    this.name = 'EncryptionBudgetExhausted';
  }
}

interface Block {
  /** Next unused encryption number of this process's reserved range [next, end). */
  next: number;
  end: number;
  exhausted: boolean;
  pending: Promise<void> | undefined;
}

export interface EncryptionBudgetOptions {
  /** Most encryptions of one key version, across all instances and restarts. */
  readonly limit: number;
  /** Encryptions reserved per store write; a crash or eviction forfeits at most one block. */
  readonly block: number;
  /** Most key versions tracked in memory; evicting one forfeits the rest of its block. */
  readonly maxEntries: number;
}

/**
 * Counts encryptions per key version against a hard limit shared by every instance, with one
 * store write per `block` encryptions: each instance reserves a range of encryption numbers with
 * an atomic reservation of the next range of the version's total (EncryptionCounts), then spends it in memory. Ranges are never given
 * out twice and an unused rest is simply forfeited (crash, restart, eviction), so the total of
 * encryptions made never exceeds `limit`, whatever the number of instances.
 */
export class EncryptionBudget {
  private readonly blocks = new Map<string, Block>();

  constructor(private readonly options: EncryptionBudgetOptions) {
    if (!(options.limit >= 1 && options.block >= 1 && options.maxEntries >= 1))
      throw new RangeError('limit, block and maxEntries must be positive');
  }

  /**
   * Spends one encryption of `id`, reserving a block with `reserve` (one store write) when this
   * process has none left; throws EncryptionBudgetExhausted once the limit is reached.
   */
  async take(id: string, reserve: ReserveEncryptions): Promise<void> {
    for (;;) {
      const block = this.blocks.get(id) ?? this.track(id);
      if (block.next < block.end) {
        block.next += 1;
        return;
      }
      if (block.exhausted) throw new EncryptionBudgetExhausted(id, this.options.limit);
      block.pending ??= this.refill(block, reserve);
      await block.pending;
    }
  }

  /** Encryptions this process may still make with `id` without another reservation (for tests and metrics). */
  inHand(id: string): number {
    const block = this.blocks.get(id);
    return block ? block.end - block.next : 0;
  }

  private track(id: string): Block {
    if (this.blocks.size >= this.options.maxEntries) {
      const oldest = this.blocks.keys().next();
      if (!oldest.done) this.blocks.delete(oldest.value);
    }
    const block: Block = { next: 0, end: 0, exhausted: false, pending: undefined };
    this.blocks.set(id, block);
    return block;
  }

  private async refill(block: Block, reserve: ReserveEncryptions): Promise<void> {
    const { limit } = this.options;
    const size = this.options.block;
    try {
      const total = await reserve(size);
      const start = total - size;
      block.next = start;
      block.end = Math.min(total, limit);
      if (start >= limit) block.exhausted = true;
    } finally {
      block.pending = undefined;
    }
  }
}
