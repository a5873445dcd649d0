import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { kafkaClientSecurity, loadConfig } from '@keyward/config';
import { testInfra, uniqueName } from '../support/env';
import { PrivateKafka } from '../support/private-kafka';
import { ServiceProcess } from '../support/service-process';

/**
 * Issue 23, finding 1 (transport): the broker of kafka.sh's secure profile (SASL_SSL, SCRAM users,
 * a local CA) accepts a client configured through Keyward's own settings (KAFKA_SSL*,
 * KAFKA_SASL*), and refuses a plaintext client, a wrong password and a client that does not trust
 * the broker's CA. A private broker: the shared one on 9092 is left alone.
 */
jest.setTimeout(300_000);

/** A client with a short fuse: a refusal must come back as an error, not as endless retries. */
const client = (brokers: string, extra: Partial<KafkaConfig>): Kafka =>
  new Kafka({
    clientId: 'secure-spec',
    brokers: [brokers],
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
    ...extra,
  });

async function listTopics(kafka: Kafka): Promise<string[]> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    return await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

describe('Kafka over TLS with SCRAM (private broker, secure profile)', () => {
  let broker: PrivateKafka;
  let settings: Record<string, string>;

  beforeAll(async () => {
    broker = await PrivateKafka.start({ secure: true });
    settings = broker.secureSettings();
  });
  afterAll(async () => {
    await broker.destroy();
  });

  it.each(['scram-sha-512', 'scram-sha-256'])(
    'a client with the right %s credentials over TLS produces and consumes',
    async (mechanism) => {
      const config = loadConfig({ ...settings, KAFKA_SASL_MECHANISM: mechanism });
      const kafka = client(broker.brokers, { ...kafkaClientSecurity(config.kafka.security), retry: { retries: 5 } });
      const topic = uniqueName('secure');
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: [{ key: 'k', value: 'over TLS' }] });
      await producer.disconnect();
      const consumer = kafka.consumer({ groupId: uniqueName('secure-group') });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<string>((resolve, reject) => {
        consumer
          .run({
            eachMessage: ({ message }) => {
              resolve(message.value?.toString() ?? '');
              return Promise.resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      expect(received).toBe('over TLS');
    },
  );

  it('refuses a plaintext client', async () => {
    await expect(listTopics(client(broker.brokers, {}))).rejects.toThrow();
  });

  it('refuses a wrong password', async () => {
    const config = loadConfig({ ...settings, KAFKA_SASL_PASSWORD_FILE: '', KAFKA_SASL_PASSWORD: 'not-the-password' });
    await expect(listTopics(client(broker.brokers, kafkaClientSecurity(config.kafka.security)))).rejects.toThrow(/SASL|authentication/i);
  });

  it('refuses to talk to a broker whose certificate it cannot verify (no CA given)', async () => {
    const config = loadConfig({ ...settings, KAFKA_SSL_CA_FILE: '' });
    await expect(listTopics(client(broker.brokers, kafkaClientSecurity(config.kafka.security)))).rejects.toThrow(/certificate/i);
  });

  it('a Keyward service configured with the settings connects (readiness checks Kafka)', async () => {
    const db = uniqueName('kw_secure').replace(/[-.]/g, '_');
    const projector = await ServiceProcess.start('projector', {
      ...settings,
      MONGODB_URI: testInfra().mongoUri,
      MONGODB_DB: db,
      KAFKA_TOPIC_EVENTS: uniqueName('secure.events'),
      KAFKA_TOPIC_USAGE: uniqueName('secure.usage'),
    });
    try {
      await projector.waitFor(async () => (await projector.get('/health/ready')).status === 200, 60_000);
      expect(projector.log).not.toContain(readFileSync(settings.KAFKA_SASL_PASSWORD_FILE!, 'utf8').trim());
    } finally {
      await projector.stop();
      const mongo = await MongoClient.connect(testInfra().mongoUri);
      await mongo
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
      await mongo.close();
    }
  });
});
