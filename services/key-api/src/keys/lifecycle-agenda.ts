/** What the scheduler may have to do to a key, most urgent first when several are due at once. */
export const DUE_KINDS = ['destroy', 'deactivate', 'activate'] as const;
export type DueKind = (typeof DUE_KINDS)[number];

export interface DueItem {
  readonly tenantId: string;
  readonly keyId: string;
  readonly kind: DueKind;
  /** ISO-8601 instant from which the action is due. */
  readonly at: string;
}

/** The fields of a commit the agenda reads (a commit of the log or a message of keyward.events). */
export interface AgendaCommit {
  readonly tenantId: string;
  readonly events: readonly { readonly type: string; readonly data: unknown }[];
}

interface HeapEntry {
  readonly at: string;
  readonly id: string;
}

const itemId = (tenantId: string, keyId: string, kind: DueKind): string => `${tenantId}\u0000${keyId}\u0000${kind}`;
const rank = (kind: DueKind): number => DUE_KINDS.indexOf(kind);
const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * The dates the server promised, in memory: which key needs which lifecycle action from when.
 * Fed by the commits themselves (keyward.events) and filled once at start from the key views, so
 * that a scheduler pass costs what is due, never a scan of every key. Only a hint: the scheduler
 * decides each action against the tenant's log, so an entry that is stale (the key was changed
 * since) costs one refused decision and is dropped, never a wrong action.
 */
export class LifecycleAgenda {
  private readonly items = new Map<string, DueItem>();
  /** Min-heap on `at` of ids (an id whose item changed or left is skipped when popped). */
  private heap: HeapEntry[] = [];

  get size(): number {
    return this.items.size;
  }

  /** Adds (or moves) an item. */
  note(item: DueItem): void {
    const id = itemId(item.tenantId, item.keyId, item.kind);
    const known = this.items.get(id);
    if (known?.at === item.at) return;
    this.items.set(id, item);
    this.push({ at: item.at, id });
  }

  drop(tenantId: string, keyId: string, kinds: readonly DueKind[] = DUE_KINDS): void {
    for (const kind of kinds) this.items.delete(itemId(tenantId, keyId, kind));
  }

  /** Learns the dates a commit sets, and forgets the actions it makes pointless. */
  noteCommit(commit: AgendaCommit): void {
    const activatedNow = new Set<string>();
    for (const event of commit.events) {
      const data = (event.data ?? {}) as Record<string, unknown>;
      if (event.type === 'key.activated.v1' && isText(data.keyId)) activatedNow.add(data.keyId);
    }
    for (const event of commit.events) {
      const data = (event.data ?? {}) as Record<string, unknown>;
      const keyId = data.keyId;
      if (!isText(keyId)) continue;
      const { tenantId } = commit;
      switch (event.type) {
        case 'key.created.v1':
          if (isText(data.activationDate) && !activatedNow.has(keyId))
            this.note({ tenantId, keyId, kind: 'activate', at: data.activationDate });
          if (isText(data.deactivationDate)) this.note({ tenantId, keyId, kind: 'deactivate', at: data.deactivationDate });
          break;
        case 'key.destruction-scheduled.v1':
          if (isText(data.destroyAfter)) this.note({ tenantId, keyId, kind: 'destroy', at: data.destroyAfter });
          break;
        case 'key.destruction-cancelled.v1':
          this.drop(tenantId, keyId, ['destroy']);
          break;
        case 'key.activated.v1':
          this.drop(tenantId, keyId, ['activate']);
          break;
        case 'key.deactivated.v1':
          this.drop(tenantId, keyId, ['activate', 'deactivate']);
          break;
        case 'key.destroyed.v1':
          this.drop(tenantId, keyId);
          break;
        default:
      }
    }
  }

  /**
   * Up to `limit` actions due at `nowIso`, one per key (the most urgent kind; a less urgent one
   * due at the same time is dropped: a key past its deactivation date is deactivated, not first
   * activated), oldest first. They stay in the agenda until dropped or noted again.
   */
  due(nowIso: string, limit: number): DueItem[] {
    const byKey = new Map<string, DueItem>();
    const seen = new Set<string>();
    const popped: HeapEntry[] = [];
    for (let top = this.heap[0]; top !== undefined && byKey.size < limit; top = this.heap[0]) {
      if (top.at > nowIso) break;
      this.pop();
      const item = this.items.get(top.id);
      if (item?.at !== top.at || seen.has(top.id)) continue; // changed or dropped since: a stale heap entry
      seen.add(top.id);
      popped.push(top);
      const key = `${item.tenantId}\u0000${item.keyId}`;
      const other = byKey.get(key);
      if (other === undefined || rank(item.kind) < rank(other.kind)) {
        if (other !== undefined) this.drop(other.tenantId, other.keyId, [other.kind]);
        byKey.set(key, item);
      } else {
        this.drop(item.tenantId, item.keyId, [item.kind]);
      }
    }
    for (const entry of popped) if (this.items.get(entry.id)?.at === entry.at) this.push(entry); // still pending
    return [...byKey.values()];
  }

  private push(entry: HeapEntry): void {
    const heap = this.heap;
    heap.push(entry);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
    // Stale entries are skipped when popped; rebuild when they outnumber the live ones.
    if (heap.length > 64 && heap.length > 4 * this.items.size) this.compact();
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.less(l, m)) m = l;
      if (r < heap.length && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    return a !== undefined && b !== undefined && a.at < b.at;
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i];
    const b = this.heap[j];
    if (a === undefined || b === undefined) return;
    this.heap[i] = b;
    this.heap[j] = a;
  }

  private compact(): void {
    const live = [...this.items.entries()].map(([id, item]) => ({ at: item.at, id }));
    this.heap = [];
    for (const entry of live.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) this.heap.push(entry); // sorted: a valid heap
  }
}
