import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';
import { PrivateComponent } from './private-component';

const run = promisify(execFile);

/** A FerretDB of the spec's own. */
export class PrivateFerretDb extends PrivateComponent {
  private constructor(readonly port: number) {
    super('ferretdb', { MONGO_PORT: String(port) }, 120_000);
  }

  static async start(): Promise<PrivateFerretDb> {
    const db = new PrivateFerretDb(await freePort());
    await db.verb('start');
    return db;
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  /** SIGKILL: a crash, not a shutdown. */
  async kill(): Promise<void> {
    await this.signal('KILL');
  }

  /** SIGSTOP: the store hangs (connections open, nothing answered) until `resume`. */
  async pause(): Promise<void> {
    await this.signal('STOP');
  }

  async resume(): Promise<void> {
    await this.signal('CONT');
  }

  private async signal(name: 'KILL' | 'STOP' | 'CONT'): Promise<void> {
    await run('bash', ['-c', `kill -${name} "$(cat '${join(this.dataDir, 'run', 'ferretdb.pid')}')"`]);
  }
}
