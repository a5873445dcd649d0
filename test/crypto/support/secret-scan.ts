import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { uniqueName } from '../../support/env';

/** One searchable encoding of one secret. */
export interface SecretForm {
  /** What the secret is, e.g. "material key_… v2" or "data key #3". */
  readonly secret: string;
  /** How it is encoded: raw, hex, HEX, base64@0, base64url@2, utf8… */
  readonly form: string;
  readonly needle: Buffer;
}

export interface Hit {
  readonly where: string;
  readonly secret: string;
  readonly form: string;
  /** A little of what precedes the hit, to tell which field it sits in (the secret itself is not shown). */
  readonly before: string;
}

/**
 * Every way a secret could show up in bytes or text: the raw bytes, hex in both cases, and base64
 * and base64url at each of the three alignments (a secret embedded in a longer value is encoded
 * differently depending on its offset modulo 3; only the groups made of its own bytes are kept,
 * so the needle is found whatever surrounds it).
 */
export function formsOf(secret: string, bytes: Buffer): SecretForm[] {
  if (bytes.length < 12) throw new Error(`secret "${secret}" is too short (${bytes.length} bytes) to search for without false hits`);
  const forms: SecretForm[] = [
    { secret, form: 'raw', needle: Buffer.from(bytes) },
    { secret, form: 'hex', needle: Buffer.from(bytes.toString('hex'), 'utf8') },
    { secret, form: 'HEX', needle: Buffer.from(bytes.toString('hex').toUpperCase(), 'utf8') },
  ];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const encoded = padded.toString('base64');
    const stable = encoded.slice(shift === 0 ? 0 : 4, Math.floor(padded.length / 3) * 4);
    forms.push({ secret, form: `base64@${shift}`, needle: Buffer.from(stable, 'utf8') });
    const url = stable.replace(/\+/g, '-').replace(/\//g, '_');
    if (url !== stable) forms.push({ secret, form: `base64url@${shift}`, needle: Buffer.from(url, 'utf8') });
  }
  return forms;
}

/** A set of secrets to look for, in every form. */
export class SecretSet {
  private readonly forms: SecretForm[] = [];
  private readonly labels = new Set<string>();

  addBytes(secret: string, bytes: Buffer): void {
    if (this.labels.has(secret)) throw new Error(`secret "${secret}" added twice`);
    this.labels.add(secret);
    this.forms.push(...formsOf(secret, bytes));
  }

  /** A text secret: its UTF-8 bytes (which is how it appears in JSON, logs and BSON strings) and their encodings. */
  addText(secret: string, text: string): void {
    this.addBytes(secret, Buffer.from(text, 'utf8'));
  }

  get size(): number {
    return this.labels.size;
  }

  get secrets(): string[] {
    return [...this.labels];
  }

  /** Every form of every secret found in `haystack`. */
  find(where: string, haystack: Buffer | string): Hit[] {
    const bytes = typeof haystack === 'string' ? Buffer.from(haystack, 'utf8') : haystack;
    const hits: Hit[] = [];
    for (const form of this.forms) {
      const at = bytes.indexOf(form.needle);
      if (at >= 0) {
        const before = bytes
          .subarray(Math.max(0, at - 48), at)
          .toString('latin1')
          .replace(/[^\x20-\x7e]/g, '.');
        hits.push({ where, secret: form.secret, form: form.form, before });
      }
    }
    return hits;
  }
}

/** Formats hits for a failure message: where, what, in which encoding. */
export function describeHits(hits: readonly Hit[], max = 40): string {
  const lines = hits.slice(0, max).map((h) => `  ${h.where}: ${h.secret} (${h.form}) after "…${h.before}"`);
  if (hits.length > max) lines.push(`  … and ${hits.length - max} more`);
  return lines.join('\n');
}

export interface TopicMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders | undefined;
}

/**
 * Reads every message of `topic` from the low to the high watermark of each partition (as of the
 * call), with a consumer group of its own that is deleted afterwards.
 */
export async function readWholeTopic(brokers: string[], topic: string, timeoutMs = 60_000): Promise<TopicMessage[]> {
  const kafka = new Kafka({ clientId: 'leak-scan', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = uniqueName('leak-scan');
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    const remaining = new Map<number, bigint>();
    for (const p of offsets) if (BigInt(p.high) > BigInt(p.low)) remaining.set(p.partition, BigInt(p.high) - 1n);
    const messages: TopicMessage[] = [];
    if (remaining.size === 0) return messages;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${topic}: partitions ${[...remaining.keys()].join(',')} not read to the end in ${timeoutMs} ms`)),
          timeoutMs,
        );
        void consumer
          .run({
            eachMessage: ({ partition, message }) => {
              messages.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers });
              const last = remaining.get(partition);
              if (last !== undefined && BigInt(message.offset) >= last) remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
              return Promise.resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return messages;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}
