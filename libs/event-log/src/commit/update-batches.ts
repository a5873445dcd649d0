/**
 * Most update, replace or delete statements one command may carry. FerretDB 1.24's SQLite backend
 * keeps each statement's result rows open until the whole command ends, on a per-database pool
 * of 100 connections: when the commands in flight together hold them all, the next statement and
 * the metadata registry wait for a connection forever and the store stops answering anyone (seen
 * twice in goroutine dumps: 100 open `sql.Rows` from one `update`; later 47 + 42 from two
 * concurrent ones plus the rest). So a command carries few statements, and a process keeps at
 * most MAX_STATEMENTS_IN_FLIGHT of them in flight (writeInBatches): the four services and a
 * backup together stay below the pool. MongoDB has no such limit; smaller batches only cost a few
 * more round trips there.
 */
export const MAX_UPDATES_PER_COMMAND = 10;

/** Most multi-statement write statements this process has in flight at once (see MAX_UPDATES_PER_COMMAND). */
export const MAX_STATEMENTS_IN_FLIGHT = 20;

/** `items` in consecutive slices of at most `size` (MAX_UPDATES_PER_COMMAND by default). */
export function inBatches<T>(items: readonly T[], size = MAX_UPDATES_PER_COMMAND): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, not ${size}`);
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}

/** A counting semaphore over statements: waiters are served in arrival order. */
export class StatementBudget {
  private free: number;
  private readonly waiting: { readonly need: number; readonly go: () => void }[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
    this.free = capacity;
  }

  get inFlight(): number {
    return this.capacity - this.free;
  }

  async run<R>(statements: number, write: () => Promise<R>): Promise<R> {
    const need = Math.min(Math.max(1, statements), this.capacity);
    if (this.waiting.length > 0 || this.free < need) await new Promise<void>((go) => this.waiting.push({ need, go }));
    else this.free -= need;
    try {
      return await write();
    } finally {
      this.free += need;
      this.wake();
    }
  }

  private wake(): void {
    for (let next = this.waiting[0]; next !== undefined && this.free >= next.need; next = this.waiting[0]) {
      this.waiting.shift();
      this.free -= next.need;
      next.go();
    }
  }
}

/** The process's budget: every multi-statement write of the libraries goes through it. */
export const STATEMENT_BUDGET = new StatementBudget(MAX_STATEMENTS_IN_FLIGHT);

/**
 * Writes `items` one slice (at most `size` statements, one command) at a time, each within the
 * process's statement budget.
 */
export async function writeInBatches<T>(
  items: readonly T[],
  write: (batch: T[]) => Promise<unknown>,
  size = MAX_UPDATES_PER_COMMAND,
  budget: StatementBudget = STATEMENT_BUDGET,
): Promise<void> {
  for (const batch of inBatches(items, size)) await budget.run(batch.length, () => write(batch));
}
