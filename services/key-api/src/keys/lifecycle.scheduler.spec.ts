import type { CommandBus } from '@nestjs/cqrs';
import { DomainError, TenantLog } from '@keyward/domain';
import type { CommandExecutor, Commit, ViewCollections } from '@keyward/event-log';
import type { MongoConnection } from '@keyward/platform';
import type { EventStreamListener } from '@keyward/keys';
import { ApplyDueChangeHandler, type ApplyDueChangeCommand } from './apply-due-change.handler';
import { LifecycleScheduler } from './lifecycle.scheduler';

const T = 'ten_a';
const NOW = new Date('2030-01-01T12:00:00.000Z');
const minutes = (m: number): string => new Date(NOW.getTime() + m * 60_000).toISOString();

/** A scheduler over stand-ins: views that must not be queried by a pass, a lease store that counts its calls. */
function setup(execute: (tenantId: string, command: { kind: string; keyId: string }) => Promise<unknown>) {
  const storeCalls: string[] = [];
  const db = {
    collection: () => ({
      insertOne: () => {
        storeCalls.push('insertOne');
        return Promise.resolve();
      },
      findOne: () => {
        storeCalls.push('findOne');
        return Promise.resolve(null);
      },
      deleteMany: () => {
        storeCalls.push('deleteMany');
        return Promise.resolve();
      },
      updateOne: () => {
        storeCalls.push('updateOne');
        return Promise.resolve();
      },
      createIndex: () => Promise.resolve('name_term'), // the lease's index, once per process
    }),
  };
  const views = {
    keys: {
      find: () => {
        storeCalls.push('views.keys.find');
        throw new Error('a scheduler pass must not scan the key views');
      },
    },
  };
  let listener: ((commit: Commit) => void) | undefined;
  const stream = { onCommit: (l: (commit: Commit) => void) => (listener = l), joined: false };
  const executed: { tenantId: string; kind: string; keyId: string }[] = [];
  const executor = {
    execute: async (tenantId: string, command: { kind: string; keyId: string }) => {
      executed.push({ tenantId, kind: command.kind, keyId: command.keyId });
      return execute(tenantId, command);
    },
    peek: () => new TenantLog(T),
  };
  const handler = new ApplyDueChangeHandler(executor as unknown as CommandExecutor);
  const commands = { execute: (command: ApplyDueChangeCommand) => handler.execute(command) };
  const scheduler = new LifecycleScheduler(
    commands as unknown as CommandBus,
    executor as unknown as CommandExecutor,
    views as unknown as ViewCollections,
    stream as unknown as EventStreamListener,
    { db } as unknown as MongoConnection,
  );
  scheduler.onApplicationBootstrap();
  const streamed = (events: { type: string; data: Record<string, unknown> }[]) => listener!({ tenantId: T, events } as unknown as Commit);
  return { scheduler, storeCalls, executed, streamed };
}

describe('LifecycleScheduler', () => {
  let s: ReturnType<typeof setup> | undefined;
  afterEach(async () => s?.scheduler.onApplicationShutdown());

  it('a pass with nothing due sends nothing to the store (no lease claim, no scan of the key views)', async () => {
    s = setup(() => Promise.resolve({}));
    expect(await s.scheduler.tick(NOW)).toBe(0);
    expect(s.storeCalls).toEqual([]);
  });

  it('acts on a date the stream carried, once, without scanning the key views', async () => {
    s = setup(() => Promise.resolve({}));
    s.streamed([{ type: 'key.created.v1', data: { keyId: 'k1', activationDate: minutes(1) } }]);
    expect(await s.scheduler.tick(NOW)).toBe(0);
    expect(await s.scheduler.tick(new Date(minutes(2)))).toBe(1);
    expect(s.executed).toEqual([{ tenantId: T, kind: 'key.activate', keyId: 'k1' }]);
    expect(s.storeCalls).not.toContain('views.keys.find');
    expect(await s.scheduler.tick(new Date(minutes(3)))).toBe(0); // done: dropped from the agenda
    expect(s.executed).toHaveLength(1);
  });

  it('forgets an action the log refuses as no longer due; keeps one the store failed', async () => {
    let fail: Error = new Error('store down');
    s = setup(() => Promise.reject(fail));
    s.streamed([{ type: 'key.destruction-scheduled.v1', data: { keyId: 'k1', destroyAfter: minutes(1) } }]);
    expect(await s.scheduler.tick(new Date(minutes(2)))).toBe(0);
    expect(s.scheduler.agenda.size).toBe(1);
    fail = new DomainError('illegal-transition', 'no destruction is scheduled');
    expect(await s.scheduler.tick(new Date(minutes(2)))).toBe(0);
    expect(s.scheduler.agenda.size).toBe(0);
    expect(s.executed).toHaveLength(2);
  });
});
