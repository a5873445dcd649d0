import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeywardClient } from '../client/keyward-client';
import { FakeKeyApi } from '../testing/fake-key-api';
import { EnvelopeEncryption } from './envelope-encryption';
import { EnvelopeError } from './envelope-error';
import { FIXED_HEADER_BYTES, FRAME_PREFIX_BYTES } from './message-format';

const CHUNK = 1024;
const setup = () => {
  const api = new FakeKeyApi();
  const client = new KeywardClient({ baseUrl: 'https://kms.test', transport: api.transport });
  return { api, envelope: new EnvelopeEncryption(client, { key: 'alias/app', chunkBytes: CHUNK }) };
};

/** The header length and the frames of a message. */
function frames(message: Buffer): { headerLength: number; frames: Buffer[] } {
  const headerLength = FIXED_HEADER_BYTES + 2 + message.readUInt16BE(FIXED_HEADER_BYTES);
  const out: Buffer[] = [];
  for (let at = headerLength; at < message.length;) {
    const length = FRAME_PREFIX_BYTES + message.readUInt32BE(at + 1);
    out.push(message.subarray(at, at + length));
    at += length;
  }
  return { headerLength, frames: out };
}

const refusal = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => 'accepted',
    (err: unknown) => err,
  );

describe('envelope messages: framed AES-256-GCM under a data key, altered, truncated and reordered ones refused', () => {
  const { envelope } = setup();

  it.each([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK, 5 * CHUNK + 17])('round-trips %i bytes', async (size) => {
    const plaintext = randomBytes(size);
    const message = await envelope.encrypt(plaintext, { aad: Buffer.from('ctx') });
    const { frames: f } = frames(message);
    expect(f.length).toBe(Math.max(1, Math.ceil(size / CHUNK)));
    expect(f.map((frame) => frame.readUInt8(0))).toEqual(f.map((_, i) => (i === f.length - 1 ? 1 : 0)));
    expect(await envelope.decrypt(message, { aad: Buffer.from('ctx') })).toEqual(plaintext);
  });

  it('streams in constant memory, whatever the pieces the input arrives in', async () => {
    const pieces = Array.from({ length: 50 }, (_, i) => randomBytes(1 + ((i * 97) % 700)));
    const message: Buffer[] = [];
    await pipeline(Readable.from(pieces), envelope.encryptStream(), async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) message.push(c);
    });
    const whole = Buffer.concat(message);
    const out: Buffer[] = [];
    const bytewise = Array.from({ length: Math.ceil(whole.length / 333) }, (_, i) => whole.subarray(i * 333, (i + 1) * 333));
    await pipeline(Readable.from(bytewise), envelope.decryptStream(), async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) out.push(c);
    });
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    expect(digest(Buffer.concat(out))).toBe(digest(Buffer.concat(pieces)));
  });

  describe('refusals', () => {
    let message: Buffer;
    let headerLength: number;
    let f: Buffer[];
    beforeAll(async () => {
      message = await envelope.encrypt(randomBytes(3 * CHUNK + 10));
      ({ headerLength, frames: f } = frames(message));
    });
    const header = () => message.subarray(0, headerLength);

    it.each<[string, () => Buffer, string]>([
      ['a flipped ciphertext bit', () => Buffer.concat([header(), f[0]!, flip(f[1]!, 20), f[2]!, f[3]!]), 'tampered'],
      ['a flipped tag bit', () => Buffer.concat([header(), f[0]!, f[1]!, f[2]!, flip(f[3]!, f[3]!.length - 1)]), 'tampered'],
      ['two frames swapped', () => Buffer.concat([header(), f[1]!, f[0]!, f[2]!, f[3]!]), 'tampered'],
      ['a frame dropped', () => Buffer.concat([header(), f[0]!, f[2]!, f[3]!]), 'tampered'],
      ['a frame duplicated', () => Buffer.concat([header(), f[0]!, f[0]!, f[1]!, f[2]!, f[3]!]), 'tampered'],
      ['cut after a whole frame (no final frame)', () => Buffer.concat([header(), f[0]!, f[1]!]), 'truncated'],
      ['cut inside a frame', () => message.subarray(0, message.length - 5), 'truncated'],
      ['the final flag moved to an earlier frame', () => Buffer.concat([header(), flag(f[0]!)]), 'tampered'],
      ['bytes after the final frame', () => Buffer.concat([message, Buffer.from([0])]), 'tampered'],
      ['cut inside the header', () => message.subarray(0, 20), 'truncated'],
      ['an altered message id (key commitment)', () => Buffer.concat([flip(header(), 10), ...f]), 'wrong-data-key'],
      ['an altered commitment', () => Buffer.concat([flip(header(), 60), ...f]), 'wrong-data-key'],
      ['not an envelope at all', () => Buffer.from('hello world, this is plain text'), 'not-envelope'],
      ['an unknown format', () => Buffer.concat([Buffer.from('KWE\u0009'), message.subarray(4)]), 'unsupported-format'],
      ['an empty input', () => Buffer.alloc(0), 'truncated'],
    ])('%s', async (_name, altered, code) => {
      const failure = await refusal(envelope.decrypt(altered()));
      expect(failure).toBeInstanceOf(EnvelopeError);
      expect((failure as EnvelopeError).code).toBe(code);
    });

    it('a frame of another message under the same data key is refused (message keys differ)', async () => {
      const other = frames(await envelope.encrypt(randomBytes(3 * CHUNK + 10))).frames;
      expect(await refusal(envelope.decrypt(Buffer.concat([header(), f[0]!, other[1]!, f[2]!, f[3]!])))).toMatchObject({
        code: 'tampered',
      });
    });

    it('another AAD is refused by key-api (the data key is bound to it)', async () => {
      const withAad = await envelope.encrypt(Buffer.from('x'), { aad: Buffer.from('a') });
      expect(await refusal(envelope.decrypt(withAad, { aad: Buffer.from('b') }))).toMatchObject({ problem: 'authentication-failed' });
    });
  });

  it('rewrap changes only the wrapped data key; the frames are untouched and still open', async () => {
    const { envelope: e } = setup();
    const plaintext = randomBytes(2 * CHUNK + 3);
    const message = await e.encrypt(plaintext);
    const out: Buffer[] = [];
    await pipeline(Readable.from([message.subarray(0, 7), message.subarray(7)]), e.rewrapStream(), async (s: AsyncIterable<Buffer>) => {
      for await (const c of s) out.push(c);
    });
    const rewrapped = Buffer.concat(out);
    expect(rewrapped.equals(message)).toBe(false);
    expect(frames(rewrapped).frames).toEqual(frames(message).frames);
    expect(await e.decrypt(rewrapped)).toEqual(plaintext);
  });
});

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ 1;
  return copy;
}

function flag(frame: Buffer): Buffer {
  const copy = Buffer.from(frame);
  copy[0] = 1;
  return copy;
}
