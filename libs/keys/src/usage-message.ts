import type { Message } from 'kafkajs';

/**
 * How usage records travel on the usage topic: in batches, one Kafka message per tenant per
 * flush (keyed by the tenant, so a tenant's records stay in order on one partition), each record
 * unchanged inside. A message per record cost kafkajs more CPU than the crypto operation it
 * audited. The record count is also a header, so a reader can bound a scan in records without
 * parsing other tenants' messages.
 */
export const USAGE_BATCH_VERSION = 2;
/** Header: how many records the message holds (decimal). */
export const USAGE_RECORDS_HEADER = 'keyward-records';
/** Most records one message carries (about 150 KiB of JSON, well under Kafka's 1 MiB default). */
export const MAX_RECORDS_PER_MESSAGE = 500;

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
        value: JSON.stringify({ v: USAGE_BATCH_VERSION, tenantId, records: chunk }),
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
  const batch = parsed as { v?: unknown; records?: unknown };
  if (batch.v === USAGE_BATCH_VERSION) return Array.isArray(batch.records) ? (batch.records as unknown[]) : [];
  return [parsed];
}

/** How many records a message holds, from its header (1 for a single-record message). */
export function usageRecordCount(headers: Readonly<Record<string, unknown>> | undefined): number {
  const header = headers?.[USAGE_RECORDS_HEADER];
  const count = header === undefined ? Number.NaN : Number(Buffer.isBuffer(header) ? header.toString('utf8') : header);
  return Number.isInteger(count) && count > 0 ? count : 1;
}
