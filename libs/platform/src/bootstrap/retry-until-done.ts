/**
 * Runs `task` until it succeeds, waiting 0.5 s, 1 s, 2 s … (at most 10 s) between attempts.
 * Services use it for start-up work that needs MongoDB or Kafka, so that they stay up (and
 * report not-ready) while a dependency is away instead of crashing.
 */
export async function retryUntilDone(task: () => Promise<void>, onFailure: (reason: string) => Promise<void> | void): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      await task();
      return;
    } catch (err: unknown) {
      await onFailure(err instanceof Error ? err.message : String(err));
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
