import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

interface LeaseTermDocument {
  _id: string;
  owner: string;
  term: number;
  name: string;
}

/** The newest term a holder has renewed into, per lease name (`_id` = name): terms below it are history. */
interface LeaseHeadDocument {
  _id: string;
  term: number;
}

/**
 * A named lease so that one process at a time does a job (the relay, the scheduler).
 * Time is cut into terms of `ttlMs`; a term belongs to whoever *inserts* its document first.
 * Only unique-index inserts decide ownership, because conditional updates are not atomic
 * on every MongoDB-compatible store (FerretDB's SQLite backend). The holder claims the next
 * term before its own ends; a crashed holder's lease lapses at the end of its term.
 *
 * The holder deletes its old term documents as it renews, so a taker whose clock lags would find
 * an old term free again: before claiming a term, a taker reads the lease's head (the newest term
 * renewed into, raised before any term is deleted) and refuses a term below it. Every read and
 * write is by `_id` or an insert, except the deletes of old terms, by name and term (the `name_term`
 * index on MongoDB; a handful of documents per lease either way).
 */
export class Lease {
  readonly owner = randomUUID();
  private readonly terms: Collection<LeaseTermDocument>;
  private readonly heads: Collection<LeaseHeadDocument>;
  /**
   * Who holds which term, as far as this process has learned: a term's holder never changes
   * once its document is inserted, so each term is asked about at most once (the relay polls
   * every 100 ms; the store need not hear about it every time).
   */
  private readonly known = new Map<number, boolean>();

  constructor(
    db: Db,
    private readonly name: string,
    private readonly ttlMs = 5_000,
  ) {
    this.terms = db.collection<LeaseTermDocument>('lease_terms');
    this.heads = db.collection<LeaseHeadDocument>('lease_heads');
  }

  private held: number | undefined;
  /** The `name_term` index, created once per process (again on the next acquire if creating it failed). */
  private indexed: Promise<void> | undefined;

  private ensureIndex(): Promise<void> {
    this.indexed ??= this.terms.createIndex({ name: 1, term: 1 }, { name: 'name_term' }, undefined).then(
      () => undefined,
      () => {
        this.indexed = undefined;
      },
    );
    return this.indexed;
  }

  /** The term the last `acquire` found this process holding (undefined: it did not hold the lease). */
  get heldTerm(): number | undefined {
    return this.held;
  }

  /** True when this process holds the lease for the current term. */
  async acquire(now = Date.now()): Promise<boolean> {
    const term = Math.floor(now / this.ttlMs);
    this.held = undefined;
    await this.ensureIndex();
    const holds = await this.claim(term);
    if (holds) this.held = term;
    if (holds && now - term * this.ttlMs > this.ttlMs / 2 && !this.known.has(term + 1)) {
      if (await this.claim(term + 1)) {
        // renewed ahead of time; the head is raised before any old term's document goes
        await this.heads.updateOne({ _id: this.name }, { $max: { term: term + 1 } }, { upsert: true }).catch(() => undefined);
      }
      await this.terms.deleteMany({ name: this.name, term: { $lt: term - 1 } }).catch(() => undefined);
    }
    for (const t of this.known.keys()) if (t < term) this.known.delete(t);
    return holds;
  }

  private async claim(term: number): Promise<boolean> {
    const known = this.known.get(term);
    if (known !== undefined) return known;
    const head = await this.heads.findOne({ _id: this.name });
    if (head && head.term > term) {
      this.known.set(term, false); // a past term (this clock lags): never claimable again
      return false;
    }
    const _id = `${this.name}:${term}`;
    let holds: boolean;
    try {
      await this.terms.insertOne({ _id, owner: this.owner, term, name: this.name });
      holds = true;
    } catch {
      const doc = await this.terms.findOne({ _id });
      // No document (the insert failed for another reason): nothing learned, ask again next time.
      if (!doc) return false;
      holds = doc.owner === this.owner;
    }
    this.known.set(term, holds);
    return holds;
  }

  async release(): Promise<void> {
    this.known.clear();
    this.held = undefined;
    await this.terms.deleteMany({ name: this.name, owner: this.owner });
  }
}
