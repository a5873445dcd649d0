// Node options a service runs with, wherever it is started (npm start, the bench, the specs' service
// processes; compose.yaml repeats them). The list is infra/service-node-flags.json.
//
// key-api's young generation is capped at 8 MiB semi-spaces: under data-plane load V8 grew them to
// its 16 MiB default (48 MiB of young generation), which put key-api's RSS at 300-320 MiB; with 8 MiB
// it stays at 280-287 MiB for the same CPU per request (bench, 2 cores). Also tried for the soak
// (docs/high-availability.md): --min-semi-space-size=8 as well, to stop V8 resizing the young
// generation; the new space still moved between 8 and 16 MiB and the RSS dips stayed, so it was
// dropped.
import { readFileSync } from 'node:fs';

const FLAGS = JSON.parse(readFileSync(new URL('../../infra/service-node-flags.json', import.meta.url), 'utf8'));

/** The Node options of service `name` (none for services not listed). */
export function serviceNodeFlags(name) {
  return FLAGS[name] ?? [];
}
