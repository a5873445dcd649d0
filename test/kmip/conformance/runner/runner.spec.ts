import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ItemType, type TtlvItem } from '@keyward/kmip';
import { loadCases, type ConformanceCase } from './case-file';
import { runCase, type ConformanceIdentity } from './runner';
import { toTtlv } from './xml-ttlv';

const cases = ['1.4', '2.1'].flatMap((v) => loadCases(join(__dirname, '..', 'cases', v)));

/**
 * A stand-in for a server that answers exactly what the reference server did, with values of its own
 * for every placeholder (identifiers, IVs, correlation values, times), and `tamper` applied to the
 * answer of the request numbered `tamperAt` (1-based).
 */
function referenceServer(testCase: ConformanceCase, tamperAt = 0, tamper: (r: TtlvItem) => void = () => undefined): ConformanceIdentity {
  const chosen = new Map<string, TtlvItem['value']>();
  let step = 0;
  const choose = (placeholder: string, type: ItemType): TtlvItem['value'] => {
    if (placeholder.startsWith('$NOW')) return BigInt(Math.floor(Date.now() / 1000));
    if (!chosen.has(placeholder))
      chosen.set(placeholder, type === ItemType.TextString ? `srv-${randomBytes(4).toString('hex')}` : randomBytes(16));
    return chosen.get(placeholder)!;
  };
  return {
    label: 'reference',
    connectionFor: () =>
      Promise.resolve({
        send: () => {
          const response = toTtlv(testCase.steps[step]!.response, (p, _tag, type) => choose(p, type));
          step += 1;
          if (step === tamperAt) tamper(response);
          return Promise.resolve(response);
        },
      }),
    close: () => Promise.resolve(),
  };
}

describe('conformance runner', () => {
  it('passes every case against a server that answers what the reference server answered, with identifiers and IVs of its own', async () => {
    for (const c of cases) {
      const result = await runCase(c, referenceServer(c));
      expect({ id: c.id, outcome: result.outcome, cause: result.cause }).toEqual({ id: c.id, outcome: 'pass', cause: '' });
    }
  });

  it('a ciphertext written in the case decrypts under a generated key to any bytes of its length, not to another length', async () => {
    const c = cases.find((x) => x.id === 'CS-BC-M-2-14')!;
    const decrypted = (length: number) => (r: TtlvItem) => {
      const item = (r.value as TtlvItem[]).find((x) => x.tag === 0x42000f) as Extract<TtlvItem, { type: 1 }>;
      const payload = item.value.find((x) => x.tag === 0x42007c) as Extract<TtlvItem, { type: 1 }>;
      payload.value = payload.value.map((x) =>
        x.tag === 0x4200c2 ? { tag: x.tag, type: ItemType.ByteString, value: randomBytes(length) } : x,
      );
    };
    expect((await runCase(c, referenceServer(c, 2, decrypted(16)))).outcome).toBe('pass');
    expect(await runCase(c, referenceServer(c, 2, decrypted(15)))).toMatchObject({ outcome: 'fail', step: 2 });
  });

  it("a response header may leave out the reference server's correlation value or carry one of its own; a Batch Count that differs still fails", async () => {
    const c = cases.find((x) => x.id === 'BL-M-1-21')!;
    const header = (r: TtlvItem): TtlvItem[] =>
      ((r.value as TtlvItem[]).find((x) => x.tag === 0x42007a) as Extract<TtlvItem, { type: 1 }>).value;
    const edit = (change: (h: TtlvItem[]) => TtlvItem[]) => (r: TtlvItem) => {
      const h = header(r);
      h.splice(0, h.length, ...change([...h]));
    };
    const correlation = 0x420106;
    const omitted = edit((h) => h.filter((x) => x.tag !== correlation));
    const own = edit((h) => h.map((x) => (x.tag === correlation ? { tag: x.tag, type: ItemType.TextString, value: 'req-1234' } : x)));
    expect((await runCase(c, referenceServer(c, 1, omitted))).outcome).toBe('pass');
    expect((await runCase(c, referenceServer(c, 1, own))).outcome).toBe('pass');
    const recount = edit((h) => h.map((x) => (x.tag === 0x42000d ? { tag: x.tag, type: ItemType.Integer, value: 2 } : x)));
    expect(await runCase(c, referenceServer(c, 1, recount))).toMatchObject({ outcome: 'fail', step: 1 });
  });

  it('fails a case at the first request whose answer differs, names the refusal, and with keepGoing lists the later differences', async () => {
    const c = cases.find((x) => x.id === 'SKLC-M-2-14')!;
    const refuse = (r: TtlvItem): void => {
      const item = (r.value as TtlvItem[]).find((x) => x.tag === 0x42000f) as Extract<TtlvItem, { type: 1 }>;
      item.value = [
        item.value[0]!,
        { tag: 0x42007f, type: ItemType.Enumeration, value: 1 },
        { tag: 0x42007e, type: ItemType.Enumeration, value: 0x0c },
      ];
    };
    const stopped = await runCase(c, referenceServer(c, 2, refuse));
    expect(stopped).toMatchObject({ outcome: 'fail', step: 2, later: [] });
    expect(stopped.cause).toMatch(/^GetAttributes: PermissionDenied/);
    const going = await runCase(c, referenceServer(c, 2, refuse), { keepGoing: true });
    expect(going).toMatchObject({ outcome: 'fail', step: 2, cause: stopped.cause, later: [] });
  });
});
