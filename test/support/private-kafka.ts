import { freePort } from './ports';
import { PrivateComponent } from './private-component';

/** A Kafka broker of the spec's own, for specs that stop or restart the broker. */
export class PrivateKafka extends PrivateComponent {
  private constructor(
    readonly port: number,
    controllerPort: number,
  ) {
    super('kafka', { KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort) }, 180_000);
  }

  static async start(): Promise<PrivateKafka> {
    const kafka = new PrivateKafka(await freePort(), await freePort());
    await kafka.verb('start');
    return kafka;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }
}
