import type { ConsumerConfig } from 'kafkajs';

/**
 * Group timings of every long-lived consumer (projector, key-api's event stream), chosen so that a
 * consumer rejoins within seconds after a broker restart (docs/kafka-client.md has the evidence).
 *
 * - sessionTimeout 10 s: a member that died without leaving (a crashed or SIGKILLed process, or a
 *   kafkajs consumer recreated after a crash, which never sends LeaveGroup) holds every rebalance
 *   of its group until its session expires; kafkajs' default of 30 s made each such ghost cost
 *   30 s, and the group restored after a broker restart still holds the member from before.
 * - heartbeatInterval 3 s: a third of the session, as Kafka recommends.
 * - rebalanceTimeout 20 s: how long a JoinGroup waits for live members to rejoin (kafkajs waits
 *   this plus 5 s for the JoinGroup answer).
 * - no restart by kafkajs (restartOnFailure: false): its restart re-joins 300 ms after a crash
 *   as a new member, without leaving, so every crash added a ghost that held the next rebalance;
 *   GroupConsumer restarts instead, after a jittered backoff, with the old consumer disconnected.
 *
 * KafkaConnection's requestTimeout must stay above sessionTimeout: a follower's SyncGroup waits for
 * the leader's, and when the leader is a ghost the broker answers only once its session expired.
 */
export const GROUP_CONSUMER_SETTINGS = {
  sessionTimeout: 10_000,
  heartbeatInterval: 3_000,
  rebalanceTimeout: 20_000,
  retry: {
    retries: Number.MAX_SAFE_INTEGER,
    initialRetryTime: 300,
    maxRetryTime: 2_000,
    restartOnFailure: (): Promise<boolean> => Promise.resolve(false),
  },
} as const satisfies Omit<ConsumerConfig, 'groupId'>;

/** Longest a group consumer's request may wait for an answer (> sessionTimeout, see above). */
export const GROUP_REQUEST_TIMEOUT_MS = GROUP_CONSUMER_SETTINGS.sessionTimeout + 15_000;
