// Installs the Python tools the e2e specs use (PyKMIP, schemathesis; pinned, into the per-user cache)
// ahead of the specs, so that .ci/run fetches them while npm ci and lint run instead of inside a
// suite's beforeAll. The installers are the specs' own (Node 24 runs their TypeScript as it is).
// One after the other: two venvs made at once on a loaded machine overran the installers' timeouts.
// A tool that did not install is not fatal here: its spec tries again and reports it.
import { pykmipPython } from '../test/kmip/pykmip.ts';
import { schemathesisCommand } from '../test/support/schemathesis.ts';

console.log(`PyKMIP: ${(await pykmipPython()) ?? 'not installed (test/kmip/pykmip.e2e-spec.ts tries again)'}`);
console.log(`schemathesis: ${(await schemathesisCommand()) ?? 'not installed (test/security/openapi-fuzz.e2e-spec.ts tries again)'}`);
