import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A piece of local infrastructure of a spec's own (own ports, own data folder), driven through
 * its infra/<name>/<name>.sh launcher, for specs that stop or kill it without disturbing the
 * shared instance other specs use.
 */
export abstract class PrivateComponent {
  readonly dataDir: string;

  protected constructor(
    private readonly name: 'ferretdb' | 'kafka',
    private readonly env: Readonly<Record<string, string>>,
    private readonly timeoutMs: number,
  ) {
    this.dataDir = mkdtempSync(join(tmpdir(), `kw-${name}-`));
  }

  async verb(verb: 'start' | 'stop' | 'status'): Promise<void> {
    await run('bash', [join(__dirname, '..', '..', 'infra', this.name, `${this.name}.sh`), verb], {
      env: { ...process.env, ...this.env, KEYWARD_DATA: this.dataDir },
      timeout: this.timeoutMs,
    });
  }

  async destroy(): Promise<void> {
    await this.verb('stop').catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
