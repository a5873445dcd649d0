import { join } from 'node:path';
import { decodeTtlv, encodeTtlv, ItemType, type TtlvItem } from '@keyward/kmip';
import { loadCases, parseCase } from './case-file';
import { compareResponse, type ItemContext } from './compare';
import { readXml, XmlSyntaxError } from './xml-reader';
import { elementType, leafValue, toTtlv } from './xml-ttlv';
import type { XmlElement } from './xml-reader';

const cases = ['1.4', '2.1'].flatMap((v) => loadCases(join(__dirname, '..', 'cases', v)));

/** The expected response as the server would send it: placeholders get the values `fill` chooses. */
function asResponse(expected: XmlElement, fill: (placeholder: string, type: ItemType) => TtlvItem['value']): TtlvItem {
  return toTtlv(expected, (p, _tag, type) => fill(p, type));
}
const dummy = (placeholder: string, type: ItemType): TtlvItem['value'] => {
  if (type === ItemType.TextString) return `uid-${placeholder}`;
  if (type === ItemType.DateTime) return 1_700_000_000n;
  return Buffer.from('00112233', 'hex');
};
const context = (operation: string, allAttributes = false): ItemContext => ({ operation, variableTags: new Set(), allAttributes });

describe('OASIS KMIP test cases (XML form)', () => {
  it('loads every case of 1.4 and 2.1, each request a RequestMessage that encodes and decodes to itself', () => {
    expect(cases.length).toBeGreaterThanOrEqual(55);
    for (const c of cases) {
      expect(c.steps.length).toBeGreaterThan(0);
      for (const step of c.steps) {
        const request = toTtlv(step.request, (p, _tag, type) => dummy(p, type));
        expect(decodeTtlv(encodeTtlv(request))).toEqual(request);
      }
    }
  });

  it('understands every value of every expected response (tags, types, enumeration and mask names)', () => {
    const visit = (e: XmlElement, parent?: XmlElement): void => {
      const type = elementType(e);
      if (type === ItemType.Structure) e.children.forEach((c) => visit(c, e));
      else if (!(e.attributes.value ?? '').startsWith('$')) leafValue(e, parent, type);
    };
    for (const c of cases) for (const step of c.steps) visit(step.response);
  });

  it('matches a response equal to the expected one, binding $UNIQUE_IDENTIFIER_n to the server-assigned identifiers', () => {
    const sklc = cases.find((c) => c.id === 'SKLC-M-1-14')!;
    const bindings = new Map<string, TtlvItem['value']>();
    const response = asResponse(sklc.steps[0]!.response, (p, type) => (type === ItemType.TextString ? 'key-42' : dummy(p, type)));
    expect(compareResponse(sklc.steps[0]!.response, response, [context('Create')], bindings)).toBeNull();
    expect(bindings.get('$UNIQUE_IDENTIFIER_0')).toBe('key-42');
    // The next step's response must name the same key.
    const other = asResponse(sklc.steps[1]!.response, (p, type) => (type === ItemType.TextString ? 'key-43' : dummy(p, type)));
    const difference = compareResponse(sklc.steps[1]!.response, other, [context('GetAttributes')], bindings);
    expect(difference?.path).toMatch(/BatchItem\[0\]\/ResponsePayload\/UniqueIdentifier$/);
    expect(difference?.got).toContain('key-43');
  });

  it('reports the first difference with its path, and tells a refused operation by its Result Status', () => {
    const sklc = cases.find((c) => c.id === 'SKLC-M-1-14')!;
    const expected = sklc.steps[0]!.response;
    const response = asResponse(expected, dummy);
    const item = (response.value as TtlvItem[])[1] as Extract<TtlvItem, { type: 1 }>;
    item.value[1] = { ...item.value[1]!, value: 1 } as TtlvItem; // ResultStatus OperationFailed
    const difference = compareResponse(expected, response, [context('Create')], new Map());
    expect(difference).toEqual({
      path: 'ResponseMessage/BatchItem[0]/ResultStatus',
      expected: 'ResultStatus=Success',
      got: 'ResultStatus=OperationFailed',
    });
  });

  it('accepts the attributes of Get Attributes in any order, but not a missing or different one', () => {
    const tl = cases.find((c) => c.id === 'TL-M-3-14')!;
    const step = tl.steps.find((s) => JSON.stringify(s.request).includes('"GetAttributes"'))!;
    const response = asResponse(step.response, dummy);
    const payload = ((response.value as TtlvItem[])[2]!.value as TtlvItem[])[3]!;
    const attrs = payload.value as TtlvItem[];
    attrs.splice(1, attrs.length - 1, ...attrs.slice(1).reverse());
    const contexts = [context('Locate'), context('GetAttributes', true)];
    expect(compareResponse(step.response, response, contexts, new Map())).toBeNull();
    const name = attrs.findIndex((a) => Array.isArray(a.value) && a.value.some((c) => c.value === 'Cryptographic Length'));
    attrs.splice(name, 1);
    expect(compareResponse(step.response, response, contexts, new Map())?.path).toContain('Attribute(Cryptographic Length)');
  });

  it('refuses XML outside the regular test-case form', () => {
    expect(() => readXml('<KMIP><A type="Integer" value="1"/>text</KMIP>')).toThrow(XmlSyntaxError);
    expect(() => readXml('<KMIP><A></B></KMIP>')).toThrow(/closes <A>/);
    expect(() => readXml('<KMIP><A value="1" value="2"/></KMIP>')).toThrow(/duplicate/);
    expect(() => parseCase('<KMIP><RequestMessage/></KMIP>', 'X-1-14', '1.4')).toThrow(/followed by a ResponseMessage/);
  });
});
