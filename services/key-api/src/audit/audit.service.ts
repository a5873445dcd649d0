import { Inject, Injectable } from '@nestjs/common';
import type { KeywardConfig } from '@keyward/config';
import {
  accessTo,
  grantModeOf,
  type ApprovalState,
  type GrantMode,
  type GrantState,
  type KeyAccess,
  type KeyState,
  type PrincipalState,
  type TenantState,
} from '@keyward/domain';
import {
  afterCursor,
  auditEvents,
  ChainWalker,
  checkAnchor,
  compareWithTopic,
  commitId,
  CommitStore,
  csvRecord,
  CSV_HEADER,
  encodeEventCursor,
  eventApprovalId,
  eventKeyId,
  firstProblem,
  fromMessage,
  isSealed,
  jsonLine,
  matchesFilter,
  PointInTimeReplay,
  type AuditEvent,
  type AuditEventFilter,
  type AuditProblem,
  type CommitDocument,
  type EventCursor,
  type StoredLink,
  type TopicLink,
} from '@keyward/event-log';
import { KafkaConnection, KEYWARD_CONFIG, ProblemError } from '@keyward/platform';
import { usageRecordCount, usageRecordsOf } from '@keyward/keys';
import { CheckpointService } from './checkpoint.service';
import { readCommits } from './commit-reader';
import { tenantNotFound } from './audit-scope';
import { scanTopic } from './topic-scanner';

/** Most commits one events page reads; a page may then hold fewer items than asked, with a cursor to go on. */
const PAGE_SCAN_COMMITS = 5_000;
const TOPIC_SCAN_TIMEOUT_MS = 120_000;

export interface EventsPage {
  readonly items: AuditEvent[];
  readonly nextCursor: string | null;
}

export interface VerifyAnswer {
  readonly ok: boolean;
  readonly tenantId: string;
  /** Where the walk started: seq 1 from the genesis hash, or the checkpoint given with `since`. */
  readonly fromSeq: number;
  readonly headSeq: number;
  readonly headHash: string;
  readonly verifiedThroughSeq: number;
  readonly kafka: { readonly topic: string; readonly messages: number; readonly publishedThroughSeq: number };
  readonly checkpoints: { readonly checked: number };
  readonly firstBadSeq?: number;
  readonly problem?: AuditProblem['problem'];
  readonly detail?: string;
  /** The first problem each check found (store chain, topic, checkpoints), lowest seq first. */
  readonly problems?: AuditProblem[];
}

export interface PastState {
  readonly tenantId: string;
  readonly at: string;
  /** The last commit the state includes (0: none yet), its hash and time. */
  readonly seq: number;
  readonly hash: string;
  readonly committedAt: string | null;
  readonly tenant: TenantState | null;
  readonly keys: KeyState[];
  readonly principals: PrincipalState[];
  readonly approvals: ApprovalState[];
  /** Whether key-users needed grants then, and every grant the log held (revoked ones with their revocation). */
  readonly grantMode: GrantMode;
  readonly grants: GrantState[];
}

/** Who could do what with a key at an instant (GET /v1/audit/access). */
export interface PastAccess {
  readonly tenantId: string;
  readonly keyId: string;
  readonly at: string;
  readonly seq: number;
  readonly hash: string;
  readonly committedAt: string | null;
  readonly mode: GrantMode;
  readonly access: readonly KeyAccess[];
}

export interface UsageRecord {
  readonly v: number;
  readonly tenantId: string;
  readonly principalId: string;
  readonly role: string;
  readonly operation: string;
  readonly keyId: string | null;
  readonly version: number | null;
  readonly grantId?: string;
  readonly outcome: string;
  readonly requestId: string;
  readonly at: string;
}

export interface UsageAnswer {
  readonly items: UsageRecord[];
  /** Records read from the usage topic (every tenant's), from the offset of `from` on. */
  readonly scanned: number;
  /** True when the scan stopped early (AUDIT_USAGE_SCAN_MAX, or `limit` matches found): there may be more. */
  readonly truncated: boolean;
}

/** Everything the HTML report shows, gathered in one pass over the log. */
export interface ReportData {
  readonly tenantId: string;
  readonly from: string | null;
  readonly to: string;
  readonly generatedAt: string;
  readonly head: { readonly seq: number; readonly hash: string; readonly committedAt: string | null };
  readonly chain: { readonly ok: boolean; readonly verifiedThroughSeq: number; readonly problem?: AuditProblem };
  readonly tenant: TenantState | null;
  readonly keys: KeyState[];
  /** State of each key when the period began (absent: it did not exist yet). */
  readonly keysAtStart: ReadonlyMap<string, KeyState>;
  readonly principals: PrincipalState[];
  /** Whether key-users needed grants at the end of the period, and the grants of the log then. */
  readonly grantMode: GrantMode;
  readonly grants: GrantState[];
  readonly events: AuditEvent[];
  /** Events of the period left out of the report beyond its limit. */
  readonly omittedEvents: number;
}

