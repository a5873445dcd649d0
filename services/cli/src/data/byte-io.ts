import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, fstatSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { progressBar, UsageError, type Invocation } from '@keyward/cli-kit';

/** Inputs at least this large show a progress bar (on a terminal). */
const PROGRESS_FROM_BYTES = 16 * 1024 * 1024;

export const IO_OPTIONS = {
  in: { type: 'string', value: 'FILE', description: 'read this file (default: standard input)' },
  out: { type: 'string', value: 'FILE', description: 'write this file, replaced only once all went well (default: standard output)' },
} as const;

/** Where a verb's bytes come from: the stream, and its size when known (a file). */
export interface Source {
  readonly stream: NodeJS.ReadableStream;
  readonly size: number | undefined;
}

export function source(inv: Invocation, file: string | undefined): Source {
  if (file !== undefined) {
    try {
      return { stream: createReadStream(file, { highWaterMark: 256 * 1024 }), size: statSync(file).size };
    } catch (err: unknown) {
      throw new UsageError(`--in ${file}: ${(err as Error).message}`);
    }
  }
  const stdin = inv.io.in;
  if (stdin === undefined) throw new UsageError('give --in FILE (no standard input)');
  let size: number | undefined;
  try {
    const stat = fstatSync(0);
    size = stdin === process.stdin && stat.isFile() ? stat.size : undefined;
  } catch {
    size = undefined;
  }
  return { stream: stdin, size };
}

/** Reads a whole (small) input; refuses more than `limit` bytes with `tooLarge`. */
export async function readAll(input: Source, limit: number, tooLarge: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of input.stream as AsyncIterable<Buffer | string>) {
    const piece = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += piece.length;
    if (bytes > limit) throw new Error(tooLarge);
    chunks.push(piece);
  }
  return Buffer.concat(chunks);
}

/** Standard output as the end of a pipeline: backpressure kept, never ended (the program still writes after). */
function stdoutSink(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (out.write(chunk)) callback();
      else out.once('drain', () => callback());
    },
  });
}

/** Counts bytes through a pipeline for the progress bar. */
function counter(total: number | undefined, label: string): Transform {
  const mib = (n: number): string => (n / 1024 / 1024).toFixed(0);
  const bar =
    total !== undefined && total >= PROGRESS_FROM_BYTES
      ? progressBar(`${label} |{bar}| {percentage}% | {mib}/{totalMib} MiB | ETA {eta_formatted}`, total, {
          mib: '0',
          totalMib: mib(total),
        })
      : undefined;
  let seen = 0;
  let stopped = false;
  const stop = (): void => {
    if (!stopped) bar?.stop();
    stopped = true;
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      bar?.update(seen, { mib: mib(seen), totalMib: mib(total ?? 0) });
      callback(null, chunk);
    },
    flush(callback) {
      stop();
      callback();
    },
    // A failed pipeline destroys every stage: the bar gives the terminal its cursor back.
    destroy(err, callback) {
      stop();
      callback(err);
    },
  });
}

/**
 * Runs input → transforms → output. With --out the file is written beside its target and renamed
 * into place only once everything was authenticated and written; on any failure it is removed.
 */
export async function run(
  inv: Invocation,
  input: Source,
  outFile: string | undefined,
  label: string,
  ...transforms: Transform[]
): Promise<void> {
  const stages: (NodeJS.ReadableStream | NodeJS.WritableStream)[] = [input.stream, counter(input.size, label), ...transforms];
  if (outFile === undefined) {
    await pipeline([...stages, stdoutSink(inv.io.out)] as unknown as [Readable, Writable]);
    return;
  }
  const partial = join(dirname(outFile), `.${basename(outFile)}.${randomBytes(4).toString('hex')}.partial`);
  try {
    await pipeline([...stages, createWriteStream(partial, { mode: 0o600 })] as unknown as [Readable, Writable]);
    renameSync(partial, outFile);
  } catch (err: unknown) {
    try {
      unlinkSync(partial);
    } catch {
      // never created
    }
    throw err;
  }
}

/** Writes a small result to --out (mode 0600) or standard output. */
export async function writeResult(inv: Invocation, outFile: string | undefined, bytes: Buffer): Promise<void> {
  await run(inv, { stream: Readable.from([bytes]), size: bytes.length }, outFile, 'write');
}
