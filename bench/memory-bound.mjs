// `node bench/memory-bound.mjs [--tenants 200] [--keys 20] [--max-tenants n] [--max-bytes n]`:
// what the tenant-log cache bound (TENANT_LOG_CACHE_MAX / TENANT_LOG_CACHE_MAX_BYTES, issue 15)
// saves. Two child processes run the libraries key-api runs (dist/, after `npm run build`): the
// CommandExecutor and its BoundedCache, folding each tenant's whole log on first use, exactly as
// key-api's KeyStateSource does for a request of a tenant it does not hold. One without a bound,
// one with the given bound (default 1 MiB: small enough to bite at this size). The commit store is
// a stand-in that regenerates each tenant's hash-chained commits (decided by libs/domain: create,
// activate, rotate once, every other key twice: 2.5 commits a key) on every load, so it holds
// nothing itself and the process's memory is the executor's. After touching every tenant (then
// every tenant once more), it reports RSS and heap after a GC, the cache's entries, estimated bytes,
// evictions and reloads. Not key-api's RSS (no HTTP, TLS, Kafka, Mongo driver): the part of it
// that grows with the deployment. Run it with `nice -n 10`: it takes seconds at the default size.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from './lib/util.mjs';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '200' },
    keys: { type: 'string', default: '20' },
    'max-tenants': { type: 'string', default: '1000' },
    'max-bytes': { type: 'string', default: String(1024 * 1024) },
    child: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const tenants = Number(values.tenants);
const keys = Number(values.keys);

if (values.child !== undefined) {
  const requireDist = createRequire(join(repoRoot, 'dist', 'bench-memory-bound.js'));
  const domain = requireDist('@keyward/domain');
  const { CommandExecutor, sealCommit, GENESIS_HASH } = requireDist('@keyward/event-log');
  const at = new Date('2030-01-01T00:00:00Z');
  const provider = { principalId: 'prn_provider01', role: 'provider-admin' };

  /** The tenant's commits, decided afresh (deterministic: same ids, time and hashes on every call). */
  function commitsOf(tenantId) {
    const log = new domain.TenantLog(tenantId);
    const commits = [];
    let prevHash = GENESIS_HASH;
    const run = (command, actor) => {
      const ctx = { now: at, actor, correlationId: `c-${tenantId}-${log.seq + 1}` };
      const events = domain.stamp(domain.decide(command, log, ctx), ctx);
      const commit = sealCommit({
        tenantId,
        seq: log.seq + 1,
        commandId: ctx.correlationId,
        events,
        committedAt: at.toISOString(),
        prevHash,
      });
      domain.evolveCommit(log, commit);
      prevHash = commit.hash;
      commits.push(commit);
    };
    const adminId = `prn_${tenantId.slice(4)}adm`;
    run({ kind: 'tenant.onboard', tenantId, name: `Tenant ${tenantId}`, firstAdmin: { principalId: adminId, name: 'admin' } }, provider);
    const admin = { principalId: adminId, role: 'tenant-admin' };
    for (let k = 0; k < keys; k++) {
      const keyId = `key_${tenantId.slice(4)}k${k}`;
      run({ kind: 'key.create', keyId, kcv: `kcv${k}a`, keyType: 'AES-256-GCM', activate: true }, admin);
      run({ kind: 'key.rotate', keyId, kcv: `kcv${k}b` }, admin);
      if (k % 2 === 0) run({ kind: 'key.rotate', keyId, kcv: `kcv${k}c` }, admin);
    }
    return commits;
  }
  const store = {
    load: async (tenantId, afterSeq = 0) => commitsOf(tenantId).filter((c) => c.seq > afterSeq),
    get: async () => null,
    append: async () => undefined,
  };
  const bounded = values.child === 'on';
  const executor = new CommandExecutor(store, undefined, undefined, {
    maxCachedTenants: bounded ? Number(values['max-tenants']) : Number.MAX_SAFE_INTEGER,
    ...(bounded ? { maxCachedBytes: Number(values['max-bytes']) } : {}),
  });
  const ids = Array.from({ length: tenants }, (_, i) => `tnt_mem${String(i).padStart(6, '0')}`);
  const mib = (n) => Math.round((n / 1048576) * 10) / 10;
  global.gc();
  const base = process.memoryUsage();
  const started = process.hrtime.bigint();
  for (let pass = 0; pass < 2; pass++) for (const id of ids) await executor.current(id);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  global.gc();
  const after = process.memoryUsage();
  const stats = executor.cacheStats();
  console.log(
    JSON.stringify({
      bound: bounded ? { maxTenants: Number(values['max-tenants']), maxBytes: Number(values['max-bytes']) } : 'off',
      rssMiB: mib(after.rss),
      rssGrowthMiB: mib(after.rss - base.rss),
      heapGrowthMiB: mib(after.heapUsed - base.heapUsed),
      cachedTenants: stats.entries,
      estimatedMiB: mib(stats.bytes),
      evictions: stats.evictions,
      reloads: stats.reloads,
      seconds: Math.round(seconds * 10) / 10,
    }),
  );
  process.exit(0);
}

const results = ['off', 'on'].map((mode) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--expose-gc',
        new URL(import.meta.url).pathname,
        '--child',
        mode,
        '--tenants',
        String(tenants),
        '--keys',
        String(keys),
        '--max-tenants',
        values['max-tenants'],
        '--max-bytes',
        values['max-bytes'],
      ],
      { encoding: 'utf8' },
    ).trim(),
  ),
);
if (values.json) console.log(JSON.stringify({ tenants, keysPerTenant: keys, results }, null, 2));
else {
  console.log(`tenant-log cache, ${tenants} tenants x ${keys} keys (2.5 commits a key), every tenant touched twice:`);
  for (const r of results) {
    const bound = r.bound === 'off' ? 'no bound' : `bound ${r.bound.maxTenants} tenants / ${r.bound.maxBytes} bytes`;
    console.log(
      `  ${bound.padEnd(40)} RSS ${r.rssMiB} MiB (+${r.rssGrowthMiB}), heap +${r.heapGrowthMiB} MiB, ${r.cachedTenants} logs held (~${r.estimatedMiB} MiB estimated), ${r.evictions} evictions, ${r.reloads} reloads, ${r.seconds} s`,
    );
  }
}
