import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import { PrivateComponent } from './private-component';

const run = promisify(execFile);

/** A three-node Kafka cluster of the spec's own (kafka.sh with KAFKA_HA=3), for specs that kill brokers. */
export class PrivateKafkaCluster extends PrivateComponent {
  private constructor(
    readonly ports: readonly number[],
    controllerPorts: readonly number[],
  ) {
    super('kafka', { KAFKA_HA: '3', KAFKA_PORTS: ports.join(','), KAFKA_CONTROLLER_PORTS: controllerPorts.join(',') }, 300_000);
  }

  static async start(): Promise<PrivateKafkaCluster> {
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) ports.push(await freePort());
    const cluster = new PrivateKafkaCluster(ports.slice(0, 3), ports.slice(3));
    await cluster.verb('start');
    return cluster;
  }

  get brokers(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  /** SIGKILL node `nodeId` (1-3, its Kafka node id): a crash. `verb('start')` brings it back. */
  async kill(nodeId: number): Promise<void> {
    const pid = readFileSync(join(this.dataDir, 'run', `kafka-${nodeId}.pid`), 'utf8').trim();
    await run('kill', ['-9', pid]);
  }
}
