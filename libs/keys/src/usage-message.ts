import type { Message } from 'kafkajs';

/**
 * How usage records travel on the usage topic: in batches, one Kafka message per tenant per
 * flush (keyed by the tenant, so a tenant's records stay in order on one partition). A message per
 * record cost kafkajs more CPU than the crypto operation it audited. The record count is also a
 * header, so a reader can bound a scan in records without parsing other tenants' messages.
 *
 * Version 3 (written now) holds the records by column: a field whose value every record of the
 * message shares (tenant, principal, role, operation, key, outcome: most of a record under load)
 * is written once, any other as a list of its distinct values and one index per record. Nothing
 * of a record is lost (`usageRecordsOf` gives them back whole, in order), at about a quarter of
 * the bytes of version 2, which held each record as it is (still read).
 */
export const USAGE_BATCH_VERSION = 3;
/** The version before columns: `records` holds the records themselves. */
const USAGE_BATCH_V2 = 2;
/** Header: how many records the message holds (decimal). */
export const USAGE_RECORDS_HEADER = 'keyward-records';
/** Most records one message carries (about 150 KiB of columns, well under Kafka's 1 MiB default). */
export const MAX_RECORDS_PER_MESSAGE = 2_000;

interface Tenanted {
  readonly tenantId: string;
}

/** The messages for `records`: grouped by tenant, in order, at most MAX_RECORDS_PER_MESSAGE each. */
export function usageMessages(records: readonly Tenanted[]): Message[] {
  const byTenant = new Map<string, Tenanted[]>();
  for (const record of records) {
    const list = byTenant.get(record.tenantId);
    if (list) list.push(record);
    else byTenant.set(record.tenantId, [record]);
  }
  const messages: Message[] = [];
  for (const [tenantId, list] of byTenant) {
    for (let i = 0; i < list.length; i += MAX_RECORDS_PER_MESSAGE) {
      const chunk = list.slice(i, i + MAX_RECORDS_PER_MESSAGE);
      messages.push({
        key: tenantId,
        value: JSON.stringify({ v: USAGE_BATCH_VERSION, tenantId, n: chunk.length, columns: columnsOf(chunk) }),
        headers: { [USAGE_RECORDS_HEADER]: String(chunk.length) },
      });
    }
  }
  return messages;
}

/**
 * The records a usage-topic message holds: a batch's records, or the message itself when it is a
 * single record (what key-api wrote before batches). Anything else (not JSON, not an object) holds
 * none. Records are returned as parsed: readers check the fields they rely on.
 */
export function usageRecordsOf(value: Buffer | null): unknown[] {
  if (value === null) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
  const batch = parsed as { v?: unknown; records?: unknown; n?: unknown; columns?: unknown };
  if (batch.v === USAGE_BATCH_VERSION) return recordsOfColumns(batch.n, batch.columns);
  if (batch.v === USAGE_BATCH_V2) return Array.isArray(batch.records) ? (batch.records as unknown[]) : [];
  return [parsed];
}

/**
 * One field of the records of a message: its value in every record (`c`); or its distinct values
 * (`d`) and one index per record (`i`, -1: absent), where no `i` means every record has its own
 * value, in order (request ids).
 */
type Column = { readonly c: unknown } | { readonly d: unknown[]; readonly i?: number[] };

function columnsOf(records: readonly object[]): Record<string, Column> {
  const names = new Set<string>();
  for (const record of records) for (const name of Object.keys(record)) names.add(name);
  const columns: Record<string, Column> = {};
  for (const name of names) {
    const distinct = new Map<unknown, number>();
    const indexes: number[] = [];
    for (const record of records) {
      if (!Object.prototype.hasOwnProperty.call(record, name)) {
        indexes.push(-1);
        continue;
      }
      const value: unknown = (record as Record<string, unknown>)[name];
      let at = distinct.get(value);
      if (at === undefined) distinct.set(value, (at = distinct.size));
      indexes.push(at);
    }
    const complete = !indexes.includes(-1);
    if (complete && distinct.size === 1) columns[name] = { c: [...distinct.keys()][0] };
    else if (complete && distinct.size === records.length) columns[name] = { d: [...distinct.keys()] };
    else columns[name] = { d: [...distinct.keys()], i: indexes };
  }
  return columns;
}

/** The records of a version 3 message, in order; none when its columns do not add up. */
function recordsOfColumns(n: unknown, columns: unknown): unknown[] {
  if (!Number.isInteger(n) || (n as number) < 0 || typeof columns !== 'object' || columns === null) return [];
  const count = n as number;
  const fields = Object.entries(columns as Record<string, unknown>);
  for (const [, column] of fields) if (!isColumn(column, count)) return [];
  const records: Record<string, unknown>[] = [];
  for (let r = 0; r < count; r++) {
    const record: Record<string, unknown> = {};
    for (const [name, column] of fields as [string, Column][]) {
      if ('c' in column) record[name] = column.c;
      else if (column.i === undefined) record[name] = column.d[r];
      else {
        const at = column.i[r] ?? -1;
        if (at >= 0) record[name] = column.d[at];
      }
    }
    records.push(record);
  }
  return records;
}

function isColumn(column: unknown, count: number): column is Column {
  if (typeof column !== 'object' || column === null) return false;
  if ('c' in column) return true;
  const { d, i } = column as { d?: unknown; i?: unknown };
  if (i === undefined) return Array.isArray(d) && d.length === count;
  return (
    Array.isArray(d) &&
    Array.isArray(i) &&
    i.length === count &&
    i.every((x) => Number.isInteger(x) && (x as number) >= -1 && (x as number) < d.length)
  );
}

/** How many records a message holds, from its header (1 for a single-record message). */
export function usageRecordCount(headers: Readonly<Record<string, unknown>> | undefined): number {
  const header = headers?.[USAGE_RECORDS_HEADER];
  const count = header === undefined ? Number.NaN : Number(Buffer.isBuffer(header) ? header.toString('utf8') : header);
  return Number.isInteger(count) && count > 0 ? count : 1;
}
