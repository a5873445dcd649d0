import { join } from 'node:path';
import { freePort } from './ports';
import { PrivateComponent } from './private-component';

/** A Kafka broker of the spec's own, for specs that stop or restart the broker. */
export class PrivateKafka extends PrivateComponent {
  private constructor(
    readonly port: number,
    controllerPort: number,
    readonly secure: boolean,
  ) {
    super('kafka', { KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_SECURE: secure ? '1' : '0' }, 180_000);
  }

  /** `secure`: kafka.sh's secure profile (SASL_SSL, SCRAM users, a local CA; see secureSettings). */
  static async start(options: { secure?: boolean } = {}): Promise<PrivateKafka> {
    const kafka = new PrivateKafka(await freePort(), await freePort(), options.secure ?? false);
    await kafka.verb('start');
    return kafka;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The KAFKA_* settings a client of the secure profile uses (what kafka.sh prints). */
  secureSettings(): Record<string, string> {
    const dir = join(this.dataDir, 'kafka', 'secure');
    return {
      KAFKA_BROKERS: this.brokers,
      KAFKA_SSL: 'on',
      KAFKA_SSL_CA_FILE: join(dir, 'ca.pem'),
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'keyward',
      KAFKA_SASL_PASSWORD_FILE: join(dir, 'keyward.password'),
    };
  }
}
