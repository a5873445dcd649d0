import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testInfra, uniqueName } from '../support/env';
import { freePort } from '../support/ports';

const repoRoot = join(__dirname, '..', '..');
const hasScript = existsSync('/usr/bin/script') || existsSync('/bin/script');

/**
 * A fresh `npm start` on a terminal (a pty from util-linux `script`): the banner, which says where
 * to connect, is among the first 15 lines, and Nest's start-up chatter (module wiring, one line per
 * route) is not printed at the default level. Its own database, topics, data folder and ports.
 */
(hasScript ? describe : describe.skip)('npm start on a terminal', () => {
  jest.setTimeout(240_000);

  it('shows the banner within the first 15 lines, then the services, then "ready"; no route table', async () => {
    const infra = testInfra();
    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      KAFKA_BROKERS: infra.brokers.join(','),
      MONGODB_URI: infra.mongoUri,
      MONGODB_DB: uniqueName('kwstart').replace(/[-.]/g, '_'),
      KAFKA_TOPIC_EVENTS: uniqueName('spec.events'),
      KAFKA_TOPIC_USAGE: uniqueName('spec.usage'),
      KEYWARD_DATA: mkdtempSync(join(tmpdir(), 'kw-start-')),
      KEY_API_PORT: String(ports[0]),
      KEY_API_METRICS_PORT: String(ports[1]),
      PROJECTOR_PORT: String(ports[2]),
      BACKUP_PORT: String(ports[3]),
      KMIP_PORT: String(ports[4]),
      KMIP_HTTP_PORT: String(ports[5]),
    };
    delete env.LOG_LEVEL;
    delete env.LOG_FORMAT;
    const child = spawn('script', ['-qefc', 'npm start', '/dev/null'], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      const deadline = Date.now() + 180_000;
      while (!/Keyward is ready|key-api is not ready|exited \(/.test(output) && Date.now() < deadline && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 250));
      }
    } finally {
      child.stdin.write('\x03'); // Ctrl-C on the terminal: start.mjs stops the services
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
    }
    // eslint-disable-next-line no-control-regex
    const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split(/\r?\n/);
    const banner = lines.findIndex((l) => l.startsWith('Keyward is starting:'));
    expect({ banner, output: banner >= 0 && banner < 15 ? 'ok' : output }).toEqual({ banner: expect.any(Number) as number, output: 'ok' });
    expect(lines[banner + 1]).toContain(`key-api     https://127.0.0.1:${ports[0]}`);
    expect(output).toMatch(/Keyward is ready \([\d.]+ s\): https:\/\/127\.0\.0\.1:\d+/);
    expect(output).toContain('key-api listening on');
    expect(output).not.toMatch(/RouterExplorer|RoutesResolver|InstanceLoader|Mapped \{/);
  });
});
