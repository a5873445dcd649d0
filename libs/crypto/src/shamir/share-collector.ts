import { checkSameSet, combineRootKeyShares, sameShare } from './root-key-shares';
import type { RootKeyShare } from './share-codec';

/** How far custodians are (public: counts and identifiers, never share data). */
export interface ShareProgress {
  /** Different shares held so far. */
  readonly submitted: number;
  readonly threshold: number;
  /** Shares in the set (N). */
  readonly shares: number;
  /** Check value of the root key the shares are of. */
  readonly rootKcv: string;
  readonly setId: string;
  /** When the first share came; the held shares are discarded at expiresAt. */
  readonly startedAt: string;
  readonly expiresAt: string;
}

export type ShareSubmission =
  | { readonly complete: false; readonly duplicate: boolean; readonly progress: ShareProgress }
  /** The threshold was reached: the reconstructed root key (checked against the shares' check value), owned by the caller. */
  | { readonly complete: true; readonly duplicate: false; readonly progress: ShareProgress; readonly rootKey: Buffer };

/**
 * Holds root key shares in memory, one submission at a time, until a threshold of one set is
 * reached. Shares are copied in, zeroed once combined, on reset, and `ttlMs` after the first one
 * came (so a half-finished unseal does not leave shares in memory). Nothing is ever stored.
 */
export class ShareCollector {
  private held: RootKeyShare[] = [];
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly onExpire: (discarded: number) => void = () => undefined,
  ) {}

  /** Progress of the current collection, or null when no share is held. */
  progress(): ShareProgress | null {
    this.expireIfStale();
    return this.snapshot(this.held.length);
  }

  /**
   * Adds one share (copied; the caller still owns and should zero its own). A duplicate counts
   * once; a share of another set, or one conflicting with a held share, throws a ShareError and
   * leaves the progress as it was. At the threshold the shares are combined and zeroed, and the
   * progress starts over whatever the outcome.
   */
  async submit(share: RootKeyShare): Promise<ShareSubmission> {
    this.expireIfStale();
    const [first] = this.held;
    if (first !== undefined) {
      checkSameSet(first, share);
      if (this.held.some((other) => sameShare(other, share))) return { complete: false, duplicate: true, progress: this.current() };
    }
    this.held.push({ ...share, data: new Uint8Array(share.data) });
    if (first === undefined) this.start();
    const progress = this.current();
    if (this.held.length < share.threshold) return { complete: false, duplicate: false, progress };
    // Take the shares out before awaiting, so that a concurrent submission starts afresh.
    const taken = this.held;
    this.held = [];
    this.stopTimer();
    try {
      const rootKey = await combineRootKeyShares(taken);
      return { complete: true, duplicate: false, progress, rootKey };
    } finally {
      zero(taken);
    }
  }

  /** Discards (and zeroes) every held share. */
  reset(): number {
    const discarded = this.held.length;
    zero(this.held);
    this.held = [];
    this.stopTimer();
    return discarded;
  }

  private current(): ShareProgress {
    const progress = this.snapshot(this.held.length);
    if (progress === null) throw new Error('no share is held');
    return progress;
  }

  private snapshot(submitted: number): ShareProgress | null {
    const [first] = this.held;
    if (first === undefined) return null;
    return {
      submitted,
      threshold: first.threshold,
      shares: first.total,
      rootKcv: first.kcv,
      setId: first.setId,
      startedAt: new Date(this.startedAt).toISOString(),
      expiresAt: new Date(this.startedAt + this.ttlMs).toISOString(),
    };
  }

  private start(): void {
    this.startedAt = Date.now();
    this.stopTimer();
    this.timer = setTimeout(() => this.expire(), this.ttlMs);
    this.timer.unref();
  }

  private expireIfStale(): void {
    if (this.held.length > 0 && Date.now() >= this.startedAt + this.ttlMs) this.expire();
  }

  private expire(): void {
    const discarded = this.reset();
    if (discarded > 0) this.onExpire(discarded);
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function zero(shares: readonly RootKeyShare[]): void {
  for (const share of shares) share.data.fill(0);
}
