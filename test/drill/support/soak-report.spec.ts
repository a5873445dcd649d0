import { flatness, soakSvg } from './soak-report';
import type { SoakSample } from './soak-sampler';

const series = (values: readonly number[]): SoakSample[] => values.map((v, minute) => ({ minute, values: { rss: v } }));

describe('soak flatness', () => {
  it('compares the sample at the end of warm-up with the largest one after it', () => {
    // Growth during warm-up (minutes 0-2) does not count; minute 2 is 100, the peak after it 109.
    const f = flatness(series([50, 80, 100, 104, 109, 101]), 'rss', 2);
    expect(f).toMatchObject({ baseline: 100, peak: 109, peakMinute: 4, flat: true });
    expect(f.growth).toBeCloseTo(0.09);
  });

  it('refuses growth beyond 10 % after warm-up', () => {
    const f = flatness(series([100, 100, 100, 105, 111]), 'rss', 2);
    expect(f).toMatchObject({ baseline: 100, peak: 111, flat: false });
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
