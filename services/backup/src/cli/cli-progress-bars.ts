import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Progress } from '../core/progress';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit] ?? ''}`;
}

const amount = (value: number, unit: string): string => (unit === 'bytes' ? formatBytes(value) : `${value} ${unit}`);

interface Stage {
  readonly total: number;
  readonly unit: string;
  readonly started: number;
  value: number;
  bar: SingleBar | undefined;
}

/**
 * Progress bars (cli-progress) on a terminal; elsewhere (pipes, CI) one line per finished stage.
 * Notes (warnings) are printed once the bars are gone.
 */
export class CliProgress implements Progress {
  private readonly stages = new Map<string, Stage>();
  private readonly notes: string[] = [];
  private readonly bars: MultiBar | undefined;
  private stopped = false;

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bars = stream.isTTY
      ? new MultiBar(
          {
            stream,
            format: '{stage} |{bar}| {percentage}% | {done} of {all} | {duration_formatted}',
            hideCursor: true,
            barsize: 24,
            clearOnComplete: false,
            fps: 8,
          },
          Presets.shades_classic,
        )
      : undefined;
  }

  stage(name: string, total: number, unit: string): void {
    const bar = this.bars?.create(Math.max(total, 1), 0, { stage: name.padEnd(18), done: amount(0, unit), all: amount(total, unit) });
    this.stages.set(name, { total, unit, started: performance.now(), value: 0, bar });
  }

  advance(name: string, by: number): void {
    const stage = this.stages.get(name);
    if (!stage) return;
    stage.value += by;
    stage.bar?.update(Math.min(stage.value, Math.max(stage.total, 1)), { done: amount(stage.value, stage.unit) });
  }

  finish(name: string): void {
    const stage = this.stages.get(name);
    if (!stage) return;
    const seconds = ((performance.now() - stage.started) / 1000).toFixed(2);
    if (stage.bar) stage.bar.update(Math.max(stage.total, 1), { done: amount(stage.value, stage.unit) });
    else this.stream.write(`${name}: ${amount(stage.value, stage.unit)} in ${seconds} s\n`);
  }

  note(message: string): void {
    this.notes.push(message);
  }

  /** Ends the bars and prints the notes (once; later calls do nothing). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bars?.stop();
    for (const note of this.notes) this.stream.write(`warning: ${note}\n`);
  }
}
