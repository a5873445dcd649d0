import { KeywardClient } from '../client/keyward-client';
import { FakeKeyApi } from '../testing/fake-key-api';
import { DataKeyCache } from './data-key-cache';
import { EnvelopeEncryption } from './envelope-encryption';

const key = () => ({ plaintext: Buffer.alloc(32, 7), wrapped: Buffer.from('wrapped') });

describe('the data-key cache enforces max age, max messages and max bytes per data key', () => {
  let clock = 0;
  const cache = (limits: Partial<ConstructorParameters<typeof DataKeyCache>[0]> = {}) =>
    new DataKeyCache({ maxAgeMs: 1_000, maxMessages: 3, maxBytes: 100, capacity: 2, ...limits }, () => clock);
  beforeEach(() => (clock = 0));

  it('reuses a data key for up to maxMessages messages (the one that made it counts)', () => {
    const c = cache();
    c.putForEncryption('p', key(), 10);
    expect(c.takeForEncryption('p', 10)).toBeDefined();
    expect(c.takeForEncryption('p', 10)).toBeDefined();
    expect(c.takeForEncryption('p', 10)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('refuses a message that would take a data key past maxBytes, and never caches one bigger than it', () => {
    const c = cache();
    c.putForEncryption('p', key(), 60);
    expect(c.takeForEncryption('p', 41)).toBeUndefined();
    c.putForEncryption('p', key(), 101);
    expect(c.size).toBe(0);
    c.putForEncryption('p', key(), 50);
    expect(c.takeForEncryption('p', 50)).toBeDefined();
  });

  it('drops a data key once it is maxAgeMs old, for encryption and decryption alike', () => {
    const c = cache({ maxMessages: 100 });
    c.putForEncryption('e', key(), 1);
    c.putForDecryption('d', key());
    clock = 999;
    expect(c.takeForEncryption('e', 1)).toBeDefined();
    expect(c.getForDecryption('d')).toEqual(Buffer.alloc(32, 7));
    clock = 1_000;
    expect(c.takeForEncryption('e', 1)).toBeUndefined();
    expect(c.getForDecryption('d')).toBeUndefined();
  });

  it('holds at most capacity entries, least recently used out, and zeroes the keys it drops', () => {
    const c = cache({ maxMessages: 100 });
    const first = key();
    const held: Buffer[] = [];
    const put = (p: string, k = key()) => {
      c.putForDecryption(p, k);
      held.push(k.plaintext);
    };
    put('a', first);
    put('b');
    expect(c.getForDecryption('a')).toBeDefined();
    put('c');
    expect([c.getForDecryption('a') !== undefined, c.getForDecryption('b'), c.getForDecryption('c') !== undefined]).toEqual([
      true,
      undefined,
      true,
    ]);
    // The caller's buffers are its own: the cache keeps copies and zeroes those.
    expect(first.plaintext).toEqual(Buffer.alloc(32, 7));
    c.clear();
    expect(c.size).toBe(0);
  });

  it('refuses limits that are not whole numbers above zero', () => {
    expect(() => cache({ maxMessages: 0 })).toThrow('cache.maxMessages must be a whole number above 0');
    expect(() => cache({ maxAgeMs: -1 })).toThrow(RangeError);
  });
});

describe('the envelope helper with a cache asks key-api for a data key only when the limits say so', () => {
  let clock = 0;
  const setup = (cache: object | false) => {
    const api = new FakeKeyApi();
    const client = new KeywardClient({ baseUrl: 'https://kms.test', transport: api.transport });
    const envelope = new EnvelopeEncryption(client, { key: 'alias/app', cache: cache as false }, () => clock);
    const dataKeys = () => api.calls.filter((c) => c.endsWith('/data-key')).length;
    const decrypts = () => api.calls.filter((c) => c.endsWith('/decrypt')).length;
    return { envelope, dataKeys, decrypts };
  };
  beforeEach(() => (clock = 0));

  it('without a cache: one data key per message', async () => {
    const { envelope, dataKeys } = setup(false);
    for (let i = 0; i < 3; i += 1) await envelope.encrypt(Buffer.from('x'));
    expect(dataKeys()).toBe(3);
  });

  it('maxMessages: 2 → a new data key every second message; different AAD, different data key', async () => {
    const { envelope, dataKeys } = setup({ maxMessages: 2 });
    for (let i = 0; i < 5; i += 1) await envelope.encrypt(Buffer.from('x'));
    expect(dataKeys()).toBe(3);
    await envelope.encrypt(Buffer.from('x'), { aad: Buffer.from('tenant-b') });
    expect(dataKeys()).toBe(4);
  });

  it('maxBytes: 10 → messages of 4 bytes share a data key two at a time', async () => {
    const { envelope, dataKeys } = setup({ maxBytes: 10 });
    for (let i = 0; i < 4; i += 1) await envelope.encrypt(Buffer.alloc(4));
    expect(dataKeys()).toBe(2);
  });

  it('maxAgeMs: a data key is not used once it is that old; decryption reuses unwrapped keys while fresh', async () => {
    const { envelope, dataKeys, decrypts } = setup({ maxAgeMs: 1_000 });
    const first = await envelope.encrypt(Buffer.from('one'));
    const second = await envelope.encrypt(Buffer.from('two'));
    expect(dataKeys()).toBe(1);
    expect((await envelope.decrypt(first)).toString()).toBe('one');
    expect((await envelope.decrypt(second)).toString()).toBe('two');
    expect(decrypts()).toBe(1);
    clock = 1_000;
    await envelope.encrypt(Buffer.from('three'));
    expect(dataKeys()).toBe(2);
    await envelope.decrypt(first);
    expect(decrypts()).toBe(2);
  });

  it('a stream of unknown size never uses the cache', async () => {
    const { envelope, dataKeys } = setup({ maxMessages: 100 });
    await envelope.encrypt(Buffer.from('cached'));
    const stream = envelope.encryptStream();
    stream.end(Buffer.from('fresh'));
    await stream.toArray();
    expect(dataKeys()).toBe(2);
  });
});
