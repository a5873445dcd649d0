import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { KeywardConfig } from '@keyward/config';
import { ApiKeyAuthenticator } from '@keyward/auth';
import { effectsOf, type KeywardEvent } from '@keyward/domain';
import type { Commit } from '@keyward/event-log';
import { ensureTopics, ForgedCommits, fromMessage } from '@keyward/event-log';
import {
  GROUP_CONSUMER_SETTINGS,
  GroupConsumer,
  KafkaConnection,
  KEYWARD_CONFIG,
  MetricsRegistry,
  retryUntilDone,
} from '@keyward/platform';
import { KeyMaterialService } from './key-material.service';
import { KeyStateSource } from './key-state.source';

/**
 * Every key-api instance follows keyward.events (its own consumer group, from the live end) so
 * that a commit made anywhere invalidates this instance's cached key states, unwrapped material
 * and credentials within a poll interval.
 */
@Injectable()
export class EventStreamListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('event-stream');
  private readonly groupId = `keyward-key-api-${randomUUID()}`;
  private running = true;
  /** Joined once the consumer is in its group: from then on, commits made anywhere invalidate this instance. */
  private readonly consumer: GroupConsumer;
  private readonly forged: ForgedCommits;
  /** Told of every well-formed commit the stream carries (a hint to re-read, never proof: see onBatch). */
  private readonly commitListeners: ((commit: Commit) => void)[] = [];

  constructor(
    @Inject(KEYWARD_CONFIG) private readonly config: KeywardConfig,
    private readonly kafka: KafkaConnection,
    private readonly states: KeyStateSource,
    private readonly materials: KeyMaterialService,
    metrics: MetricsRegistry,
    /** Absent in a service that takes no API keys (kmip). */
    @Optional() private readonly authenticator?: ApiKeyAuthenticator,
  ) {
    this.consumer = new GroupConsumer(kafka.kafka, metrics, {
      name: 'event-stream',
      groupId: this.groupId,
      // A fetch is answered as soon as a commit arrives (minBytes 1): the wait only bounds how often
      // an idle instance asks (once per heartbeat, which kafkajs sends between fetches), not how
      // soon it hears of a disabled key.
      config: { allowAutoTopicCreation: false, maxWaitTimeInMs: GROUP_CONSUMER_SETTINGS.heartbeatInterval },
      run: (consumer) => this.follow(consumer),
      // Short: commits are only heard again once rejoined (none is lost: the group resumes from its offsets).
      graceMs: 5_000,
    });
    this.forged = new ForgedCommits(metrics.registry, 'key-api-stream', this.logger);
  }

  onApplicationBootstrap(): void {
    void retryUntilDone(
      () => ensureTopics(this.kafka.kafka, this.config.kafka),
      (why) => this.logger.warn(`cannot follow ${this.config.kafka.topics.events} yet (${why})`),
    ).then(() => {
      if (this.running) this.consumer.start();
    });
  }

  /** Runs one (re)started consumer of this instance's group; GroupConsumer restarts it after a crash. */
  private async follow(consumer: Consumer): Promise<void> {
    await consumer.subscribe({ topic: this.config.kafka.topics.events, fromBeginning: false });
    await consumer.run({ eachBatch: (payload) => this.onBatch(payload) });
  }

  /** Calls `listener` with every commit message the stream carries from now on (unverified: use it only to re-read). */
  onCommit(listener: (commit: Commit) => void): void {
    this.commitListeners.push(listener);
  }

  /** True once the consumer is in its group: every commit made from then on reaches the listeners. */
  get joined(): boolean {
    return this.consumer.joined;
  }

  /** Readiness: an instance that does not follow the stream (yet, or for the grace period) could serve keys another instance just disabled. */
  health(): HealthIndicatorResult {
    return this.consumer.health('eventStream');
  }

  /**
   * A message only ever drops cached copies (states, unwrapped material, credentials), which are
   * then read again from the stores: nothing is disabled or destroyed on its word. Its seq is then
   * checked against the store (confirmStreamed) and a claim the store does not back is forgotten.
   */
  private onBatch({ batch }: EachBatchPayload): Promise<void> {
    for (const message of batch.messages) {
      let commit: Commit;
      try {
        commit = fromMessage(message.value);
      } catch {
        this.forged.malformed(`${batch.partition}/${message.offset}`);
        continue;
      }
      this.states.noteCommit(commit.tenantId, commit.seq);
      try {
        for (const event of commit.events) this.invalidate(commit.tenantId, event);
      } catch {
        // An event without the data its type calls for: the store's check below reports the message.
      }
      for (const listener of this.commitListeners) {
        try {
          listener(commit);
        } catch {
          // A listener's failure is its own: the other listeners and the store's check go on.
        }
      }
      void this.states.confirmStreamed(commit).then(
        (reason) => {
          if (reason !== undefined) this.forged.report([{ tenantId: commit.tenantId, seq: commit.seq, reason }]);
        },
        () => undefined,
      );
    }
    return Promise.resolve();
  }

  /** The cache effects of an event (the domain's effectsOf): keys, a tenant, principals to stop using at once. */
  private invalidate(tenantId: string, event: KeywardEvent): void {
    const effects = effectsOf(event);
    this.materials.forgetEffects(tenantId, effects);
    for (const principalId of effects.forgetPrincipals) this.authenticator?.forgetPrincipal(principalId);
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    await this.consumer.stop();
    // The group was this process's alone: leave nothing behind on the cluster.
    const admin = this.kafka.kafka.admin();
    await admin
      .connect()
      .then(() => admin.deleteGroups([this.groupId]))
      .catch(() => undefined)
      .finally(() => void admin.disconnect().catch(() => undefined));
  }
}
