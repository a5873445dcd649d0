import { toProblem } from './to-problem';

const named = (name: string): Error => Object.assign(new Error('driver detail'), { name });

describe('toProblem', () => {
  it.each([
    'MongoServerSelectionError',
    'MongoNetworkTimeoutError',
    'MongoPoolClearedError',
    'PoolClearedOnNetworkError',
    'KafkaJSConnectionError',
  ])('answers %s (the store or broker away) with 503 and Retry-After, not 500', (name) => {
    const { problem, unexpected } = toProblem(named(name));
    expect([problem.status, unexpected]).toEqual([503, false]);
    expect(problem.detail).not.toContain('driver detail');
  });

  it('answers an unknown error with a bare 500 whose details stay in the log', () => {
    const { problem, unexpected } = toProblem(named('TypeError'));
    expect([problem.status, unexpected, problem.detail]).toEqual([500, true, 'unexpected error; see the server log for this request id']);
  });
});
