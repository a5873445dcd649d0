import { PrivateFerretDb } from '../support/private-ferretdb';
import { ServiceProcess } from '../support/service-process';
import { testInfra, uniqueName } from '../support/env';

jest.setTimeout(180_000);

describe('services boot, report health and fail fast on bad configuration', () => {
  const infra = testInfra();

  it('projector and backup boot and answer liveness and readiness', async () => {
    for (const name of ['projector', 'backup'] as const) {
      const svc = await ServiceProcess.start(name, { KAFKA_BROKERS: infra.brokers.join(','), MONGODB_URI: infra.mongoUri });
      try {
        expect((await svc.get('/health/live')).status).toBe(200);
        await svc.waitFor(async () => (await svc.get('/health/ready')).status === 200, 20_000);
      } finally {
        expect(await svc.stop()).toBe(0);
      }
    }
  });

  it('an invalid setting stops start-up with a message that names it', async () => {
    const { code, output } = await ServiceProcess.runToExit('key-api', { KEY_API_PORT: 'eighty' });
    expect(code).toBe(78);
    expect(output).toContain('KEY_API_PORT');
    expect(output).toContain('"eighty"');
    expect(output).not.toMatch(/\n\s+at /); // no stack trace
  });

  describe('key-api readiness follows MongoDB', () => {
    let ferret: PrivateFerretDb;
    let api: ServiceProcess;

    beforeAll(async () => {
      ferret = await PrivateFerretDb.start();
      api = await ServiceProcess.start('key-api', {
        KAFKA_BROKERS: infra.brokers.join(','),
        MONGODB_URI: ferret.uri,
        MONGODB_DB: uniqueName('ready').replace(/[-.]/g, '_'),
      });
    });
    afterAll(async () => {
      await api.stop();
      await ferret.destroy();
    });

    it('serves HTTPS with the generated development CA, and is ready', async () => {
      expect(api.baseUrl).toMatch(/^https:/);
      await api.waitFor(async () => (await api.get('/health/ready')).status === 200, 20_000);
    });

    it('answers 503 within 5 s of FerretDB dying, and 200 again after it is back, without a restart', async () => {
      await ferret.kill();
      const downAfter = await api.waitFor(async () => (await api.get('/health/ready')).status === 503, 5_000, 50);
      expect(downAfter).toBeLessThan(5_000);
      const answer = await api.get('/health/ready');
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json<{ checks: { mongodb: { status: string }; kafka: { status: string } } }>().checks).toMatchObject({
        mongodb: { status: 'down' },
        kafka: { status: 'up' },
      });

      await ferret.verb('start');
      await api.waitFor(async () => (await api.get('/health/ready')).status === 200, 15_000, 100);
      expect(api.child.exitCode).toBeNull();
    });

    it('exposes Prometheus metrics with HTTP latency by route and status, on a loopback listener of their own', async () => {
      const scraped = await fetch(api.metricsUrl!);
      expect(scraped.status).toBe(200);
      const body = await scraped.text();
      expect(body).toMatch(/keyward_http_request_duration_seconds_bucket\{[^}]*route="\/health\/ready"[^}]*status="200"/);
      expect(body).toContain('process_resident_memory_bytes');
      expect((await fetch(api.metricsUrl!.replace('/metrics', '/health/live'))).status).toBe(404);
    });

    it('does not serve /metrics on the API port (issue 23: who calls what, and how often, is not public)', async () => {
      for (const path of ['/metrics', '/metrics/', '/metrics?x=1']) {
        const answer = await api.get(path);
        expect(answer.status).toBe(404);
        expect(answer.body).not.toContain('keyward_http_request_duration_seconds');
      }
    });

    it('answers unknown routes and malformed bodies with problem documents, and logs neither bodies nor credentials', async () => {
      const secret = uniqueName('SECRET-MARKER');
      const missing = await api.request('POST', '/nope?token=' + secret, {
        body: '{"oops": ',
        headers: { authorization: `Bearer ${secret}` },
      });
      expect([400, 404]).toContain(missing.status);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      const doc = missing.json<{ type: string; title: string; status: number }>();
      expect(doc.status).toBe(missing.status);
      expect(doc.type).toMatch(/^urn:keyward:problem:/);
      expect(missing.body).not.toContain(' at ');
      const id = missing.headers['x-request-id'];
      expect(typeof id).toBe('string');
      await new Promise((r) => setTimeout(r, 200));
      expect(api.log).toContain(String(id));
      expect(api.log).not.toContain(secret);
    });

    it('drains and exits cleanly on SIGTERM', async () => {
      expect(await api.stop()).toBe(0);
    });
  });
});
