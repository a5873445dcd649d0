import { errorOutcome } from './error-exit';
import { UsageError } from './errors';
import { ExitCode } from './exit-codes';
import { groupHelp, verbHelp, type HelpSection } from './help';
import { arity, parseOptions, type OptionSpecs, type Parsed } from './options';

/** Where a command writes, and the environment it reads. */
export interface CliIo {
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
  readonly env: NodeJS.ProcessEnv;
  /** Standard input, for commands that read data (absent: none). */
  readonly in?: NodeJS.ReadableStream;
}

export const processIo = (): CliIo => ({ out: process.stdout, err: process.stderr, env: process.env, in: process.stdin });

/** One run of a command line: its output, and the words of the command reached so far (`keyward keys create`). */
export class Invocation {
  constructor(
    readonly io: CliIo,
    private words: string,
  ) {}

  /** The exit code the command ends with unless an error ends it: a check that found a problem sets it. */
  exitCode: number = ExitCode.Ok;

  get path(): string {
    return this.words;
  }

  enter(word: string): void {
    this.words = `${this.words} ${word}`;
  }

  /** Writes a line (or lines) to standard output. */
  print(text: string): void {
    this.io.out.write(`${text}\n`);
  }
}

/** A verb, a group of verbs, or a whole program: takes the arguments after its own name. */
export interface Command {
  readonly summary: string;
  invoke(inv: Invocation, args: readonly string[]): Promise<void>;
}

export interface VerbSpec<O extends OptionSpecs> {
  readonly summary: string;
  /** The positional arguments, e.g. `<key> <alias>` (required) or `[version]` (optional). */
  readonly args?: string;
  readonly details?: string;
  readonly options: O;
  /** How the help groups the options (default: all under "Options"). */
  readonly sections?: readonly HelpSection[];
  run(parsed: Parsed<O>, inv: Invocation): Promise<void> | void;
}

const isHelp = (word: string): boolean => word === '--help' || word === '-h' || word === 'help';

/** A verb: parses its options (--help renders its help), checks its arguments, runs. */
export function defineVerb<const O extends OptionSpecs>(spec: VerbSpec<O>): Command {
  return {
    summary: spec.summary,
    async invoke(inv, args) {
      const parsed = parseOptions(args, spec.options);
      if (parsed.values.help === true) {
        inv.print(verbHelp(inv.path, spec, spec.sections ?? [{ title: 'Options', options: spec.options }]));
        return;
      }
      const { required, optional } = arity(spec.args);
      const given = parsed.positionals.length;
      if (given < required || given > required + optional) throw new UsageError(`takes ${spec.args ?? 'no arguments'}`);
      return spec.run(parsed, inv);
    },
  };
}

export interface GroupSpec {
  readonly summary: string;
  readonly commands: Readonly<Record<string, Command>>;
  /** A hand-written help instead of the list of verbs (the program's own). */
  readonly help?: (path: string) => string;
}

/** A group of verbs (or of groups): no verb or --help prints the group's help; an unknown one is a usage error. */
export function defineGroup(spec: GroupSpec): Command {
  return {
    summary: spec.summary,
    async invoke(inv, args) {
      const [name, ...rest] = args;
      if (name === undefined || isHelp(name)) {
        inv.print(spec.help === undefined ? groupHelp(inv.path, spec.summary, spec.commands) : spec.help(inv.path));
        return;
      }
      const command = Object.hasOwn(spec.commands, name) ? spec.commands[name] : undefined;
      if (command === undefined) throw new UsageError(`unknown command "${name}"`);
      inv.enter(name);
      return command.invoke(inv, rest);
    },
  };
}

/**
 * Runs a command line and answers its exit code; never throws. An error is printed as
 * `<command>: <message>` (usage errors add a pointer to --help) and mapped to its exit code.
 */
export async function runProgram(program: string, root: Command, argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const inv = new Invocation(io, program);
  try {
    await root.invoke(inv, argv);
    return inv.exitCode;
  } catch (err: unknown) {
    const outcome = errorOutcome(err);
    io.err.write(`${inv.path}: ${outcome.message}\n${outcome.usageHint ? `Run "${inv.path} --help" for usage.\n` : ''}`);
    return outcome.code;
  }
}

/**
 * The entry of a command line: runs it on the process's arguments and exits with its code once
 * standard output and error are flushed (a client left open, Kafka's or S3's, never holds it up).
 */
export function runMain(program: string, root: Command, argv: readonly string[] = process.argv.slice(2)): void {
  void runProgram(program, root, argv).then((code) => {
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

/**
 * A command whose code (and the libraries it brings) loads only when it runs: its summary is known
 * up front, for the program's help. Keeps a command line that moves bytes from loading database
 * and Kafka clients it never uses.
 */
export function lazyCommand(summary: string, load: () => Promise<Command>): Command {
  return { summary, invoke: async (inv, args) => (await load()).invoke(inv, args) };
}
