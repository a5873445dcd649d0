import type { Kafka } from 'kafkajs';

export interface TopicSettings {
  readonly topics: { readonly events: string; readonly usage: string };
  readonly partitions: number;
  readonly replicationFactor: number;
}

/**
 * In-sync replicas a write (acks=all) needs: a majority of the replicas, so that with replication
 * factor 3 one broker may be lost without refusing a write, and an acknowledged write survives it.
 */
export function minInsyncReplicas(replicationFactor: number): number {
  return Math.floor(replicationFactor / 2) + 1;
}

/** Creates Keyward's topics if missing: the event log is kept forever; replicated writes need a majority. */
export async function ensureTopics(kafka: Kafka, settings: TopicSettings): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [
      {
        topic: settings.topics.events,
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'retention.bytes', value: '-1' },
        ],
      },
      { topic: settings.topics.usage, configEntries: [{ name: 'retention.ms', value: String(400 * 86_400_000) }] },
    ].filter((t) => !existing.has(t.topic));
    if (wanted.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((t) => ({
          topic: t.topic,
          numPartitions: settings.partitions,
          replicationFactor: settings.replicationFactor,
          configEntries: [
            ...t.configEntries,
            { name: 'min.insync.replicas', value: String(minInsyncReplicas(settings.replicationFactor)) },
          ],
        })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
