import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/ports';

const run = promisify(execFile);
const repoRoot = join(__dirname, '..', '..', '..');

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** HAProxy in front of key-api instances, configured by infra/haproxy/haproxy-config.mjs, and a client of it. */
export class Balancer {
  private readonly agent: Agent;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly ca: Buffer,
    readonly output: string[],
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ca });
  }

  /** `servers`: host:port of each key-api; `dataDir`: theirs (the development CA, the config file). */
  static async start(servers: readonly string[], dataDir: string): Promise<Balancer> {
    if (spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status !== 0) {
      throw new Error('the drill runs key-api behind HAProxy, which is not installed (apt-get install haproxy)');
    }
    const port = await freePort();
    const args = [join(repoRoot, 'infra', 'haproxy', 'haproxy-config.mjs'), '--listen', `127.0.0.1:${port}`, '--tls', 'on'];
    for (const s of servers) args.push('--server', s);
    const { stdout } = await run(process.execPath, args);
    const cfg = join(dataDir, 'haproxy.cfg');
    writeFileSync(cfg, stdout);
    const child = spawn('haproxy', ['-W', '-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => output.push(c.toString('utf8')));
    const balancer = new Balancer(child, port, readFileSync(join(dataDir, 'tls', 'ca.crt')), output);
    const deadline = Date.now() + 30_000;
    while ((await balancer.send('GET', '/health/live').catch(() => ({ status: 0, body: '' }))).status !== 200) {
      if (Date.now() > deadline) throw new Error(`haproxy did not answer:\n${output.join('')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return balancer;
  }

  send(method: string, path: string, key?: string, body?: unknown, timeoutMs = 10_000): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      if (key) req.setHeader('authorization', `Bearer ${key}`);
      if (payload !== undefined) req.setHeader('content-type', 'application/json');
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(payload);
    });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
