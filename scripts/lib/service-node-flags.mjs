// Node options a service runs with, wherever it is started (npm start, the bench, the specs' service
// processes; compose.yaml repeats them). The list is infra/service-node-flags.json.
//
// key-api's young generation is fixed at two 8 MiB semi-spaces. Capped (max 8): under data-plane load
// V8 grew them to its 16 MiB default (48 MiB of young generation), which put key-api's RSS at 300-320
// MiB; with 8 MiB it stays at 280-287 MiB for the same CPU per request (bench, 2 cores). Not shrinking
// (min 8): V8 otherwise shrinks the young generation when the allocation rate dips and grows it back,
// moving the RSS by 10-15 % within a minute, which is what failed the first 30-minute soak
// (docs/high-availability.md, "Soak measured").
import { readFileSync } from 'node:fs';

const FLAGS = JSON.parse(readFileSync(new URL('../../infra/service-node-flags.json', import.meta.url), 'utf8'));

/** The Node options of service `name` (none for services not listed). */
export function serviceNodeFlags(name) {
  return FLAGS[name] ?? [];
}
