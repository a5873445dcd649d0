import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

interface LeaseTermDocument {
  _id: string;
  owner: string;
  term: number;
  name: string;
}

/**
 * A named lease so that one process at a time does a job (the relay, the scheduler).
 * Time is cut into terms of `ttlMs`; a term belongs to whoever *inserts* its document first.
 * Only unique-index inserts decide ownership, because conditional updates are not atomic
 * on every MongoDB-compatible store (FerretDB's SQLite backend). The holder claims the next
 * term before its own ends; a crashed holder's lease lapses at the end of its term.
 */
export class Lease {
  readonly owner = randomUUID();
  private readonly terms: Collection<LeaseTermDocument>;

  constructor(
    db: Db,
    private readonly name: string,
    private readonly ttlMs = 5_000,
  ) {
    this.terms = db.collection<LeaseTermDocument>('lease_terms');
  }

  /** True when this process holds the lease for the current term. */
  async acquire(now = Date.now()): Promise<boolean> {
    const term = Math.floor(now / this.ttlMs);
    const holds = await this.claim(term);
    if (holds && now - term * this.ttlMs > this.ttlMs / 2) {
      await this.claim(term + 1); // renew ahead of time
      await this.terms.deleteMany({ name: this.name, term: { $lt: term - 1 } }).catch(() => undefined);
    }
    return holds;
  }

  private async claim(term: number): Promise<boolean> {
    const _id = `${this.name}:${term}`;
    try {
      await this.terms.insertOne({ _id, owner: this.owner, term, name: this.name });
      return true;
    } catch {
      const doc = await this.terms.findOne({ _id });
      return doc?.owner === this.owner;
    }
  }

  async release(): Promise<void> {
    await this.terms.deleteMany({ name: this.name, owner: this.owner });
  }
}
