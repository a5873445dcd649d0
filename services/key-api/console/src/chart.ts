/**
 * A stacked bar chart as inline SVG, built node by node (no chart library, no markup strings, no
 * inline style: colours come from console.css classes, so the strict CSP holds).
 */
const SVG = 'http://www.w3.org/2000/svg';

export interface Bucket {
  readonly start: Date;
  readonly ok: number;
  readonly refused: number;
}

function svg(tag: string, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) el.append(child);
  return el;
}

const WIDTH = 760;
const HEIGHT = 260;
const MARGIN = { top: 16, right: 12, bottom: 40, left: 48 };

/** A rounded axis maximum: 1, 2, 5, 10, 20, 50, … at or above `n`. */
function niceMax(n: number): number {
  if (n <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) if (step * power >= n) return step * power;
  return 10 * power;
}

const timeLabel = (d: Date, spanMs: number): string =>
  spanMs > 2 * 86_400_000
    ? d.toLocaleDateString([], { month: 'short', day: 'numeric' })
    : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Operations (ok) and refusals per time bucket, stacked; `title` names the chart for assistive technology. */
export function usageChart(title: string, buckets: readonly Bucket[], bucketMs: number): SVGElement {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.ok + b.refused)));
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(1, slot * 0.7);
  const y = (v: number): number => MARGIN.top + plotH - (v / max) * plotH;
  const total = buckets.reduce((sum, b) => ({ ok: sum.ok + b.ok, refused: sum.refused + b.refused }), { ok: 0, refused: 0 });
  const parts: SVGElement[] = [
    svg('title', { id: 'usage-chart-title' }, title),
    svg('desc', { id: 'usage-chart-desc' }, `${total.ok} operations and ${total.refused} refusals in ${buckets.length} intervals.`),
  ];
  for (const tick of [0, max / 2, max]) {
    parts.push(svg('line', { class: 'grid', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }));
    parts.push(
      svg('text', { class: 'axis', x: MARGIN.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, String(Math.round(tick * 10) / 10)),
    );
  }
  buckets.forEach((b, i) => {
    const x = MARGIN.left + i * slot + (slot - barW) / 2;
    const label = `${b.start.toLocaleString()}: ${b.ok} ok, ${b.refused} refused`;
    if (b.ok > 0)
      parts.push(
        svg('rect', { class: 'ok', x, y: y(b.ok), width: barW, height: y(0) - y(b.ok), 'data-ok': b.ok }, svg('title', {}, label)),
      );
    if (b.refused > 0)
      parts.push(
        svg(
          'rect',
          { class: 'refused', x, y: y(b.ok + b.refused), width: barW, height: y(b.ok) - y(b.ok + b.refused), 'data-refused': b.refused },
          svg('title', {}, label),
        ),
      );
  });
  const span = bucketMs * buckets.length;
  // Times at bucket boundaries: the start, the middle and the end (now) of the window.
  const first = buckets[0]?.start.getTime() ?? 0;
  for (const i of [0, Math.floor(buckets.length / 2), buckets.length]) {
    const anchor = i === 0 ? 'start' : i === buckets.length ? 'end' : 'middle';
    const at = new Date(first + i * bucketMs);
    parts.push(
      svg('text', { class: 'axis', x: MARGIN.left + i * slot, y: HEIGHT - MARGIN.bottom + 18, 'text-anchor': anchor }, timeLabel(at, span)),
    );
  }
  parts.push(svg('line', { class: 'baseline', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(0), y2: y(0) }));
  return svg(
    'svg',
    {
      id: 'usage-chart',
      class: 'chart',
      role: 'img',
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      'aria-labelledby': 'usage-chart-title usage-chart-desc',
      'data-ok': total.ok,
      'data-refused': total.refused,
    },
    ...parts,
  );
}

/** Counts records into `count` equal buckets ending at `end`. */
export function bucketize(records: readonly { at: string; ok: boolean }[], end: Date, windowMs: number, count: number): Bucket[] {
  const size = windowMs / count;
  const start = end.getTime() - windowMs;
  const buckets = Array.from({ length: count }, (_, i) => ({ start: new Date(start + i * size), ok: 0, refused: 0 }));
  for (const r of records) {
    const i = Math.floor((Date.parse(r.at) - start) / size);
    const bucket = buckets[Math.min(count - 1, i)];
    if (i < 0 || !bucket) continue;
    if (r.ok) bucket.ok++;
    else bucket.refused++;
  }
  return buckets;
}
