import { Kafka, logLevel } from 'kafkajs';
import { MongoClient, MongoServerError } from 'mongodb';
import { testInfra, uniqueName } from '../support/env';

// Proves the infrastructure under the suite is real: a broker that takes, stores and hands
// back messages through a consumer group, and a MongoDB-protocol store that enforces indexes.
describe('local infrastructure is real', () => {
  const infra = testInfra();

  it('Kafka: a message produced to a new topic is consumed back through a consumer group', async () => {
    const kafka = new Kafka({ clientId: 'infra-spec', brokers: infra.brokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName('spec.infra');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
    expect(await admin.listTopics()).toContain(topic);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const marker = uniqueName('marker');
    await producer.send({ topic, acks: -1, messages: [{ key: 'tenant-a', value: marker }] });

    const consumer = kafka.consumer({ groupId: uniqueName('group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = new Promise<string>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          resolve(message.value?.toString('utf8') ?? '');
          return Promise.resolve();
        },
      });
    });
    await expect(received).resolves.toBe(marker);

    await consumer.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('MongoDB API: a unique index rejects a duplicate with E11000', async () => {
    const client = await MongoClient.connect(infra.mongoUri, { serverSelectionTimeoutMS: 10_000 });
    const db = client.db(uniqueName('spec_infra').replace(/[-.]/g, '_'));
    try {
      const things = db.collection<{ _id: string; tenant: string; alias: string }>('things');
      await things.createIndex({ tenant: 1, alias: 1 }, { unique: true }, undefined);
      await things.insertOne({ _id: 'a', tenant: 't1', alias: 'payments' });
      await things.insertOne({ _id: 'b', tenant: 't2', alias: 'payments' });
      const duplicate = await things.insertOne({ _id: 'c', tenant: 't1', alias: 'payments' }).catch((err: unknown) => err);
      expect(duplicate).toBeInstanceOf(MongoServerError);
      expect((duplicate as MongoServerError).code).toBe(11000);
      expect(await things.countDocuments()).toBe(2);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});
