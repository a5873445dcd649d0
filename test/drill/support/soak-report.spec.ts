import { flatness, soakSvg } from './soak-report';
import type { SoakSample } from './soak-sampler';

const series = (values: readonly number[]): SoakSample[] => values.map((v, minute) => ({ minute, values: { rss: v } }));

describe('soak flatness', () => {
  it('measures the growth of the least-squares line after warm-up, not of one sample against the largest', () => {
    // Growth during warm-up (minutes 0-2) does not count; after it the series saws 100-112 with no trend.
    const f = flatness(series([50, 80, 100, 112, 100, 112, 100, 112, 100]), 'rss', 2);
    expect(f).toMatchObject({ baseline: 100, peak: 112, peakMinute: 3, flat: true });
    expect(f.growth).toBeLessThan(0.02);
    // A steady rise of 2 a minute from 100 is 12 % over six minutes: not flat, whatever the noise.
    const leak = flatness(series([50, 80, 100, 102, 104, 106, 108, 110, 112]), 'rss', 2);
    expect(leak).toMatchObject({ trendStart: 100, trendEnd: 112, flat: false });
    expect(leak.growth).toBeCloseTo(0.12);
  });

  it('refuses growth beyond 10 % after warm-up', () => {
    const f = flatness(series([100, 100, 100, 105, 111]), 'rss', 2);
    expect(f).toMatchObject({ baseline: 100, peak: 111, flat: false });
    expect(f.growth).toBeCloseTo(0.11);
  });

  it('is not flat when the series has no sample at the end of warm-up (a process that died)', () => {
    expect(flatness(series([100, 100]), 'rss', 5).flat).toBe(false);
    expect(flatness(series([100, Number.NaN, 100]), 'rss', 1).flat).toBe(false);
    expect(flatness(series([100, 100, Number.NaN]), 'rss', 1).flat).toBe(false);
  });
});

describe('soak plot', () => {
  it('draws one line per series, with its name in the legend, and escapes names', () => {
    const samples: SoakSample[] = [0, 1, 2].map((minute) => ({ minute, values: { 'a<b': 10 + minute, disk: 5 } }));
    const svg = soakSvg(
      samples,
      [
        { title: 'RSS', series: ['a<b'] },
        { title: 'Disk', series: ['disk'] },
      ],
      { caption: 'c & d', warmUpMinutes: 1 },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('c &amp; d');
    expect(svg).not.toContain('NaN');
  });
});
