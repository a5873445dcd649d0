// Node options a service runs with, wherever it is started (npm start, the bench, the specs' service
// processes; compose.yaml repeats them). The list is infra/service-node-flags.json.
//
// key-api's young generation is capped at 8 MiB semi-spaces: under data-plane load V8 grew them to
// its 16 MiB default (48 MiB of young generation), which put key-api's RSS at 300-320 MiB; with 8 MiB
// it stays at 280-287 MiB for the same CPU per request (bench, 2 cores). Also tried for the soak
// (docs/high-availability.md): --min-semi-space-size=8 as well, to stop V8 resizing the young
// generation; the new space still moved between 8 and 16 MiB and the RSS dips stayed, so it was
// dropped.
//
// Its old generation grows by at most half its live size between two full collections
// (--heap-growing-percent=50; V8 otherwise picks a factor up to 4 by its own heuristics): under
// encrypt/decrypt-1k at 16 connections V8 let the old space fill with promoted request garbage to
// 2.5x the ~56 MiB it holds live before collecting, and the RSS peaked at 280-295 MiB on an empty store
// (and 405 at 100,000 keys, where the tenant-log cache adds its live share). With the flag: 166-169
// MiB, throughput within the noise of four alternated rounds (encrypt 3,138/3,177 req/s against
// 2,940/3,585 without it; decrypt 3,614/3,175 against 3,045/3,011), p99 +2-4 ms. 100 gave 188-195
// MiB; --optimize-for-size 128 MiB but 30 % fewer requests.
import { readFileSync } from 'node:fs';

const FLAGS = JSON.parse(readFileSync(new URL('../../infra/service-node-flags.json', import.meta.url), 'utf8'));

/** The Node options of service `name` (none for services not listed). */
export function serviceNodeFlags(name) {
  return FLAGS[name] ?? [];
}
