/**
 * A full garbage collection of another Node process, asked through its inspector: the process runs
 * with `--inspect=127.0.0.1:0` (ServiceProcess with KEYWARD_SERVICE_INSPECT=1), which prints the
 * WebSocket it listens on, and `HeapProfiler.collectGarbage` collects every generation and gives
 * freed pages back. The soak (docs/high-availability.md#the-soak) samples each process's RSS before
 * and after it, so the asserted figure is what the process retains rather than where V8's
 * collection cycle, young-generation sizing and external-memory limit happened to be that minute.
 */

/** The inspector's WebSocket URL from a process's output, once it printed one. */
export function inspectorUrl(output: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(output)?.[1];
}

/** Resolves once the process behind `url` finished a full collection; rejects after `timeoutMs`. */
export function collectGarbage(url: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`inspector ${url}: no answer to HeapProfiler.collectGarbage in ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve();
    };
    socket.addEventListener('open', () => socket.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
    socket.addEventListener('message', (event: MessageEvent) => {
      const answer = JSON.parse(String(event.data)) as { id?: number; error?: { message: string } };
      if (answer.id !== 1) return;
      done(answer.error ? new Error(`inspector ${url}: ${answer.error.message}`) : undefined);
    });
    socket.addEventListener('error', () => done(new Error(`inspector ${url}: the WebSocket failed`)));
  });
}
