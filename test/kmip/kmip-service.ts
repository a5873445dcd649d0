import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../support/ports';

const repoRoot = join(__dirname, '..', '..');

/**
 * The kmip service run from dist/ as a real process; ready once its TLS port accepts connections.
 * Its health and metrics listener gets a free port of its own (`httpUrl`).
 */
export class KmipService {
  private log = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly httpPort: number,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  static async start(env: Record<string, string>, port: number): Promise<KmipService> {
    const httpPort = await freePort();
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'services', 'kmip', 'src', 'main.js')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        ...env,
        KMIP_HOST: '127.0.0.1',
        KMIP_PORT: String(port),
        KMIP_HTTP_HOST: '127.0.0.1',
        KMIP_HTTP_PORT: String(httpPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new KmipService(child, port, httpPort);
    const deadline = Date.now() + 30_000;
    while (!(await service.accepting())) {
      if (child.exitCode !== null) throw new Error(`kmip exited (${child.exitCode}):\n${service.log}`);
      if (Date.now() > deadline) throw new Error(`kmip did not listen on ${port}:\n${service.log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return service;
  }

  /** Base URL of the health and metrics listener. */
  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  get output(): string {
    return this.log;
  }

  private accepting(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }

  /** SIGTERM, and SIGKILL after 10 s (a process whose event loop is stuck never runs its shutdown). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(kill);
  }
}
