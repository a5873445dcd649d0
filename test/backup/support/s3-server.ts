import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repoRoot = join(__dirname, '..', '..', '..');

/**
 * A real S3-compatible server for the specs: s3rver (file-backed, speaks the S3 REST API with
 * SigV4) run as a child process on a free loopback port, with its buckets created at start.
 */
export class S3Server {
  static readonly accessKeyId = 'S3RVER';
  static readonly secretAccessKey = 'S3RVER';

  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
    readonly directory: string,
  ) {}

  static async start(buckets: readonly string[]): Promise<S3Server> {
    const directory = mkdtempSync(join(tmpdir(), 'kw-s3-'));
    const args = [join(repoRoot, 'node_modules', 's3rver', 'bin', 's3rver.js'), '-d', directory, '-a', '127.0.0.1', '-p', '0', '--silent'];
    for (const bucket of buckets) args.push('--configure-bucket', bucket);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${output}`)), 20_000);
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        const match = /listening on ([\d.]+):(\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(`http://${match[1]}:${match[2]}`);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => reject(new Error(`s3rver exited (${String(code)}):\n${output}`)));
    });
    return new S3Server(child, endpoint, directory);
  }

  /** Environment for one backup destination on this server. */
  env(part: 'KEK' | 'DEK'): Record<string, string> {
    return {
      [`BACKUP_${part}_S3_ENDPOINT`]: this.endpoint,
      [`BACKUP_${part}_S3_ACCESS_KEY_ID`]: S3Server.accessKeyId,
      [`BACKUP_${part}_S3_SECRET_ACCESS_KEY`]: S3Server.secretAccessKey,
    };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.directory, { recursive: true, force: true });
  }
}
