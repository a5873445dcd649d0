import { Transform } from 'node:stream';

export interface RecordCount {
  readonly records: number;
  readonly bytes: number;
  readonly lastSeq: number;
}

/** A pass-through that counts the records of an export going by (and the last commit seq seen), for the progress bar. */
export interface RecordCounter extends Transform {
  summary(): RecordCount;
}

/** jsonl: {"tenantId":...,"seq":N,...}; csv: tenantId,seq,... (a quoted field may span lines: only lines that start a record count). */
function recordSeq(format: 'jsonl' | 'csv', line: string): RegExpExecArray | null {
  return format === 'jsonl'
    ? /"seq":(\d+)/.exec(line)
    : (/^[a-z][a-z0-9]*_[A-Za-z0-9]+,(\d+),\d+,/.exec(line) ?? /^provider,(\d+),\d+,/.exec(line));
}

/** Counts records going by without changing the bytes. */
export function recordCounter(format: 'jsonl' | 'csv' | 'html', onProgress: (count: RecordCount) => void): RecordCounter {
  let partial = '';
  let records = 0;
  let bytes = 0;
  let lastSeq = 0;
  let header = format === 'csv';
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (format !== 'html') {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (header) {
            header = false;
            continue;
          }
          const match = recordSeq(format, line);
          if (match) {
            records += 1;
            lastSeq = Number(match[1]);
          }
        }
      }
      onProgress({ records, bytes, lastSeq });
      done(null, chunk);
    },
  });
  return Object.assign(counter, { summary: (): RecordCount => ({ records, bytes, lastSeq }) });
}
