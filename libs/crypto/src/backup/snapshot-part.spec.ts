import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { BackupError } from './backup-error';
import { backupKeyFingerprint } from './backup-keys';
import { sealSnapshotPart, SnapshotPartReader, type PartSummary } from './snapshot-part';
import type { DekPartRecord, KekPartRecord, SnapshotRecord } from './snapshot-records';

const kekKey = randomBytes(32);
const dekKey = randomBytes(32);
const snapshotId = 'bk-20261115T101500123Z-0a1b2c3d';

const materials = (n: number): DekPartRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    t: 'material' as const,
    tenantId: `tnt_${i % 7}`,
    keyId: `key_${i}`,
    version: 1 + (i % 3),
    kcv: randomBytes(8).toString('hex'),
    sealed: randomBytes(60).toString('base64'),
    createdAt: new Date(0).toISOString(),
  }));

const kekRecords: KekPartRecord[] = [
  { t: 'root', kcv: '0011223344556677', createdAt: new Date(0).toISOString() },
  { t: 'kek', tenantId: 'tnt_1', rootKcv: '0011223344556677', sealed: randomBytes(60).toString('base64'), createdAt: 'x' },
];

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function seal(
  records: SnapshotRecord[],
  part: 'kek' | 'dek' = 'dek',
  chunkBytes = 1024,
): Promise<{ file: Buffer; summary: PartSummary }> {
  const sealed = sealSnapshotPart(records, {
    backupKey: part === 'dek' ? dekKey : kekKey,
    part,
    snapshotId,
    createdAt: new Date(0).toISOString(),
    chunkBytes,
  });
  const [file, summary] = await Promise.all([collect(sealed.body), sealed.summary]);
  return { file, summary };
}

async function open(
  file: Buffer,
  options: { part?: 'kek' | 'dek'; key?: Buffer; otherKey?: Buffer; snapshotId?: string; expectedFingerprint?: string } = {},
): Promise<{ records: SnapshotRecord[]; summary: PartSummary }> {
  const reader = new SnapshotPartReader(Readable.from([file]), {
    part: options.part ?? 'dek',
    source: 'memory',
    backupKey: options.key ?? dekKey,
    ...(options.otherKey ? { otherKey: options.otherKey } : {}),
    snapshotId: options.snapshotId ?? snapshotId,
    ...(options.expectedFingerprint ? { expectedFingerprint: options.expectedFingerprint } : {}),
  });
  const records: SnapshotRecord[] = [];
  const summary = await reader.drain((r) => records.push(r));
  return { records, summary };
}

