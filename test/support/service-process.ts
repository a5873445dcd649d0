import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenApiConformance } from './openapi-conformance';
import { freePort } from './ports';

const repoRoot = join(__dirname, '..', '..');

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  json<T = unknown>(): T;
}

/** A client certificate and its private key (PEM), presented over mutual TLS. */
export interface ClientCertificate {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

/** The Node options `npm start` runs each service with (infra/service-node-flags.json), so specs, the drill and the soak run it as deployed. */
const SERVICE_NODE_FLAGS = JSON.parse(readFileSync(join(repoRoot, 'infra', 'service-node-flags.json'), 'utf8')) as Record<string, string[]>;
const serviceNodeFlags = (name: string): string[] => SERVICE_NODE_FLAGS[name] ?? [];
/** The soak's affordance: each service also opens an inspector on a free loopback port (never for `npm start`). */
const inspectFlags = (): string[] => (process.env.KEYWARD_SERVICE_INSPECT === '1' ? ['--inspect=127.0.0.1:0'] : []);

/** One Keyward service run as a real process from dist/ (built by `npm test`). */
export class ServiceProcess {
  readonly output: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly dataDir: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString('utf8')));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Presented by every request that names no other (for key-api started with KEY_API_MTLS=required). */
  clientCert: ClientCertificate | undefined;
  /** key-api only: its /metrics listener (a port of its own, never the API port). */
  metricsUrl: string | undefined;
  /** key-api only: the OpenAPI document it serves, that every JSON answer is checked against. */
  private servedSchema: Promise<OpenApiConformance | null> | undefined;

  static async start(
    name: 'key-api' | 'projector' | 'backup',
    env: Record<string, string>,
    options: { clientCert?: ClientCertificate; port?: number } = {},
  ): Promise<ServiceProcess> {
    const port = options.port ?? (await freePort());
    const dataDir = env.KEYWARD_DATA ?? mkdtempSync(join(tmpdir(), `kw-${name}-`));
    const portVar = { 'key-api': 'KEY_API_PORT', projector: 'PROJECTOR_PORT', backup: 'BACKUP_PORT' }[name];
    const tls = name === 'key-api' && env.KEY_API_TLS !== 'off';
    const metricsPort = name === 'key-api' ? (env.KEY_API_METRICS_PORT ?? String(await freePort())) : undefined;
    const child = spawn(
      process.execPath,
      [...serviceNodeFlags(name), ...inspectFlags(), join(repoRoot, 'dist', 'services', name, 'src', 'main.js')],
      {
        cwd: repoRoot,
        env: {
          ...process.env,
          KEYWARD_DATA: dataDir,
          [portVar]: String(port),
          LOG_LEVEL: 'info',
          ...(metricsPort ? { KEY_API_METRICS_PORT: metricsPort } : {}),
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const service = new ServiceProcess(name, child, `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, dataDir);
    service.clientCert = options.clientCert;
    if (metricsPort) service.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    // 60 s: on a loaded 2-core machine (load average 25) a service needs 6-7 s of CPU to start and took over 30 s.
    await service.waitFor(async () => (await service.get('/health/live')).status === 200, 60_000);
    return service;
  }

  /** The exit code once the process ended on its own (for start-up failures). */
  static async runToExit(name: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'services', name, 'src', 'main.js')], {
      cwd: repoRoot,
      env: { ...process.env, KEYWARD_DATA: mkdtempSync(join(tmpdir(), 'kw-cfg-')), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, output };
  }

  get log(): string {
    return this.output.join('');
  }

  async request(
    method: string,
    path: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      clientCert?: ClientCertificate;
      localAddress?: string;
      /** Socket idle timeout (default 10 s): longer for requests that do slow work, such as generating an RSA-4096 key. */
      timeoutMs?: number;
    } = {},
  ): Promise<HttpAnswer> {
    const answer = await this.send(method, path, options);
    const schema = this.name === 'key-api' && process.env.KEYWARD_E2E_OPENAPI !== 'off' ? await this.openApi() : null;
    const violation = schema?.violation({ method, path, status: answer.status, contentType: contentTypeOf(answer), body: answer.body });
    if (violation)
      throw new Error(`OpenAPI drift (the served document does not describe this answer): ${violation}\n${answer.body.slice(0, 2000)}`);
    return answer;
  }

  /** The served OpenAPI document (fetched once), or null when it cannot be read. */
  private openApi(): Promise<OpenApiConformance | null> {
    this.servedSchema ??= this.send('GET', '/docs/json', {}).then(
      (a) => (a.status === 200 ? new OpenApiConformance(a.json()) : null),
      () => null,
    );
    return this.servedSchema;
  }

  private send(
    method: string,
    path: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      clientCert?: ClientCertificate;
      localAddress?: string;
      timeoutMs?: number;
    },
  ): Promise<HttpAnswer> {
    const url = new URL(path, this.baseUrl);
    const payload = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    };
    const isTls = url.protocol === 'https:';
    const ca = isTls ? readFileSync(join(this.dataDir, 'tls', 'ca.crt')) : undefined;
    return new Promise((resolve, reject) => {
      const clientCert = options.clientCert ?? this.clientCert;
      const tlsOptions = {
        ...(ca ? { ca } : {}),
        ...(clientCert ? { cert: clientCert.cert, key: clientCert.key } : {}),
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      };
      const req = (isTls ? httpsRequest : httpRequest)(
        url,
        { method, headers, timeout: options.timeoutMs ?? 10_000, ...tlsOptions },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body) as T });
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  get(path: string, headers?: Record<string, string>): Promise<HttpAnswer> {
    return this.request('GET', path, headers ? { headers } : {});
  }

  /** Polls `check` until it holds; returns the elapsed milliseconds. */
  async waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}):\n${this.log.slice(-3000)}`);
      if (await check().catch(() => false)) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** SIGTERM and wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

function contentTypeOf(answer: HttpAnswer): string | undefined {
  const type = answer.headers['content-type'];
  return Array.isArray(type) ? type[0] : type;
}
