import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MongoClient, type Db } from 'mongodb';
import { testInfra, uniqueName } from './env';
import { ServiceProcess, type HttpAnswer } from './service-process';

const run = promisify(execFile);
const repoRoot = join(__dirname, '..', '..');

export interface StackOptions {
  readonly brokers?: string;
  readonly mongoUri?: string;
}

/** key-api + projector as real processes on their own database and topic. */
export class KeywardStack {
  api!: ServiceProcess;
  projector!: ServiceProcess;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'kw-stack-'));
  readonly env: Record<string, string>;
  mongo!: MongoClient;
  db!: Db;
  providerKey = '';

  constructor(options: StackOptions = {}) {
    const infra = testInfra();
    this.env = {
      KAFKA_BROKERS: options.brokers ?? infra.brokers.join(','),
      MONGODB_URI: options.mongoUri ?? infra.mongoUri,
      MONGODB_DB: uniqueName('kw').replace(/[-.]/g, '_'),
      KAFKA_TOPIC_EVENTS: uniqueName('spec.events'),
      KAFKA_TOPIC_USAGE: uniqueName('spec.usage'),
      KEYWARD_DATA: this.dataDir,
    };
  }

  async start(): Promise<this> {
    this.api = await ServiceProcess.start('key-api', this.env);
    this.projector = await ServiceProcess.start('projector', this.env);
    const keyFile = join(this.dataDir, 'provider-admin.key');
    await this.api.waitFor(async () => Promise.resolve(readable(keyFile)), 30_000);
    this.providerKey = readFileSync(keyFile, 'utf8').trim();
    this.mongo = await MongoClient.connect(this.env.MONGODB_URI!);
    this.db = this.mongo.db(this.env.MONGODB_DB);
    return this;
  }

  /** Another key-api process on the same database, topics and data folder (root key included); on `port` when given. */
  startApi(extraEnv: Record<string, string> = {}, port?: number): Promise<ServiceProcess> {
    return ServiceProcess.start('key-api', { ...this.env, ...extraEnv }, port === undefined ? {} : { port });
  }

  /** Replaces the main key-api process (graceful stop) with one started with `extraEnv`. */
  async restartApi(extraEnv: Record<string, string> = {}): Promise<void> {
    await this.api.stop();
    this.api = await this.startApi(extraEnv);
  }

  /** Calls any key-api process of this stack with a bearer key. */
  callOn(api: ServiceProcess, key: string, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return api.request(method, path, { headers: { authorization: `Bearer ${key}` }, ...(body === undefined ? {} : { body }) });
  }

  /** The development root key the stack's key-api generated into its data folder. */
  rootKey(): Buffer {
    return Buffer.from(readFileSync(join(this.dataDir, 'root.key'), 'utf8').trim(), 'base64');
  }

  /** The backup service on this stack's database, with its destinations and keys in `extraEnv`. The caller stops it. */
  startBackup(extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    return ServiceProcess.start('backup', { ...this.env, ...extraEnv });
  }

  async restartProjector(kill = false): Promise<void> {
    if (kill) this.projector.child.kill('SIGKILL');
    await this.projector.stop();
    this.projector = await ServiceProcess.start('projector', this.env);
  }

  async stop(): Promise<void> {
    await Promise.all([this.api.stop(), this.projector.stop()]);
    await this.db.dropDatabase().catch(() => undefined);
    await this.mongo.close();
  }

  call(key: string, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    return this.api.request(method, path, { headers: { authorization: `Bearer ${key}` }, ...(body === undefined ? {} : { body }) });
  }

  /** Onboards a tenant; `open` by default (key-users use every key, as before grants), `required` when a spec tests grants. */
  async onboard(
    name = uniqueName('Tenant'),
    grants: 'open' | 'required' = 'open',
  ): Promise<{ tenantId: string; adminKey: string; seq: number }> {
    const answer = await this.call(this.providerKey, 'POST', '/v1/tenants', { name, grants });
    if (answer.status !== 201) throw new Error(`onboard: ${answer.status} ${answer.body}`);
    const body = answer.json<{ tenantId: string; seq: number; admin: { enrollment: { token: string } } }>();
    // The provider receives only the first admin's enrollment token; the admin redeems it itself.
    const enrolled = await this.enroll(body.admin.enrollment.token);
    return { tenantId: body.tenantId, adminKey: enrolled.apiKey, seq: Math.max(body.seq, enrolled.seq) };
  }

  async principal(adminKey: string, role: string): Promise<string> {
    return (await this.principalWithId(adminKey, role)).apiKey;
  }

  /** Creates a principal (as `adminKey`) and enrolls it: its id and its API key. */
  async principalWithId(adminKey: string, role: string, name = uniqueName(role)): Promise<{ principalId: string; apiKey: string }> {
    const answer = await this.call(adminKey, 'POST', '/v1/principals', { name, role });
    if (answer.status !== 201) throw new Error(`principal: ${answer.status} ${answer.body}`);
    const made = answer.json<{ principalId: string; enrollment: { token: string } }>();
    return { principalId: made.principalId, apiKey: (await this.enroll(made.enrollment.token)).apiKey };
  }

  /** Redeems an enrollment token (as the new principal would): its API key, once. */
  async enroll(token: string, api: ServiceProcess = this.api): Promise<{ apiKey: string; principalId: string; seq: number }> {
    return enrollWith(api, token);
  }

  /** Runs the rebuild CLI into a scratch database; returns its JSON summary. */
  async rebuildInto(
    scratch: string,
  ): Promise<{ checksums: Record<string, string>; live: Record<string, string>; mismatched: string[]; messages: number }> {
    const { stdout } = await run(
      process.execPath,
      [join(repoRoot, 'dist', 'services', 'projector', 'src', 'rebuild', 'rebuild.js'), '--into', scratch, '--json'],
      {
        env: { ...process.env, ...this.env },
        timeout: 120_000,
      },
    ).catch((err: unknown) => {
      const failed = err as { stdout?: string; stderr?: string; message?: string };
      if (failed.stdout) return { stdout: failed.stdout };
      throw new Error(`rebuild failed: ${failed.stderr ?? failed.message ?? 'unknown error'}`);
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as {
      checksums: Record<string, string>;
      live: Record<string, string>;
      mismatched: string[];
      messages: number;
    };
  }
}

/** Redeems an enrollment token at any key-api process: the new principal's API key. */
export async function enrollWith(api: ServiceProcess, token: string): Promise<{ apiKey: string; principalId: string; seq: number }> {
  const answer = await api.request('POST', '/v1/enroll', { body: { token } });
  if (answer.status !== 200) throw new Error(`enroll: ${answer.status} ${answer.body}`);
  return answer.json<{ apiKey: string; principalId: string; seq: number }>();
}

function readable(path: string): boolean {
  try {
    return readFileSync(path, 'utf8').trim().length > 0;
  } catch {
    return false;
  }
}