async function refusal(promise: Promise<unknown>): Promise<BackupError> {
  try {
    await promise;
  } catch (err: unknown) {
    if (err instanceof BackupError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

/** Offsets of each frame in a part file: [start, end) of the whole frame. */
function frames(file: Buffer): { start: number; end: number }[] {
  let offset = 9 + file.readUInt32BE(5);
  const found: { start: number; end: number }[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset + 1);
    found.push({ start: offset, end: offset + 5 + length });
    offset += 5 + length;
  }
  return found;
}

describe('snapshot parts (streamed, compressed, AES-256-GCM in authenticated chunks)', () => {
  it('round-trips every record in order, with matching digests and counts', async () => {
    const records = materials(500);
    const { file, summary } = await seal(records);
    expect(frames(file).length).toBeGreaterThan(5);
    const opened = await open(file);
    expect(opened.records).toEqual(records);
    expect(opened.summary).toEqual(summary);
    expect(summary.records).toEqual({ material: 500, credential: 0 });
    expect(summary.bytes).toBe(file.length);
    expect(summary.keyFingerprint).toBe(backupKeyFingerprint(dekKey));
  });

  it('handles an empty part and a KEK part', async () => {
    const empty = await seal([]);
    expect((await open(empty.file)).records).toEqual([]);
    const kek = await seal(kekRecords, 'kek');
    const opened = await open(kek.file, { part: 'kek', key: kekKey });
    expect(opened.records).toEqual(kekRecords);
    expect(opened.summary.records).toEqual({ root: 1, kek: 1 });
  });

  it('never holds a record in the clear, nor the wrapped values', async () => {
    const records = materials(20);
    const { file } = await seal(records);
    for (const r of records) expect(file.includes(Buffer.from((r as { sealed: string }).sealed, 'base64'))).toBe(false);
    expect(file.toString('latin1')).not.toContain('key_1');
  });

  it('refuses a flipped byte anywhere in the file', async () => {
    const { file } = await seal(materials(200));
    const positions = [0, 4, 6, 12, 40, file.readUInt32BE(5) + 9, file.readUInt32BE(5) + 12, file.readUInt32BE(5) + 30];
    for (let i = 0; i < 40; i++) positions.push(Math.floor((file.length * i) / 40));
    positions.push(file.length - 1);
    for (const position of positions) {
      const altered = Buffer.from(file);
      altered[position] = altered[position]! ^ 0x01;
      const err = await refusal(open(altered));
      expect(['tampered', 'truncated', 'unsupported-format', 'wrong-key', 'wrong-part', 'mismatched-pair']).toContain(err.code);
    }
    const inFrame = frames(file)[2]!;
    const altered = Buffer.from(file);
    altered[inFrame.end - 3] = altered[inFrame.end - 3]! ^ 0x80;
    const err = await refusal(open(altered));
    expect(err.code).toBe('tampered');
    expect(err.message).toBe(
      `the DEK part of snapshot ${snapshotId} (memory) was altered: chunk 2 failed authentication (altered, reordered or from another file)`,
    );
  });

  it('refuses a truncated file: a missing final chunk, a cut frame, a cut header, nothing at all', async () => {
    const { file } = await seal(materials(200));
    const all = frames(file);
    const withoutLast = file.subarray(0, all.at(-1)!.start);
    expect((await refusal(open(withoutLast))).message).toMatch(/is truncated: it ends after \d+ chunk\(s\), without its final chunk$/);
    expect((await refusal(open(file.subarray(0, file.length - 10)))).code).toBe('truncated');
    expect((await refusal(open(file.subarray(0, 20)))).message).toMatch(/ends inside its header/);
    expect((await refusal(open(Buffer.alloc(0)))).message).toMatch(/is empty$/);
  });

  it('refuses reordered or duplicated chunks and bytes after the final chunk', async () => {
    const { file } = await seal(materials(200));
    const [a, b] = [frames(file)[1]!, frames(file)[2]!];
    const swapped = Buffer.concat([
      file.subarray(0, a.start),
      file.subarray(b.start, b.end),
      file.subarray(a.start, a.end),
      file.subarray(b.end),
    ]);
    expect((await refusal(open(swapped))).message).toMatch(/chunk 1 failed authentication/);
    const duplicated = Buffer.concat([file.subarray(0, b.end), file.subarray(b.start, b.end), file.subarray(b.end)]);
    expect((await refusal(open(duplicated))).code).toBe('tampered');
    const trailing = Buffer.concat([file, Buffer.from([0])]);
    expect((await refusal(open(trailing))).message).toMatch(/1 byte\(s\) follow its final chunk/);
    // Marking a middle chunk final (to hide the rest) fails authentication.
    const earlyFinal = Buffer.from(file.subarray(0, a.end));
    earlyFinal[a.start] = 1;
    expect((await refusal(open(earlyFinal))).code).toBe('tampered');
  });

  it('opens only with its own key: another key, the other part key (swapped), or a forged key name fail precisely', async () => {
    const { file } = await seal(materials(10));
    const wrong = await refusal(open(file, { key: randomBytes(32) }));
    expect(wrong.code).toBe('wrong-key');
    expect(wrong.message).toContain(`is encrypted under backup key ${backupKeyFingerprint(dekKey)}`);
    const swapped = await refusal(open(file, { key: kekKey, otherKey: dekKey }));
    expect(swapped.code).toBe('swapped-keys');
    expect(swapped.message).toBe(
      `the DEK part of snapshot ${snapshotId} (memory) is encrypted under the key given as the KEK backup key: the two backup keys are swapped`,
    );
    // Rewriting the header to name the other key does not help: the header is authenticated.
    const forged = Buffer.from(file.toString('latin1').replace(backupKeyFingerprint(dekKey), backupKeyFingerprint(kekKey)), 'latin1');
    expect((await refusal(open(forged, { key: kekKey }))).code).toBe('tampered');
    expect((await refusal(open(forged, { expectedFingerprint: backupKeyFingerprint(dekKey) }))).message).toMatch(
      /its header names backup key/,
    );
  });

  it('refuses the other part and a part of another snapshot', async () => {
    const { file } = await seal(materials(3));
    const asKek = await refusal(open(file, { part: 'kek', key: kekKey }));
    expect(asKek.code).toBe('wrong-part');
    expect(asKek.message).toMatch(/holds a DEK part instead .* are the two destinations swapped\?$/);
    const other = await refusal(open(file, { snapshotId: 'bk-20261115T101500123Z-ffffffff' }));
    expect(other.code).toBe('mismatched-pair');
  });

  it('refuses a file that is not a backup at all', async () => {
    expect((await refusal(open(Buffer.from('{"hello": "world"}')))).code).toBe('unsupported-format');
  });
});
