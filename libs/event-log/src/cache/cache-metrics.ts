import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStats } from './bounded-cache';

/** A cache the metrics read (BoundedCache, or anything that counts the same way). */
export interface ObservedCache {
  stats(): CacheStats;
}

type Name = 'cache';

const gaugeOf = (registry: Registry, name: string, help: string, read: (stats: CacheStats) => number, caches: Map<string, ObservedCache>) =>
  (registry.getSingleMetric(name) as Gauge<Name> | undefined) ??
  new Gauge<Name>({
    name,
    help,
    labelNames: ['cache'],
    registers: [registry],
    collect() {
      for (const [cache, observed] of caches) this.set({ cache }, read(observed.stats()));
    },
  });

const counterOf = (
  registry: Registry,
  name: string,
  help: string,
  read: (stats: CacheStats) => number,
  caches: Map<string, ObservedCache>,
) => {
  const seen = new Map<string, number>();
  return (
    (registry.getSingleMetric(name) as Counter<Name> | undefined) ??
    new Counter<Name>({
      name,
      help,
      labelNames: ['cache'],
      registers: [registry],
      collect() {
        for (const [cache, observed] of caches) {
          const now = read(observed.stats());
          const delta = now - (seen.get(cache) ?? 0);
          if (delta > 0) this.inc({ cache }, delta);
          seen.set(cache, now);
        }
      },
    })
  );
};

/** The caches of each registry, by name (one set of metrics per registry, one label value per cache). */
const observed = new WeakMap<Registry, Map<string, ObservedCache>>();

/**
 * Exposes a bounded cache on /metrics: `keyward_cache_entries{cache}`, `keyward_cache_bytes{cache}`
 * (the estimate the byte bound uses), `keyward_cache_evictions_total{cache}` (dropped for the
 * bounds), `keyward_cache_expirations_total{cache}`, `keyward_cache_loads_total{cache}` and
 * `keyward_cache_reloads_total{cache}` (loads of an entry evicted before). Read when scraped:
 * nothing is counted on the request path. `cache` names a fixed set (tenant-logs, stream-marks,
 * material), never a tenant or a key.
 */
export function observeCache(registry: Registry, cache: string, source: ObservedCache): void {
  let caches = observed.get(registry);
  if (caches === undefined) {
    caches = new Map();
    observed.set(registry, caches);
    gaugeOf(registry, 'keyward_cache_entries', 'Entries of a bounded in-process cache', (s) => s.entries, caches);
    gaugeOf(registry, 'keyward_cache_bytes', 'Estimated bytes of a bounded in-process cache', (s) => s.bytes, caches);
    counterOf(
      registry,
      'keyward_cache_evictions_total',
      'Entries a bounded cache dropped to stay within its bounds',
      (s) => s.evictions,
      caches,
    );
    counterOf(registry, 'keyward_cache_expirations_total', 'Entries a bounded cache dropped for their age', (s) => s.expirations, caches);
    counterOf(registry, 'keyward_cache_loads_total', 'Entries loaded into a bounded cache', (s) => s.loads, caches);
    counterOf(registry, 'keyward_cache_reloads_total', 'Entries loaded again after the cache had evicted them', (s) => s.reloads, caches);
  }
  caches.set(cache, source);
}
