import { Presets, SingleBar } from 'cli-progress';

export interface ProgressBar {
  update(value: number, payload?: Readonly<Record<string, unknown>>): void;
  stop(): void;
}

/** A progress bar on standard error when it is a terminal (never mixed into standard output). */
export function progressBar(format: string, total: number, payload: Readonly<Record<string, unknown>> = {}): ProgressBar {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 50, fps: 10 }, Presets.shades_classic);
  bar.start(total, 0, payload);
  return bar;
}
