import { spawn, type ChildProcess } from 'node:child_process';
import { collectGarbage, inspectorUrl } from './inspector-gc';

describe('inspector garbage collection (the soak)', () => {
  let child: ChildProcess | undefined;
  afterEach(() => child?.kill('SIGKILL'));

  it("finds the inspector's WebSocket in a process's output, and nothing in output without one", () => {
    const output =
      'starting\nDebugger listening on ws://127.0.0.1:40123/5b1c6a2e-9d7e-4c1a-8f3e-2a6b9c0d1e2f\nFor help, see: https://nodejs.org/en/docs/inspector\n';
    expect(inspectorUrl(output)).toBe('ws://127.0.0.1:40123/5b1c6a2e-9d7e-4c1a-8f3e-2a6b9c0d1e2f');
    expect(inspectorUrl('{"level":30,"msg":"key-api listening"}\n')).toBeUndefined();
  });

  it('collects the garbage of a real process: a large dropped array leaves its heap', async () => {
    // The child keeps ~80 MiB reachable from a global, drops it after its first line, then idles; only a
    // collection asked from outside frees it before V8 would by itself (the child allocates nothing more).
    const script = [
      'const v8 = require("node:v8");',
      'globalThis.big = Array.from({ length: 400 }, () => new Array(25_000).fill(0).map((_, i) => ({ i })));',
      'globalThis.big = undefined;',
      'setInterval(() => process.stdout.write(`used ${v8.getHeapStatistics().used_heap_size}\\n`), 200);',
    ].join('\n');
    child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const used = (): number => Number([...output.matchAll(/used (\d+)/g)].at(-1)?.[1] ?? Number.NaN);
    const until = async (ok: () => boolean): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out; output:\n${output.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await until(() => inspectorUrl(output) !== undefined && Number.isFinite(used()));
    const before = used();
    expect(before).toBeGreaterThan(40 * 1024 * 1024);
    await collectGarbage(inspectorUrl(output)!);
    const lines = output.length;
    await until(() => output.length > lines && /used \d+\n$/.test(output));
    expect(used()).toBeLessThan(before / 4);
  }, 60_000);

  it('fails, rather than hangs, when nothing listens at the URL', async () => {
    await expect(collectGarbage('ws://127.0.0.1:1/none', 5_000)).rejects.toThrow(/inspector ws:\/\/127\.0\.0\.1:1\/none/);
  });
});
