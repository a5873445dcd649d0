import type { UsageRecord } from '../../services/key-api/src/audit/audit.service';
import { usageRecordsOf } from '@keyward/keys';
import { readTopicItems } from './topic-reader';

/** One usage audit record, as key-api (and the kmip service) publish them: the auditor API's reading of it. */
export type { UsageRecord } from '../../services/key-api/src/audit/audit.service';

/** Every record on a usage topic, read from the beginning until `expected` arrived or time ran out (`brokers`: a spec's own). */
export function readUsage(topic: string, expected: number, timeoutMs = 30_000, brokers?: readonly string[]): Promise<UsageRecord[]> {
  return readTopicItems(topic, expected, timeoutMs, (value) => usageRecordsOf(value) as UsageRecord[], brokers);
}
