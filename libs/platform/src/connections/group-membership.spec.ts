import { GroupMembership, restartDelayMs } from './group-membership';

describe('GroupMembership', () => {
  let now = 0;
  const membership = (): GroupMembership => new GroupMembership(15_000, () => now);
  beforeEach(() => (now = 1_000));

  it('is down until the first join, which is not counted as a rejoin', () => {
    const m = membership();
    expect(m.health()).toEqual({ up: false, reason: 'has not joined its consumer group yet' });
    now += 60_000;
    expect(m.join()).toBeUndefined();
    expect(m.health()).toEqual({ up: true });
  });

  it('measures a rejoin from reaching the broker again, and the outage from losing the group', () => {
    const m = membership();
    m.join();
    now += 1_000;
    m.lost(); // broker stopped, consumer crashed
    now += 30_000;
    m.lost(); // crashed again while the broker was away: the outage still starts at the first loss
    now += 5_000;
    m.reachable(); // broker back
    now += 2_000;
    m.reachable(); // another restarted consumer connected: the rejoin clock keeps its start
    now += 4_000;
    expect(m.join()).toEqual({ rejoinMs: 6_000, downMs: 41_000 });
  });

  it('measures a rebalance without reconnecting from the loss', () => {
    const m = membership();
    m.join();
    m.lost();
    now += 300;
    expect(m.join()).toEqual({ rejoinMs: 300, downMs: 300 });
  });

  it('stays ready through a short loss and reports down once out of the group for the grace period', () => {
    const m = membership();
    m.join();
    m.lost();
    now += 15_000;
    expect(m.health()).toEqual({ up: true });
    now += 1_000;
    expect(m.health()).toEqual({ up: false, reason: 'out of its consumer group for 16 s' });
    m.join();
    expect(m.health()).toEqual({ up: true });
  });

  it('reports a joined consumer that neither fetches nor heartbeats as down after the grace period', () => {
    const m = membership();
    m.join();
    now += 10_000;
    m.active();
    now += 15_000;
    expect(m.health()).toEqual({ up: true });
    now += 5_000;
    expect(m.health()).toEqual({ up: false, reason: 'no fetch nor heartbeat for 20 s' });
  });
});

describe('restartDelayMs', () => {
  it('doubles from 1 s up to 8 s, jittered by a factor in [0.5, 1.5)', () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => restartDelayMs(n, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
    expect(restartDelayMs(0, () => 0)).toBe(500);
    expect(restartDelayMs(3, () => 0.999)).toBe(11_992);
  });
});
