import { KeywardStack } from '../../support/keyward-stack';
import { PrivateFerretDb } from '../../support/private-ferretdb';
import { PrivateKafkaCluster } from '../../support/private-kafka-cluster';
import { freePort } from '../../support/ports';
import type { ServiceProcess } from '../../support/service-process';
import { Balancer } from './balancer';
import type { LoadTargets } from './drill-load';

/** A key-api instance and the port it keeps across restarts. */
export interface ApiInstance {
  process: ServiceProcess;
  readonly port: number;
}

/**
 * The high-availability layout on one machine, shared by the drill and the soak: a FerretDB and a
 * three-node Kafka of their own (RF 3), the projector, `instances` key-api processes behind
 * HAProxy, one onboarded tenant with a key-user and three active keys. `cleanup` undoes whatever
 * was started, in reverse order, also after a failed start.
 */
export class HaStack {
  kafka!: PrivateKafkaCluster;
  store!: PrivateFerretDb;
  stack!: KeywardStack;
  readonly apis: ApiInstance[] = [];
  balancer!: Balancer;
  tenantId = '';
  targets!: LoadTargets;
  private readonly cleanups: (() => Promise<unknown>)[] = [];

  /** Starts everything; on failure, `cleanup` still undoes what was started. */
  async start(instances: number): Promise<this> {
    [this.kafka, this.store] = await Promise.all([PrivateKafkaCluster.start(), PrivateFerretDb.start()]);
    this.cleanups.push(
      () => this.kafka.destroy(),
      async () => {
        await this.store.resume();
        await this.store.destroy();
      },
    );
    this.stack = new KeywardStack({ brokers: this.kafka.brokers, mongoUri: this.store.uri });
    this.stack.env.KAFKA_REPLICATION_FACTOR = '3';
    this.cleanups.push(async () => {
      // Throws (and is passed over) for what a failed start never made.
      await Promise.all([...this.apis.map((a) => a.process.stop()), this.stack.projector.stop()]);
      await this.stack.mongo.close();
    });
    await this.stack.start();
    this.apis.push({ process: this.stack.api, port: Number(new URL(this.stack.api.baseUrl).port) });
    for (let i = 1; i < instances; i++) {
      const port = await freePort();
      this.apis.push({ process: await this.stack.startApi({}, port), port });
    }
    this.balancer = await Balancer.start(
      this.apis.map((a) => `127.0.0.1:${a.port}`),
      this.stack.dataDir,
    );
    this.cleanups.push(() => this.balancer.stop());
    const tenant = await this.stack.onboard();
    this.tenantId = tenant.tenantId;
    const userKey = await this.stack.principal(tenant.adminKey, 'key-user');
    const keyIds: string[] = [];
    let seq = 0;
    for (let i = 0; i < 3; i++) {
      const made = await this.stack.call(tenant.adminKey, 'POST', '/v1/keys', { activate: true });
      const { key, seq: at } = made.json<{ key: { keyId: string }; seq: number }>();
      keyIds.push(key.keyId);
      seq = at;
    }
    // The load reads these keys through either instance from the first second: wait until the views hold them.
    const seen = await this.stack.call(tenant.adminKey, 'GET', `/v1/tenant?minSeq=${seq}`);
    if (seen.status !== 200) throw new Error(`drill: the views did not reach seq ${seq}: ${seen.status} ${seen.body}`);
    this.targets = { adminKey: tenant.adminKey, userKey, keyIds };
    return this;
  }

  /** Registers something to undo before the stack itself is stopped. */
  onCleanup(undo: () => Promise<unknown>): void {
    this.cleanups.push(undo);
  }

  async cleanup(): Promise<void> {
    for (const undo of this.cleanups.reverse()) await undo().catch(() => undefined);
    this.cleanups.length = 0;
  }
}
