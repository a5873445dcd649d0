import { blockEncryptStream } from '@keyward/crypto';
import { CipherStreams, MAX_STREAMS, STREAM_TTL_MS } from './kmip-cipher-streams';

const owner = { tenantId: 'ten_a', principalId: 'prn_a', keyId: 'key_a' };
const stream = () => blockEncryptStream({ algorithm: 'AES', mode: 'CTR', padding: 'none', key: Buffer.alloc(16), iv: Buffer.alloc(16) });

describe('CipherStreams (multi-part Encrypt state)', () => {
  it('finds a stream only for the tenant, principal and key that opened it, until its last part', () => {
    const streams = new CipherStreams();
    const id = streams.open(owner, stream(), 0);
    expect(streams.take(id, { ...owner, principalId: 'prn_b' }, false, 1)).toBeUndefined();
    expect(streams.take(id, { ...owner, tenantId: 'ten_b' }, false, 1)).toBeUndefined();
    expect(streams.take(id, { ...owner, keyId: 'key_b' }, false, 1)).toBeUndefined();
    expect(streams.take(id, owner, false, 1)).toBeDefined();
    expect(streams.take(id, owner, true, 2)).toBeDefined();
    expect(streams.take(id, owner, true, 3)).toBeUndefined();
  });

  it('forgets a stream idle for longer than its lifetime, and the oldest when full', () => {
    const streams = new CipherStreams();
    const idle = streams.open(owner, stream(), 0);
    expect(streams.take(idle, owner, false, STREAM_TTL_MS)).toBeUndefined();
    const first = streams.open(owner, stream(), 0);
    for (let i = 1; i < MAX_STREAMS; i++) streams.open(owner, stream(), 0);
    const newest = streams.open(owner, stream(), 0);
    expect(streams.take(first, owner, false, 1)).toBeUndefined();
    expect(streams.take(newest, owner, false, 1)).toBeDefined();
  });
});
