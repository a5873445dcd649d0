import { heapFigures } from './soak-sampler';

describe('soak sampler', () => {
  it("reads a key-api's V8 figures from its metrics, in MiB", () => {
    const metrics = [
      '# HELP nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.',
      'nodejs_heap_size_used_bytes{service="key-api"} 62914560',
      'nodejs_heap_size_total_bytes{service="key-api"} 1.048576e+8',
      'nodejs_heap_space_size_total_bytes{space="old",service="key-api"} 60000000',
      'nodejs_heap_space_size_total_bytes{space="new",service="key-api"} 33554432',
      'nodejs_external_memory_bytes 27262976',
    ].join('\n');
    expect(heapFigures(metrics)).toEqual({ used: 60, total: 100, newSpace: 32, external: 26 });
  });

  it('gives NaN for what the metrics lack (an instance that did not answer)', () => {
    expect(Object.values(heapFigures('')).every(Number.isNaN)).toBe(true);
  });
});
