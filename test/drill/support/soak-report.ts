import type { SoakSample } from './soak-sampler';

/**
 * Flatness of one series after warm-up: the growth of its least-squares line over the samples from
 * minute `warmUpMinutes` to the end, `trendStart` to `trendEnd` (the line's values at the first and
 * the last of those minutes); flat when that growth is at most `limit` and no sample from that
 * minute on is missing (a process that was gone when sampled). The line, not one sample against the
 * largest: an RSS that garbage collection moves by 10-15 % from one minute to the next (key-api's,
 * 142-171 MiB in one run with no trend) made "the sample at minute 10 against the largest after
 * it" measure where in its sawtooth the first sample fell, while a leak of 10 % over the window moves
 * the line by 10 %. `baseline` (the sample at the end of warm-up) and `peak` are printed beside it.
 */
export interface Flatness {
  readonly series: string;
  readonly baseline: number;
  readonly peak: number;
  readonly peakMinute: number;
  readonly trendStart: number;
  readonly trendEnd: number;
  /** (trendEnd - trendStart) / trendStart. */
  readonly growth: number;
  readonly flat: boolean;
}

/** The sample taken at `minute` or the first one after it. */
function sampleAt(samples: readonly SoakSample[], minute: number): SoakSample | undefined {
  return samples.find((s) => s.minute >= minute - 1e-6);
}

/** The least-squares line through (x, y) points, as its values at the first and last x. */
function trendLine(points: readonly (readonly [number, number])[]): { start: number; end: number } {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const slope = sxx === 0 ? 0 : points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / sxx;
  const at = (x: number): number => my + slope * (x - mx);
  return { start: at(points[0]?.[0] ?? mx), end: at(points[n - 1]?.[0] ?? mx) };
}

export function flatness(samples: readonly SoakSample[], series: string, warmUpMinutes: number, limit = 0.1): Flatness {
  const base = sampleAt(samples, warmUpMinutes);
  const baseline = base?.values[series] ?? Number.NaN;
  let peak = baseline;
  let peakMinute = base?.minute ?? Number.NaN;
  let missing = base === undefined;
  const points: [number, number][] = [];
  for (const s of samples) {
    if (base === undefined || s.minute < base.minute) continue;
    const v = s.values[series] ?? Number.NaN;
    missing ||= !Number.isFinite(v);
    points.push([s.minute, v]);
    if (v > peak) {
      peak = v;
      peakMinute = s.minute;
    }
  }
  const { start: trendStart, end: trendEnd } = missing || points.length < 2 ? { start: Number.NaN, end: Number.NaN } : trendLine(points);
  const growth = (trendEnd - trendStart) / trendStart;
  return { series, baseline, peak, peakMinute, trendStart, trendEnd, growth, flat: !missing && Number.isFinite(growth) && growth <= limit };
}

export function sampleTable(samples: readonly SoakSample[], series: readonly string[]): string {
  const rows = [
    ['minute', ...series],
    ...samples.map((s) => [s.minute.toFixed(0), ...series.map((k) => (s.values[k] ?? Number.NaN).toFixed(1))]),
  ];
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function flatnessTable(results: readonly Flatness[], warmUpMinutes: number): string {
  const rows = [
    [
      'series',
      `trend at minute ${warmUpMinutes} (MiB)`,
      'trend at the end (MiB)',
      'growth (trend)',
      'flat (≤ 10 %)',
      `sample at minute ${warmUpMinutes}`,
      'largest after it (minute)',
    ],
    ...results.map((f) => [
      f.series,
      f.trendStart.toFixed(1),
      f.trendEnd.toFixed(1),
      `${(f.growth * 100).toFixed(1)} %`,
      f.flat ? 'yes' : 'NO',
      f.baseline.toFixed(1),
      `${f.peak.toFixed(1)} (${f.peakMinute.toFixed(0)})`,
    ]),
  ];
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A line plot of every series against the minute, as a standalone SVG: one panel per unit
 * (`panels` maps a panel title to its series), a shaded warm-up band, a legend per panel.
 */
export function soakSvg(
  samples: readonly SoakSample[],
  panels: readonly { readonly title: string; readonly series: readonly string[] }[],
  options: { readonly caption: string; readonly warmUpMinutes: number },
): string {
  const width = 760;
  const panelHeight = 250;
  const margin = { left: 60, right: 170, top: 64, bottom: 36 };
  const plotW = width - margin.left - margin.right;
  const plotH = panelHeight - margin.top - margin.bottom;
  const maxMinute = Math.max(1, ...samples.map((s) => s.minute));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${panelHeight * panels.length + 24}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
  ];
  // The caption, one line per sentence part (split at '; '), above the first panel.
  options.caption.split('; ').forEach((line, i) => {
    out.push(`<text x="${margin.left}" y="${14 + i * 14}" font-size="12">${escapeXml(line)}</text>`);
  });
  panels.forEach((panel, p) => {
    const top = p * panelHeight + margin.top;
    const values = samples.flatMap((s) => panel.series.map((k) => s.values[k] ?? Number.NaN)).filter(Number.isFinite);
    const yMax = niceCeil(Math.max(1, ...values) * 1.1);
    const x = (minute: number): number => margin.left + (minute / maxMinute) * plotW;
    const y = (v: number): number => top + plotH - (v / yMax) * plotH;
    out.push(`<text x="${margin.left}" y="${top - 10}" font-size="12" font-weight="bold">${escapeXml(panel.title)}</text>`);
    const warm = Math.min(options.warmUpMinutes, maxMinute);
    out.push(`<rect x="${margin.left}" y="${top}" width="${x(warm) - margin.left}" height="${plotH}" fill="#eee"/>`);
    out.push(`<text x="${margin.left + 4}" y="${top + 12}" fill="#777">warm-up</text>`);
    for (let i = 0; i <= 4; i++) {
      const v = (yMax / 4) * i;
      out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
      out.push(`<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end">${formatTick(v)}</text>`);
    }
    const step = maxMinute <= 10 ? 1 : 5;
    for (let m = 0; m <= maxMinute; m += step) {
      out.push(`<text x="${x(m)}" y="${top + plotH + 14}" text-anchor="middle">${m}</text>`);
    }
    out.push(`<text x="${margin.left + plotW / 2}" y="${top + plotH + 28}" text-anchor="middle">minutes of load</text>`);
    out.push(`<rect x="${margin.left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
    panel.series.forEach((series, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      const points = samples
        .filter((s) => Number.isFinite(s.values[series] ?? Number.NaN))
        .map((s) => `${x(s.minute).toFixed(1)},${y(s.values[series]!).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
      const ly = top + 10 + i * 16;
      out.push(
        `<line x1="${margin.left + plotW + 12}" x2="${margin.left + plotW + 32}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      );
      out.push(`<text x="${margin.left + plotW + 36}" y="${ly + 4}">${escapeXml(series)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * magnitude >= v) return f * magnitude;
  return 10 * magnitude;
}

function formatTick(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
