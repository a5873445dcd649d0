import { MAX_RECORDS_PER_MESSAGE, USAGE_RECORDS_HEADER, usageMessages, usageRecordCount, usageRecordsOf } from './usage-message';

const record = (tenantId: string, n: number) => ({ v: 1, tenantId, principalId: 'p', operation: 'encrypt', requestId: `r${n}` });

describe('usage messages', () => {
  it('packs one message per tenant, records unchanged and in order, keyed by the tenant, with the count in a header', () => {
    const records = [record('t1', 1), record('t2', 2), record('t1', 3), record('t1', 4)];
    const messages = usageMessages(records);
    expect(messages.map((m) => m.key)).toEqual(['t1', 't2']);
    expect(messages.map((m) => m.headers?.[USAGE_RECORDS_HEADER])).toEqual(['3', '1']);
    expect(usageRecordsOf(Buffer.from(messages[0]!.value as string))).toEqual([records[0], records[2], records[3]]);
    expect(usageRecordsOf(Buffer.from(messages[1]!.value as string))).toEqual([records[1]]);
  });

  it(`splits a tenant's records into messages of at most ${MAX_RECORDS_PER_MESSAGE}, losing none`, () => {
    const records = Array.from({ length: MAX_RECORDS_PER_MESSAGE * 2 + 7 }, (_, i) => record('t1', i));
    const messages = usageMessages(records);
    expect(messages.map((m) => usageRecordCount(m.headers))).toEqual([MAX_RECORDS_PER_MESSAGE, MAX_RECORDS_PER_MESSAGE, 7]);
    expect(messages.flatMap((m) => usageRecordsOf(Buffer.from(m.value as string)))).toEqual(records);
  });

  it('writes a field every record shares once, others as distinct values and indexes, and gives the records back whole', () => {
    const full = (n: number, principalId: string, extra?: object) => ({
      v: 1,
      tenantId: 't1',
      principalId,
      role: 'key-user',
      operation: 'encrypt',
      keyId: 'k1',
      version: n % 2 === 0 ? 1 : null,
      outcome: 'ok',
      requestId: `req-${n}-0123456789abcdef0123456789`,
      at: `2026-12-02T10:00:00.${String(Math.floor(n / 10)).padStart(3, '0')}Z`,
      ...extra,
    });
    const records = Array.from({ length: 1_000 }, (_, i) => full(i, i % 3 === 0 ? 'p2' : 'p1', i === 7 ? { note: 'x' } : {}));
    const [message] = usageMessages(records);
    const value = message!.value as string;
    expect(usageRecordsOf(Buffer.from(value))).toEqual(records); // the odd field of record 7 too, absent from the others
    const columns = (JSON.parse(value) as { columns: Record<string, object> }).columns;
    expect(columns['operation']).toEqual({ c: 'encrypt' });
    expect(columns['tenantId']).toEqual({ c: 't1' });
    expect(columns['requestId']).not.toHaveProperty('i'); // one each, in order
    // A quarter of the bytes of the records as they are, or less.
    expect(value.length).toBeLessThan(JSON.stringify(records).length / 4);
  });

  it('reads records written before columns (version 2)', () => {
    const records = [record('t1', 1), record('t1', 2)];
    expect(usageRecordsOf(Buffer.from(JSON.stringify({ v: 2, tenantId: 't1', records })))).toEqual(records);
  });

  it('finds no records in columns that do not add up', () => {
    for (const columns of [{ a: { d: ['x'] } }, { a: { d: ['x'], i: [0] } }, { a: { d: ['x'], i: [0, 1] } }, { a: 'x' }, null]) {
      expect(usageRecordsOf(Buffer.from(JSON.stringify({ v: 3, tenantId: 't1', n: 2, columns })))).toEqual([]);
    }
  });

  it('sends nothing for no records', () => {
    expect(usageMessages([])).toEqual([]);
  });

  it('reads a single-record message (as written before batches) as one record', () => {
    const single = record('t1', 1);
    expect(usageRecordsOf(Buffer.from(JSON.stringify(single)))).toEqual([single]);
    expect(usageRecordCount(undefined)).toBe(1);
  });

  it('finds no records in what is not a usage message', () => {
    for (const junk of ['not json', '[1,2]', 'null', '42', '"text"', '{"v":2,"records":"nope"}', '{"v":3,"n":-1,"columns":{}}']) {
      expect(usageRecordsOf(Buffer.from(junk))).toEqual([]);
    }
    expect(usageRecordsOf(null)).toEqual([]);
  });

  it('counts a header it cannot read as one record', () => {
    for (const bad of ['0', '-3', 'x', '1.5']) expect(usageRecordCount({ [USAGE_RECORDS_HEADER]: Buffer.from(bad) })).toBe(1);
    expect(usageRecordCount({ [USAGE_RECORDS_HEADER]: Buffer.from('12') })).toBe(12);
  });
});
