import { randomIv } from './random-iv';

describe('randomIv', () => {
  it('hands out IVs of the asked length, each a copy that later draws do not touch', () => {
    const first = randomIv(12);
    const kept = Buffer.from(first);
    for (let i = 0; i < 2_000; i++) randomIv(12);
    expect(first).toHaveLength(12);
    expect(first.equals(kept)).toBe(true);
  });

  it('never repeats an IV across many pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50_000; i++) seen.add(randomIv(12).toString('hex'));
    expect(seen.size).toBe(50_000);
  });

  it('spreads its bytes like a CSPRNG (no zero runs left by a refill)', () => {
    const bytes = Buffer.concat(Array.from({ length: 4_000 }, () => randomIv(12)));
    const counts = new Array<number>(256).fill(0);
    for (const b of bytes) counts[b] = (counts[b] ?? 0) + 1;
    const expected = bytes.length / 256;
    const chiSquare = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    // 255 degrees of freedom: p < 1e-6 beyond ~370.
    expect(chiSquare).toBeLessThan(370);
  });

  it('refuses lengths an IV cannot have', () => {
    for (const bad of [0, -1, 1.5, 65, Number.NaN]) expect(() => randomIv(bad)).toThrow(RangeError);
  });
});