const REPORT_MAX_EVENTS = 50_000;

/**
 * The compliance queries: they read the commit log itself (never the views) and rebuild what they
 * need with the domain's own fold, so their answers are evidence, not a projection of it.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly store: CommitStore,
    private readonly kafka: KafkaConnection,
    private readonly checkpoints: CheckpointService,
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
  ) {}

  async requireTenant(tenantId: string): Promise<CommitDocument> {
    const head = await this.store.head(tenantId);
    if (!head) throw tenantNotFound(tenantId);
    return head;
  }

  /** One page of events in log order. Stable: the log only grows, and the cursor is a position in it. */
  async events(tenantId: string, filter: AuditEventFilter, limit: number, cursor?: EventCursor): Promise<EventsPage> {
    await this.requireTenant(tenantId);
    const approvalIds = await this.approvalsAbout(tenantId, filter.keyId);
    const items: AuditEvent[] = [];
    let scanned = 0;
    const afterSeq = Math.max(cursor ? cursor.seq - 1 : 0, (filter.fromSeq ?? 1) - 1);
    const range = { afterSeq, ...(filter.toSeq === undefined ? {} : { toSeq: filter.toSeq }) };
    for await (const commit of readCommits(this.store, tenantId, range, 500)) {
      for (const event of auditEvents(commit)) {
        if (!afterCursor(event, cursor) || !matchesFilter(event, filter, approvalIds)) continue;
        items.push(event);
        if (items.length > limit) {
          const page = items.slice(0, limit);
          const last = page.at(-1);
          return { items: page, nextCursor: last ? encodeEventCursor(last) : null };
        }
      }
      scanned += 1;
      if (scanned >= PAGE_SCAN_COMMITS) {
        // Enough work for one request: go on from the end of this commit next time.
        return { items, nextCursor: encodeEventCursor({ seq: commit.seq, index: commit.events.length }) };
      }
    }
    return { items, nextCursor: null };
  }

  /** Every matching event, in log order, as export lines (streamed by the caller). */
  async *exportLines(tenantId: string, filter: AuditEventFilter, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
    const approvalIds = await this.approvalsAbout(tenantId, filter.keyId);
    if (format === 'csv') yield CSV_HEADER;
    const range = { afterSeq: (filter.fromSeq ?? 1) - 1, ...(filter.toSeq === undefined ? {} : { toSeq: filter.toSeq }) };
    let chunk = '';
    for await (const commit of readCommits(this.store, tenantId, range)) {
      for (const event of auditEvents(commit)) {
        if (!matchesFilter(event, filter, approvalIds)) continue;
        chunk += format === 'csv' ? csvRecord(event) : jsonLine(event);
      }
      if (chunk.length >= 64 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk.length > 0) yield chunk;
  }

  /**
   * Walks the tenant's chain from the genesis hash (or from a checkpoint the caller holds) to the
   * head: every commit hashes to its hash, links to its predecessor, no seq is missing. Then checks
   * the store against the events topic (same hash for every seq, nothing published missing, nothing
   * on the topic the store lost) and against the signed checkpoints. Answers the first bad seq.
   */
  async verify(tenantId: string, since?: { readonly seq: number; readonly hash: string }): Promise<VerifyAnswer> {
    const head = await this.requireTenant(tenantId);
    const stored = new Map<number, StoredLink>();
    let anchorProblem: AuditProblem | undefined;
    let walker = new ChainWalker();
    const fromSeq = since?.seq ?? 1;
    if (since) {
      const anchor = await this.store.get(tenantId, since.seq);
      if (anchor) stored.set(anchor.seq, { hash: anchor.hash, published: anchor.published });
      anchorProblem = checkAnchor(anchor, since);
      walker = new ChainWalker(since.seq + 1, since.hash);
    }
    let last: CommitDocument = head;
    for await (const commit of readCommits(this.store, tenantId, { afterSeq: since?.seq ?? 0 })) {
      stored.set(commit.seq, { hash: commit.hash, published: commit.published });
      walker.accept(commit);
      last = commit;
    }
    const topicName = this.config.kafka.topics.events;
    const topic = await this.topicLinks(tenantId);
    const late = await this.writtenSince(tenantId, stored, topic);
    const comparison = compareWithTopic(stored, topic, fromSeq, late);
    const checkpoints = await this.checkpoints.check(tenantId, stored, fromSeq);
    const problems = [anchorProblem, walker.problem, comparison.problem, checkpoints.problem]
      .filter((p): p is AuditProblem => p !== undefined)
      .sort((a, b) => a.seq - b.seq);
    const first = firstProblem(...problems);
    const headSeq = Math.max(last.seq, head.seq);
    const verifiedThroughSeq = first ? Math.min(walker.verifiedThroughSeq, first.seq - 1) : walker.verifiedThroughSeq;
    return {
      ok: first === undefined,
      tenantId,
      fromSeq,
      headSeq,
      headHash: last.seq >= head.seq ? last.hash : head.hash,
      verifiedThroughSeq,
      kafka: { topic: topicName, messages: comparison.messages, publishedThroughSeq: comparison.publishedThroughSeq },
      checkpoints: { checked: checkpoints.checked },
      ...(first ? { firstBadSeq: first.seq, problem: first.problem, detail: first.detail, problems } : {}),
    };
  }

  /**
   * The tenant as it was at an instant: the commits up to it folded with the domain's evolve into a
   * fresh TenantLog, the chain checked on the way (a state rebuilt from an altered history is no
   * evidence: that answers 409 with the first bad seq).
   */
  async stateAt(tenantId: string, at: Date): Promise<PastState> {
    const replay = await this.replayTo(tenantId, at);
    const { log } = replay;
    const byCreation = (a: { createdAt: string; id: string }, b: { createdAt: string; id: string }) =>
      a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return {
      tenantId,
      at: at.toISOString(),
      ...replay.head,
      tenant: log.tenant ?? null,
      keys: [...log.keys.values()].sort((a, b) => byCreation({ ...a, id: a.keyId }, { ...b, id: b.keyId })),
      principals: [...log.principals.values()].sort((a, b) => byCreation({ ...a, id: a.principalId }, { ...b, id: b.principalId })),
      approvals: [...log.approvals.values()],
      grantMode: grantModeOf(log),
      grants: [...log.grants.values()],
    };
  }

  /**
   * Which principals could do what with a key at an instant: the log replayed to it (as stateAt),
   * then the domain's own accessTo (the rule authorize enforces). 404 when the key did not exist then.
   */
  async accessAt(tenantId: string, keyId: string, at: Date): Promise<PastAccess> {
    const replay = await this.replayTo(tenantId, at);
    const key = replay.log.keys.get(keyId);
    if (key === undefined) throw new ProblemError(404, 'not-found', 'Not found', `key ${keyId} did not exist at ${at.toISOString()}`);
    const { mode, access } = accessTo(replay.log, key, at);
    return { tenantId, keyId, at: at.toISOString(), ...replay.head, mode, access };
  }

  /** The tenant's commits up to `at`, folded, the chain checked on the way. */
  private async replayTo(tenantId: string, at: Date): Promise<PointInTimeReplay> {
    await this.requireTenant(tenantId);
    const replay = new PointInTimeReplay(tenantId, at);
    const walker = new ChainWalker();
    for await (const commit of readCommits(this.store, tenantId)) {
      if (Date.parse(commit.committedAt) > at.getTime()) break;
      const problem = walker.accept(commit);
      if (problem) throw chainBroken(problem);
      replay.accept(commit);
    }
    return replay;
  }

  /** Gathers the HTML report of a period in one pass: state at its end, state of keys at its start, its events. */
  async report(tenantId: string, from: Date | undefined, to: Date | undefined): Promise<ReportData> {
    await this.requireTenant(tenantId);
    const generatedAt = new Date();
    const end = to ?? generatedAt;
    const replay = new PointInTimeReplay(tenantId, end);
    const walker = new ChainWalker();
    const events: AuditEvent[] = [];
    let omittedEvents = 0;
    let keysAtStart: Map<string, KeyState> | undefined = from === undefined ? new Map() : undefined;
    for await (const commit of readCommits(this.store, tenantId)) {
      if (Date.parse(commit.committedAt) > end.getTime()) break;
      walker.accept(commit);
      if (keysAtStart === undefined && from !== undefined && Date.parse(commit.committedAt) >= from.getTime()) {
        keysAtStart = new Map(replay.log.keys);
      }
      replay.accept(commit);
      if (from !== undefined && Date.parse(commit.committedAt) < from.getTime()) continue;
      for (const event of auditEvents(commit)) {
        if (events.length < REPORT_MAX_EVENTS) events.push(event);
        else omittedEvents += 1;
      }
    }
    const { log } = replay;
    return {
      tenantId,
      from: from?.toISOString() ?? null,
      to: end.toISOString(),
      generatedAt: generatedAt.toISOString(),
      head: replay.head,
      chain: {
        ok: walker.problem === undefined,
        verifiedThroughSeq: walker.verifiedThroughSeq,
        ...(walker.problem ? { problem: walker.problem } : {}),
      },
      tenant: log.tenant ?? null,
      keys: [...log.keys.values()],
      keysAtStart: keysAtStart ?? new Map(log.keys),
      principals: [...log.principals.values()],
      grantMode: grantModeOf(log),
      grants: [...log.grants.values()],
      events,
      omittedEvents,
    };
  }

  /** Usage records of the tenant from the usage topic: a bounded scan from the offset of `from` on. */
  async usage(
    tenantId: string,
    query: { readonly keyId?: string; readonly from?: Date; readonly to?: Date; readonly limit: number },
  ): Promise<UsageAnswer> {
    await this.requireTenant(tenantId);
    const items: UsageRecord[] = [];
    const from = query.from?.getTime();
    const to = query.to?.getTime();
    const result = await scanTopic(
      this.kafka.kafka,
      {
        topic: this.config.kafka.topics.usage,
        key: tenantId,
        ...(from === undefined ? {} : { fromTimestamp: from }),
        maxItems: this.config.audit.usageScanMax,
        weigh: (message) => usageRecordCount(message.headers),
        timeoutMs: TOPIC_SCAN_TIMEOUT_MS,
      },
      (message) => {
        for (const value of usageRecordsOf(message.value)) {
          const record = value as UsageRecord;
          if (record.tenantId !== tenantId) continue;
          if (query.keyId !== undefined && record.keyId !== query.keyId) continue;
          const at = Date.parse(record.at);
          if ((from !== undefined && at < from) || (to !== undefined && at > to)) continue;
          items.push(record);
          if (items.length >= query.limit) return 'stop';
        }
        return undefined;
      },
    );
    items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return { items, scanned: result.scanned, truncated: result.truncated };
  }

  /** What the events topic holds for the tenant: seq, hash and whether the message hashes to it. */
  private async topicLinks(tenantId: string): Promise<TopicLink[]> {
    const links: TopicLink[] = [];
    await scanTopic(
      this.kafka.kafka,
      { topic: this.config.kafka.topics.events, key: tenantId, timeoutMs: TOPIC_SCAN_TIMEOUT_MS },
      (message) => {
        const headerSeq = Number(message.headers?.['keyward-seq']?.toString() ?? Number.NaN);
        try {
          const commit = fromMessage(message.value);
          const valid = commit.tenantId === tenantId && Number.isInteger(commit.seq) && isSealed(commit);
          links.push({ seq: commit.seq, hash: commit.hash, valid });
        } catch {
          if (Number.isInteger(headerSeq)) links.push({ seq: headerSeq, hash: '', valid: false });
        }
        return undefined;
      },
    );
    return links;
  }

  /** Seqs on the topic that the walk did not see but the store has now (written while the topic was read): read by `_id`. */
  private async writtenSince(tenantId: string, stored: ReadonlyMap<number, StoredLink>, topic: readonly TopicLink[]): Promise<Set<number>> {
    const unseen = [...new Set(topic.filter((l) => !stored.has(l.seq)).map((l) => l.seq))];
    if (unseen.length === 0) return new Set();
    const now = await this.store.getMany(unseen.map((seq) => commitId(tenantId, seq)));
    return new Set(now.filter((c) => c.tenantId === tenantId).map((c) => c.seq));
  }

  /**
   * Approval requests whose command names the key: their approval events belong to its history.
   * One pass over the tenant's own log (by seq, through the CommitStore): no query over other
   * tenants' commits, which no index serves on the embedded store.
   */
  private async approvalsAbout(tenantId: string, keyId: string | undefined): Promise<Set<string>> {
    const ids = new Set<string>();
    if (keyId === undefined) return ids;
    for await (const commit of readCommits(this.store, tenantId)) {
      for (const event of commit.events) {
        const approvalId = eventApprovalId(event);
        if (event.type === 'approval.requested.v1' && approvalId !== undefined && eventKeyId(event) === keyId) ids.add(approvalId);
      }
    }
    return ids;
  }
}

function chainBroken(problem: AuditProblem): ProblemError {
  return new ProblemError(
    409,
    'chain-broken',
    'The history does not verify',
    `${problem.detail}; a state rebuilt from it would not be evidence (see GET /v1/audit/verify)`,
    { firstBadSeq: problem.seq, problem: problem.problem },
  );
}
