import { minInsyncReplicas } from './topics';

describe('minInsyncReplicas', () => {
  it('asks a majority of the replicas, so one of three brokers may go without refusing or losing a write', () => {
    expect(minInsyncReplicas(1)).toBe(1);
    expect(minInsyncReplicas(3)).toBe(2);
    expect(minInsyncReplicas(5)).toBe(3);
  });

  it('with two replicas asks both (a majority of two): losing one refuses writes rather than risking them', () => {
    expect(minInsyncReplicas(2)).toBe(2);
  });
});
