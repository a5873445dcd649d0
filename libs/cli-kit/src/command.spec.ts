import { PassThrough } from 'node:stream';
import { defineGroup, defineVerb, lazyCommand, runProgram, type CliIo } from './command';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';

/** An io that collects what a command writes. */
function capture(env: NodeJS.ProcessEnv = {}): CliIo & { stdout(): string; stderr(): string } {
  const collect = (): { stream: NodeJS.WriteStream; text(): string } => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream: stream as unknown as NodeJS.WriteStream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const out = collect();
  const err = collect();
  return { out: out.stream, err: err.stream, env, stdout: out.text, stderr: err.text };
}

const seen: unknown[] = [];
const program = defineGroup({
  summary: 'A test program',
  commands: {
    things: defineGroup({
      summary: 'Things: make, check',
      commands: {
        make: defineVerb({
          summary: 'Make a thing',
          args: '<name> [size]',
          details: 'NAME names it.',
          options: {
            colour: { type: 'string', value: 'COLOUR', description: 'its colour' },
            tag: { type: 'string', multiple: true, value: 'TAG', description: 'a tag (repeatable)' },
            shiny: { type: 'boolean', description: 'make it shine' },
          },
          run({ values, positionals }, inv) {
            seen.push({ values, positionals });
            if (values.colour === 'none') throw new UsageError('--colour cannot be none');
            inv.print(`made ${positionals.join(' ')}`);
            return undefined;
          },
        }),
        check: defineVerb({
          summary: 'Check the things',
          options: { fail: { type: 'boolean' } },
          async run({ values }, inv) {
            await Promise.resolve();
            if (values.fail) {
              inv.print('a thing is wrong');
              inv.exitCode = ExitCode.CheckFailed;
            }
          },
        }),
        crash: defineVerb({
          summary: 'Fail',
          options: {},
          run: () => Promise.reject(new Error('the store is gone')),
        }),
      },
    }),
  },
});

const run = async (args: string[]) => {
  const io = capture();
  const code = await runProgram('kw', program, args, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
};

describe('the command line conventions', () => {
  beforeEach(() => (seen.length = 0));

  it('parses options into typed values: strings, repeatable lists, booleans, positionals', async () => {
    const result = await run(['things', 'make', 'box', '3', '--colour', 'red', '--tag', 'a', '--tag', 'b', '--shiny']);
    expect(result).toEqual({ code: 0, stdout: 'made box 3\n', stderr: '' });
    expect(seen).toEqual([{ values: { colour: 'red', tag: ['a', 'b'], shiny: true }, positionals: ['box', '3'] }]);
  });

  it('prints the help of a program, a group and a verb on standard output, exit code 0', async () => {
    for (const args of [[], ['--help'], ['help'], ['things'], ['things', '-h']]) {
      const result = await run(args);
      expect({ args, code: result.code, usage: /^Usage: kw (things )?<verb> \[options\]/.test(result.stdout) }).toEqual({
        args,
        code: 0,
        usage: true,
      });
    }
    const verb = await run(['things', 'make', '--help']);
    expect(verb.code).toBe(0);
    expect(verb.stdout).toBe(
      [
        'Usage: kw things make <name> [size] [options]',
        '',
        'Make a thing',
        '',
        'NAME names it.',
        '',
        'Options:',
        '  --colour COLOUR             its colour',
        '  --tag TAG                   a tag (repeatable)',
        '  --shiny                     make it shine',
        '',
      ].join('\n'),
    );
    expect(seen).toEqual([]);
  });

  it.each<[string[], unknown]>([
    [['nothing'], 'kw: unknown command "nothing"\nRun "kw --help" for usage.\n'],
    [['things', 'paint'], 'kw things: unknown command "paint"\nRun "kw things --help" for usage.\n'],
    [['things', 'make'], 'kw things make: takes <name> [size]\nRun "kw things make --help" for usage.\n'],
    [['things', 'make', 'a', 'b', 'c'], 'kw things make: takes <name> [size]\nRun "kw things make --help" for usage.\n'],
    [['things', 'check', 'extra'], 'kw things check: takes no arguments\nRun "kw things check --help" for usage.\n'],
    [['things', 'make', 'box', '--colour'], expect.stringMatching(/^kw things make: Option '--colour <value>' argument missing\n/)],
    [['things', 'make', 'box', '--size', '3'], expect.stringMatching(/^kw things make: Unknown option '--size'/)],
    [['things', 'make', 'box', '--colour', 'none'], 'kw things make: --colour cannot be none\nRun "kw things make --help" for usage.\n'],
  ])('%j is a usage error: exit code 64, the reason and where help is', async (args, stderr) => {
    expect(await run(args)).toEqual({ code: ExitCode.Usage, stdout: '', stderr });
  });

  it('a check that found a problem prints its result and exits 2', async () => {
    expect(await run(['things', 'check', '--fail'])).toEqual({ code: ExitCode.CheckFailed, stdout: 'a thing is wrong\n', stderr: '' });
    expect(await run(['things', 'check'])).toEqual({ code: ExitCode.Ok, stdout: '', stderr: '' });
  });

  it('an error ends the command with exit code 1 and one line naming the command, no help pointer', async () => {
    expect(await run(['things', 'crash'])).toEqual({ code: ExitCode.Error, stdout: '', stderr: 'kw things crash: the store is gone\n' });
  });
});

describe('lazyCommand', () => {
  it('lists its summary without loading, and loads its command once it runs', async () => {
    let loads = 0;
    const lazy = defineGroup({
      summary: 'A lazy program',
      commands: {
        heavy: lazyCommand('Heavy: loads its libraries when it runs', () => {
          loads += 1;
          return Promise.resolve(defineVerb({ summary: 'Heavy', options: {}, run: (_parsed, inv) => inv.print('ran') }));
        }),
      },
    });
    const help = capture();
    expect(await runProgram('lazy', lazy, ['--help'], help)).toBe(ExitCode.Ok);
    expect(help.stdout()).toContain('Heavy: loads its libraries when it runs');
    expect(loads).toBe(0);
    const run = capture();
    expect(await runProgram('lazy', lazy, ['heavy'], run)).toBe(ExitCode.Ok);
    expect(run.stdout()).toBe('ran\n');
    expect(loads).toBe(1);
  });
});
