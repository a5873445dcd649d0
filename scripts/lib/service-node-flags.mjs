// Node options a service runs with, wherever it is started (npm start, the bench; compose.yaml
// repeats them). key-api's young generation is capped at 8 MiB semi-spaces: under data-plane load
// V8 grew them to its 16 MiB default (48 MiB of young generation), which put key-api's RSS at
// 300-320 MiB; with 8 MiB it stays at 280-287 MiB for the same CPU per request (bench, 2 cores).
const FLAGS = {
  'key-api': ['--max-semi-space-size=8'],
};

/** The Node options of service `name` (none for services not listed). */
export function serviceNodeFlags(name) {
  return FLAGS[name] ?? [];
}
