import type { Keystore } from './keystore';
import { shredCommitted, type ShredOrder } from './shred';

/** A keystore that records which deletes it was asked for. */
function recordingKeystore() {
  const calls: string[] = [];
  const keystore = {
    shredVersions: (tenantId: string, keyId: string, versions: readonly { version: number; kcv: string }[]) => {
      calls.push(`byId ${tenantId}/${keyId} ${versions.map((v) => `${v.version}:${v.kcv}`).join(',')}`);
      return Promise.resolve(versions.length);
    },
    shredKey: (tenantId: string, keyId: string, versions?: readonly number[]) => {
      calls.push(`query ${tenantId}/${keyId} ${versions?.join(',') ?? 'all'}`);
      return Promise.resolve(versions?.length ?? 0);
    },
    shredTenant: (tenantId: string) => {
      calls.push(`tenant ${tenantId}`);
      return Promise.resolve(1);
    },
  };
  return { keystore: keystore as unknown as Keystore, calls };
}

const destroyed: ShredOrder = { shred: 'versions', keyId: 'key_1', versions: [1, 2] };

describe('shredCommitted', () => {
  it("deletes a destroyed key's material by _id when the log names every version's check value", async () => {
    const { keystore, calls } = recordingKeystore();
    const kcvs: Record<number, string> = { 1: 'aaaaaa', 2: 'bbbbbb' };
    expect(await shredCommitted(keystore, 'ten_a', [destroyed], (_keyId, version) => kcvs[version])).toBe(2);
    expect(calls).toEqual(['byId ten_a/key_1 1:aaaaaa,2:bbbbbb']);
  });

  it('falls back to the query on the key when a check value is unknown (the projector, a restore)', async () => {
    const { keystore, calls } = recordingKeystore();
    await shredCommitted(keystore, 'ten_a', [destroyed], (_keyId, version) => (version === 1 ? 'aaaaaa' : undefined));
    await shredCommitted(keystore, 'ten_a', [destroyed]);
    expect(calls).toEqual(['query ten_a/key_1 1,2', 'query ten_a/key_1 1,2']);
  });

  it('shreds a whole tenant on offboarding', async () => {
    const { keystore, calls } = recordingKeystore();
    await shredCommitted(keystore, 'ten_a', [{ shred: 'tenant' }]);
    expect(calls).toEqual(['tenant ten_a']);
  });
});
