import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readXml, type XmlElement } from './xml-reader';

/** One request of a test case and the response the reference server gave. */
export interface CaseStep {
  readonly request: XmlElement;
  readonly response: XmlElement;
}

/** One OASIS test case file (`SKLC-M-1-14.xml`): its id, profile prefix and steps. */
export interface ConformanceCase {
  /** File name without `.xml`, e.g. `SKLC-M-1-14`. */
  readonly id: string;
  /** The profile's test-case prefix, e.g. `SKLC-M`, `CS-BC-M-GCM`. */
  readonly profile: string;
  /** KMIP version folder, e.g. `1.4`. */
  readonly version: string;
  readonly steps: readonly CaseStep[];
}

/** Parses a case: a `<KMIP>` root whose children alternate RequestMessage and ResponseMessage. */
export function parseCase(source: string, id: string, version: string): ConformanceCase {
  const root = readXml(source);
  if (root.name !== 'KMIP') throw new Error(`${id}: the root element is <${root.name}>, not <KMIP>`);
  const steps: CaseStep[] = [];
  for (let i = 0; i < root.children.length; i += 2) {
    const request = root.children[i]!;
    const response = root.children[i + 1];
    if (request.name !== 'RequestMessage' || response?.name !== 'ResponseMessage') {
      throw new Error(`${id}: expected a RequestMessage followed by a ResponseMessage at line ${request.line}`);
    }
    steps.push({ request, response });
  }
  return { id, profile: id.replace(/-[0-9]+-[0-9]+$/, ''), version, steps };
}

/** Natural order: SKFF-M-2 before SKFF-M-10. */
const byId = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** Every `*.xml` case of a version folder (`cases/1.4`), in natural order. */
export function loadCases(folder: string, version = basename(folder)): ConformanceCase[] {
  return readdirSync(folder)
    .filter((f) => f.endsWith('.xml'))
    .sort(byId)
    .map((f) => parseCase(readFileSync(join(folder, f), 'utf8'), f.replace(/\.xml$/, ''), version));
}
