import { KeywardStack } from '../support/keyward-stack';
import type { ServiceProcess } from '../support/service-process';

jest.setTimeout(240_000);

interface AuditEvent {
  type: string;
  actor: { principalId: string };
  data: Record<string, unknown>;
}

/**
 * Issue 15: the scheduler no longer scans every key view each pass; it acts on an agenda fed by
 * keyward.events. Dates set while the services run are kept, by every instance, and acted on once.
 */
describe('lifecycle scheduler driven by the event stream (two key-api instances, real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let second: ServiceProcess;
  let admin: string;
  let auditor: string;

  beforeAll(async () => {
    await stack.start();
    second = await stack.startApi();
    await second.waitFor(async () => (await second.get('/health/ready')).status === 200, 60_000);
    await stack.api.waitFor(async () => (await stack.api.get('/health/ready')).status === 200, 60_000);
    const tenant = await stack.onboard('Scheduled');
    admin = tenant.adminKey;
    auditor = await stack.principal(admin, 'auditor');
  });
  afterAll(async () => {
    await second.stop();
    await stack.stop();
  });

  const due = (keyId: string) => stack.db.collection('view_due').findOne({ keyId });
  const keyEvents = async (keyId: string): Promise<AuditEvent[]> =>
    (await stack.call(auditor, 'GET', `/v1/audit/events?keyId=${keyId}&limit=100`)).json<{ items: AuditEvent[] }>().items;

  it('activates a key on its activation date and deactivates it on its deactivation date, each once, as the scheduler', async () => {
    const activationDate = new Date(Date.now() + 3_000).toISOString();
    const deactivationDate = new Date(Date.now() + 16_000).toISOString();
    const created = await stack.call(admin, 'POST', '/v1/keys', { activationDate, deactivationDate });
    expect(created.status).toBe(201);
    const keyId = created.json<{ key: { keyId: string; state: string } }>().key.keyId;
    expect(created.json<{ key: { state: string } }>().key.state).toBe('PreActive');
    await stack.api.waitFor(async () => (await keyEvents(keyId)).some((e) => e.type === 'key.deactivated.v1'), 90_000, 500);
    const events = await keyEvents(keyId);
    const byScheduler = events.filter((e) => e.actor.principalId === 'system:scheduler').map((e) => [e.type, e.data.reason]);
    expect(byScheduler).toEqual([
      ['key.activated.v1', 'activation-date'],
      ['key.deactivated.v1', 'deactivation-date'],
    ]);
  });

  it('destroys a key whose waiting period has passed (business clock moved on a restarted instance: its agenda is filled from the views)', async () => {
    const keyId = (await stack.call(admin, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/deactivate`)).status).toBe(200);
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/schedule-destruction`, { waitingPeriodDays: 1 })).status).toBe(200);
    // The projector keeps the keys with a pending date apart (view_due): what a start fills its agenda from.
    await stack.api.waitFor(async () => (await due(keyId)) !== null, 30_000);
    expect(await due(keyId)).toMatchObject({ state: 'Deactivated', destroyAfter: expect.any(String) as string });
    await second.stop();
    second = await stack.startApi({ KEYWARD_CLOCK_OFFSET_MS: String(2 * 86_400_000) });
    await stack.api.waitFor(async () => (await keyEvents(keyId)).some((e) => e.type === 'key.destroyed.v1'), 90_000, 500);
    expect((await keyEvents(keyId)).filter((e) => e.type === 'key.destroyed.v1')).toHaveLength(1);
    await stack.api.waitFor(async () => (await due(keyId)) === null, 30_000); // nothing left to do for it
  });

  it('a cancelled destruction leaves view_due; a store without view_due gets it backfilled at the projector start', async () => {
    const keyId = (await stack.call(admin, 'POST', '/v1/keys', { activate: true })).json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/deactivate`)).status).toBe(200);
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/schedule-destruction`, { waitingPeriodDays: 3 })).status).toBe(200);
    await stack.api.waitFor(async () => (await due(keyId)) !== null, 30_000);
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/cancel-destruction`)).status).toBe(200);
    await stack.api.waitFor(async () => (await due(keyId)) === null, 30_000);

    const pending = (
      await stack.call(admin, 'POST', '/v1/keys', { activationDate: new Date(Date.now() + 86_400_000).toISOString() })
    ).json<{
      key: { keyId: string };
    }>().key.keyId;
    await stack.api.waitFor(async () => (await due(pending)) !== null, 30_000);
    await stack.db.collection('view_due').drop(); // as a store projected before view_due existed
    await stack.restartProjector();
    await stack.api.waitFor(async () => (await stack.db.collection('view_due').findOne({ _id: '~complete' as never })) !== null, 60_000);
    expect(await due(pending)).toMatchObject({ state: 'PreActive', activationDate: expect.any(String) as string });
  });
});
