import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { CommitStore } from '../commit/commit-store';
import { toMessage } from './commit-message';
import type { Lease } from './lease';

/** How often a relay that learns nothing about the lag from its own pass asks the store. */
const LAG_QUERY_EVERY_MS = 1_000;

export interface RelayLogger {
  warn(message: string): void;
  log(message: string): void;
}

export interface RelayOptions {
  readonly topic: string;
  readonly batchSize?: number;
  readonly idleMs?: number;
  /** Called with the age in seconds of the oldest unpublished commit (0 when none). */
  readonly onLag?: (seconds: number) => void;
}

/**
 * Publishes stored commits to Kafka in per-tenant seq order, then marks them published.
 * At least once: a crash between the two republishes, and consumers drop duplicates by
 * (tenantId, seq). Only the lease holder publishes, so two relays never interleave.
 */
export class Relay {
  private producer: Producer | undefined;
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private pending = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: CommitStore,
    private readonly lease: Lease,
    private readonly options: RelayOptions,
    private readonly logger: RelayLogger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Publish soon: a commit was just stored. */
  nudge(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.producer?.disconnect().catch(() => undefined);
    await this.lease.release().catch(() => undefined);
  }

  /** One pass: publish what is unpublished (up to a batch). Returns how many were published. */
  async publishOnce(): Promise<number> {
    return (await this.pass()).published;
  }

  /**
   * One pass, and the lag it learned for free: none left unpublished after an empty or partial
   * batch (0), unknown after a full one or without the lease (`undefined`: ask the store).
   */
  private async pass(): Promise<{ published: number; lagSeconds: number | undefined }> {
    if (!(await this.lease.acquire())) return { published: 0, lagSeconds: undefined };
    const limit = this.options.batchSize ?? 500;
    const commits = await this.store.unpublished(limit);
    if (commits.length === 0) return { published: 0, lagSeconds: 0 };
    const producer = await this.connectedProducer();
    try {
      await producer.send({ topic: this.options.topic, acks: -1, messages: commits.map(toMessage) });
    } catch (err: unknown) {
      // A broken idempotent session (broker restart, fenced epoch) is rebuilt from scratch.
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    await this.store.markPublished(commits.map((c) => c._id));
    return { published: commits.length, lagSeconds: commits.length < limit ? 0 : undefined };
  }

  private async connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
    }
    return this.producer;
  }

  private async reportLag(): Promise<void> {
    if (!this.options.onLag) return;
    const oldest = await this.store.oldestUnpublished();
    this.options.onLag(oldest ? Math.max(0, (Date.now() - Date.parse(oldest.committedAt)) / 1000) : 0);
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    let lastProblem = '';
    let lagAskedAt = 0;
    while (this.running) {
      this.pending = false;
      let published = 0;
      try {
        const pass = await this.pass();
        published = pass.published;
        if (pass.lagSeconds !== undefined) {
          this.options.onLag?.(pass.lagSeconds);
        } else if (Date.now() - lagAskedAt >= LAG_QUERY_EVERY_MS) {
          // Without the lease (or after a full batch): ask the store, at most once a second.
          lagAskedAt = Date.now();
          await this.reportLag();
        }
        if (lastProblem) this.logger.log('relay: publishing again');
        lastProblem = '';
        backoffMs = 100;
      } catch (err: unknown) {
        const problem = err instanceof Error ? err.message : String(err);
        if (problem !== lastProblem) this.logger.warn(`relay: cannot publish yet (${problem}); retrying`);
        lastProblem = problem;
        await this.reportLag().catch(() => undefined);
        await this.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
        continue;
      }
      // nudge() may have set `pending` while we were awaiting.
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (published === 0 && !this.pending) await this.sleep(this.options.idleMs ?? 250);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
