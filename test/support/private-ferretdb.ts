import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports';

const run = promisify(execFile);
const script = join(__dirname, '..', '..', 'infra', 'ferretdb', 'ferretdb.sh');

/**
 * A FerretDB of this spec's own (own port, own data folder), for specs that stop or kill the
 * database and must not disturb the shared one other specs are using.
 */
export class PrivateFerretDb {
  private constructor(
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<PrivateFerretDb> {
    const db = new PrivateFerretDb(await freePort(), mkdtempSync(join(tmpdir(), 'kw-ferret-')));
    await db.verb('start');
    return db;
  }

  get uri(): string {
    return `mongodb://127.0.0.1:${this.port}`;
  }

  async verb(verb: 'start' | 'stop' | 'status'): Promise<void> {
    await run('bash', [script, verb], {
      env: { ...process.env, MONGO_PORT: String(this.port), KEYWARD_DATA: this.dataDir },
      timeout: 120_000,
    });
  }

  /** SIGKILL: a crash, not a shutdown. */
  async kill(): Promise<void> {
    await run('bash', ['-c', `kill -9 "$(cat '${join(this.dataDir, 'run', 'ferretdb.pid')}')"`]);
  }

  async destroy(): Promise<void> {
    await this.verb('stop').catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
