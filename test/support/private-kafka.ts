import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';

const run = promisify(execFile);
const script = join(__dirname, '..', '..', 'infra', 'kafka', 'kafka.sh');

/** A Kafka broker of this spec's own, for specs that stop or restart the broker. */
export class PrivateKafka {
  private constructor(
    readonly port: number,
    readonly controllerPort: number,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<PrivateKafka> {
    const kafka = new PrivateKafka(await freePort(), await freePort(), mkdtempSync(join(tmpdir(), 'kw-kafka-')));
    await kafka.verb('start');
    return kafka;
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  async verb(verb: 'start' | 'stop' | 'status'): Promise<void> {
    await run('bash', [script, verb], {
      env: {
        ...process.env,
        KAFKA_PORT: String(this.port),
        KAFKA_CONTROLLER_PORT: String(this.controllerPort),
        KEYWARD_DATA: this.dataDir,
      },
      timeout: 180_000,
    });
  }

  async destroy(): Promise<void> {
    await this.verb('stop').catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
