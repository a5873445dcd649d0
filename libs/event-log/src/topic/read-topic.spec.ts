import type { Kafka, KafkaMessage } from 'kafkajs';
import { readTopic, TopicReadError, type TopicReadOptions } from './read-topic';

interface FakePartition {
  readonly low: number;
  /** The end when the read begins; messages up to `produced` exist (later ones arrive during the read). */
  readonly high: number;
  readonly produced: number;
  /** Offset of the first message at or after the asked time (-1: none). */
  readonly atTime?: number;
}

const message = (partition: number, offset: number): KafkaMessage =>
  ({ offset: String(offset), key: Buffer.from(`p${partition}`), value: Buffer.from(`${partition}:${offset}`) }) as unknown as KafkaMessage;

/** Just enough of kafkajs: an admin that reports offsets, a consumer that delivers batches of `batchSize`. */
function fakeKafka(partitions: readonly FakePartition[], behaviour: { batchSize?: number; offsetsFail?: boolean; silent?: boolean } = {}) {
  const seen = { groups: [] as string[], seeks: new Map<number, number>(), resolved: new Map<number, string>(), disconnected: 0 };
  const kafka = {
    admin: () => ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      fetchTopicOffsets: () =>
        behaviour.offsetsFail
          ? Promise.reject(new Error('broker down'))
          : Promise.resolve(
              partitions.map((p, partition) => ({ partition, low: String(p.low), high: String(p.high), offset: String(p.high) })),
            ),
      fetchTopicOffsetsByTimestamp: () =>
        Promise.resolve(partitions.map((p, partition) => ({ partition, offset: String(p.atTime ?? -1) }))),
    }),
    consumer: ({ groupId }: { groupId: string }) => {
      seen.groups.push(groupId);
      return {
        connect: () => Promise.resolve(),
        subscribe: () => Promise.resolve(),
        disconnect: () => {
          seen.disconnected += 1;
          return Promise.resolve();
        },
        seek: ({ partition, offset }: { partition: number; offset: string }) => seen.seeks.set(partition, Number(offset)),
        run: ({ eachBatch }: { eachBatch: (payload: unknown) => Promise<void> }) => {
          if (behaviour.silent) return Promise.resolve();
          setImmediate(() => {
            void (async () => {
              for (const [partition, p] of partitions.entries()) {
                const size = behaviour.batchSize ?? 1_000;
                for (let from = seen.seeks.get(partition) ?? p.low; from < p.produced; from += size) {
                  const messages = [];
                  for (let o = from; o < Math.min(p.produced, from + size); o++) messages.push(message(partition, o));
                  await eachBatch({
                    batch: { partition, messages, lastOffset: () => String(from + messages.length - 1) },
                    resolveOffset: (offset: string) => seen.resolved.set(partition, offset),
                    heartbeat: () => Promise.resolve(),
                  });
                }
              }
            })();
          });
          return Promise.resolve();
        },
      };
    },
  } as unknown as Kafka;
  return { kafka, seen };
}

const offsetsOf = (messages: readonly KafkaMessage[]): string[] => messages.map((m) => m.value?.toString() ?? '');

describe('readTopic', () => {
  const options: TopicReadOptions = { group: 'keyward-test' };

  it('reads every partition from its start to the end it had when the read began, in slices', async () => {
    const { kafka, seen } = fakeKafka([
      { low: 0, high: 5, produced: 7 },
      { low: 2, high: 4, produced: 4 },
      { low: 3, high: 3, produced: 3 },
    ]);
    const slices: string[][] = [];
    const ended: number[] = [];
    const progress: number[] = [];
    const result = await readTopic(kafka, 'events', (messages) => void slices.push(offsetsOf(messages)), {
      ...options,
      slice: 2,
      onPartitionEnd: (p) => void ended.push(p),
      onProgress: (p) => progress.push(p.messages),
    });
    expect(result).toEqual({ messages: 7, total: 7, truncated: false });
    expect(slices).toEqual([['0:0', '0:1'], ['0:2', '0:3'], ['0:4'], ['1:2', '1:3']]);
    expect(ended).toEqual([0, 1]);
    expect(progress).toEqual([2, 4, 5, 7]);
    expect(seen.groups[0]).toMatch(/^keyward-test-[0-9a-f-]{36}$/);
    expect(seen.resolved.get(1)).toBe('3');
    expect(seen.disconnected).toBe(1);
  });

  it('answers at once, without a consumer, when the topic is empty', async () => {
    const { kafka, seen } = fakeKafka([{ low: 4, high: 4, produced: 4 }]);
    expect(await readTopic(kafka, 'events', () => undefined, options)).toEqual({ messages: 0, total: 0, truncated: false });
    expect(seen.groups).toEqual([]);
  });

  it('stops when the callback says so, and says the read was truncated', async () => {
    const { kafka } = fakeKafka([{ low: 0, high: 10, produced: 10 }], { batchSize: 3 });
    let calls = 0;
    const result = await readTopic(kafka, 'events', () => (++calls === 2 ? 'stop' : undefined), options);
    expect(result).toEqual({ messages: 6, total: 10, truncated: true });
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
  });

  it('starts each partition at the offset of a time, seeking past what comes before', async () => {
    const { kafka, seen } = fakeKafka([
      { low: 0, high: 6, produced: 6, atTime: 4 },
      { low: 0, high: 3, produced: 3, atTime: -1 },
    ]);
    const read: string[] = [];
    const result = await readTopic(kafka, 'events', (messages) => void read.push(...offsetsOf(messages)), { ...options, fromTimestamp: 1 });
    expect(read).toEqual(['0:4', '0:5']);
    expect(result).toEqual({ messages: 2, total: 2, truncated: false });
    expect(seen.seeks).toEqual(new Map([[0, 4]]));
  });

  it('ends the read with the error of a callback', async () => {
    const { kafka, seen } = fakeKafka([{ low: 0, high: 3, produced: 3 }]);
    const failing = readTopic(
      kafka,
      'events',
      () => {
        throw new Error('malformed');
      },
      options,
    );
    await expect(failing).rejects.toThrow('malformed');
    expect(seen.disconnected).toBe(1);
  });

  it('says when the offsets cannot be read, and when the read outlasts its time', async () => {
    const down = fakeKafka([{ low: 0, high: 3, produced: 3 }], { offsetsFail: true });
    await expect(readTopic(down.kafka, 'events', () => undefined, options)).rejects.toMatchObject({
      name: 'TopicReadError',
      stage: 'offsets',
      message: 'broker down',
    });
    const silent = fakeKafka([{ low: 0, high: 3, produced: 3 }], { silent: true });
    const late = readTopic(silent.kafka, 'events', () => undefined, { ...options, timeoutMs: 20 });
    await expect(late).rejects.toBeInstanceOf(TopicReadError);
    await expect(late).rejects.toMatchObject({ stage: 'timeout', message: 'reading events did not finish within 0 s' });
  });
});
