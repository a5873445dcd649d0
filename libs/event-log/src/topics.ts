import type { Kafka } from 'kafkajs';

export interface TopicSettings {
  readonly topics: { readonly events: string; readonly usage: string };
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** Creates Keyward's topics if missing: the event log is kept forever. */
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
        topics: wanted.map((t) => ({ ...t, numPartitions: settings.partitions, replicationFactor: settings.replicationFactor })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}
