/** How long operations report how far they are (progress bars in the CLI, nothing in the service). */
export interface Progress {
  /** A stage begins: `total` units of `unit` (records, bytes, commits) are expected. */
  stage(name: string, total: number, unit: string): void;
  advance(name: string, amount: number): void;
  finish(name: string): void;
  /** Something the operator should read (a warning), printed after the bars. */
  note(message: string): void;
}

export const silentProgress: Progress = {
  stage: () => undefined,
  advance: () => undefined,
  finish: () => undefined,
  note: () => undefined,
};
