import { encodeTtlv, Tag, ttlv, type TtlvLimits } from '@keyward/kmip';
import { ConnectionCaps } from './kmip-connection-caps';
import { FrameReader } from './kmip-frame-reader';

const LIMITS: TtlvLimits = { maxMessageBytes: 64 * 1024, maxDepth: 16 };
const message = encodeTtlv(ttlv.struct(Tag.RequestMessage, [ttlv.text(Tag.UniqueIdentifier, 'key_abc')]));

describe('FrameReader (finding 2: a frame loop that cannot spin)', () => {
  it.each([
    ['42007801 80000000', /exceeds/],
    ['42007801 7fffffff', /exceeds/],
    ['42007801 ffffffff', /exceeds/],
    ['42007801 fffffff9', /exceeds/],
    ['42007801 00000000', /empty message/],
    ['42007802 00000004', /must be a structure/],
  ])('ends the stream at the header %s with a reason, and hands out no frame', (header, reason) => {
    const reader = new FrameReader(LIMITS);
    const read = reader.push(Buffer.from(header.replace(' ', ''), 'hex'));
    expect(read.frames).toEqual([]);
    expect(read.error).toMatch(reason);
    expect(reader.partial).toBe(false);
    expect(reader.push(message).error).toBeDefined(); // nothing more is read once framing is lost
  });

  it('hands out the whole messages before a hostile header, then stops', () => {
    const reader = new FrameReader(LIMITS);
    const read = reader.push(Buffer.concat([message, message, Buffer.from('4200780180000000', 'hex')]));
    expect(read.frames).toEqual([message, message]);
    expect(read.error).toMatch(/exceeds/);
  });

  it('reassembles a message sent one byte at a time, and reports the partial message meanwhile', () => {
    const reader = new FrameReader(LIMITS);
    for (let i = 0; i < message.length - 1; i++) {
      expect(reader.push(message.subarray(i, i + 1))).toEqual({ frames: [] });
      expect(reader.partial).toBe(true);
    }
    expect(reader.push(message.subarray(message.length - 1)).frames).toEqual([message]);
    expect(reader.partial).toBe(false);
  });
});

describe('ConnectionCaps', () => {
  it('refuses the connection over the per-certificate cap, and counts a release once', () => {
    const caps = new ConnectionCaps(2);
    const first = caps.acquire('aa');
    const second = caps.acquire('aa');
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(caps.acquire('aa')).toBeUndefined();
    expect(caps.acquire('bb')).toBeDefined();
    first?.();
    first?.();
    expect(caps.count('aa')).toBe(1);
    expect(caps.acquire('aa')).toBeDefined();
    expect(caps.acquire('aa')).toBeUndefined();
  });
});
