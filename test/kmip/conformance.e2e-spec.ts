import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeywardStack } from '../support/keyward-stack';
import { freePort } from '../support/ports';
import { EXPECTED_PASS } from './conformance/expected-pass';
import { EXPLAINED } from './conformance/explained';
import { keywardIdentity, planLabel, type IdentityPlan } from './conformance/keyward-identity';
import { loadCases } from './conformance/runner/case-file';
import { markdownReport } from './conformance/runner/report';
import { runCases, type CaseResult } from './conformance/runner/runner';
import { KmipService } from './kmip-service';

jest.setTimeout(1_800_000);

/**
 * The identity the cases run as: one `kmip-client` certificate that creates, uses and destroys its keys, as an
 * appliance. `KMIP_CONFORMANCE_IDENTITY=<role>` runs the cases as one principal of that role instead.
 */
const IDENTITY: IdentityPlan = { single: process.env.KMIP_CONFORMANCE_IDENTITY ?? 'kmip-client' };

const casesDir = join(__dirname, 'conformance', 'cases');
const cases = [...loadCases(join(casesDir, '1.4')), ...loadCases(join(casesDir, '2.1'))].filter(
  (c) => !process.env.KMIP_CONFORMANCE_CASES || new RegExp(process.env.KMIP_CONFORMANCE_CASES).test(c.id),
);
/** Where `npm run kmip:conformance` reads the table from (and the results with each difference, as JSON, beside it). */
const reportFile = join(__dirname, '..', '..', '.keyward', 'kmip-conformance.md');

/**
 * The OASIS KMIP 1.4 mandatory test cases (and the 2.1 Baseline ones) replayed in their published XML
 * form against the real kmip service, one fresh tenant per profile, over mutual TLS.
 */
describe('KMIP conformance: OASIS mandatory test cases against the kmip service (real Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let results: CaseResult[] = [];

  beforeAll(async () => {
    await stack.start();
    kmip = await KmipService.start(stack.env, await freePort());
    results = await runCases(cases, (profile) => keywardIdentity(stack, kmip.port, IDENTITY, profile), { keepGoing: true });
    const report = markdownReport(results, planLabel(IDENTITY), EXPLAINED);
    mkdirSync(join(reportFile, '..'), { recursive: true });
    writeFileSync(reportFile, report);
    writeFileSync(reportFile.replace(/\.md$/, '.json'), JSON.stringify(results, null, 1));
    process.stdout.write(`\n${report}\n`);
    const newlyPassing = results.filter((r) => r.outcome === 'pass' && !EXPECTED_PASS.includes(r.id)).map((r) => r.id);
    if (newlyPassing.length > 0) process.stdout.write(`Passing but not in expected-pass.ts yet: ${newlyPassing.join(', ')}\n`);
  });

  afterAll(async () => {
    await kmip.stop();
    await stack.stop();
  });

  it('ran every case to a pass or a first difference (none is unreadable)', () => {
    expect(results).toHaveLength(cases.length);
    expect(results.filter((r) => r.outcome === 'error').map((r) => `${r.id}: ${r.cause}`)).toEqual([]);
  });

  it('says why each case that does not pass fails (explained.ts)', () => {
    expect(results.filter((r) => r.outcome !== 'pass' && EXPLAINED[r.id] === undefined).map((r) => `${r.id}: ${r.cause}`)).toEqual([]);
  });

  it('still passes every case listed in expected-pass.ts', () => {
    const regressions = results.filter((r) => EXPECTED_PASS.includes(r.id) && r.outcome !== 'pass').map((r) => `${r.id}: ${r.cause}`);
    expect(regressions).toEqual([]);
  });
});
