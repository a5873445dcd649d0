import { parseArgs } from 'node:util';
import { ConfigError } from '@keyward/config';
import { BackupError } from '@keyward/crypto';
import { EnvelopeError, KeywardProblemError } from '@keyward/sdk';
import { errorOutcome } from './error-exit';
import { Refused, UsageError } from './errors';
import { ExitCode } from './exit-codes';

const parseArgsError = (): unknown => {
  try {
    parseArgs({ args: ['--nope'], options: {}, strict: true });
  } catch (err: unknown) {
    return err;
  }
  throw new Error('parseArgs accepted an unknown option');
};

describe('errorOutcome: typed errors to exit codes, in one place', () => {
  it.each<[string, unknown, ExitCode, unknown, boolean]>([
    ['a usage error', new UsageError('--name is required'), ExitCode.Usage, '--name is required', true],
    ['an unknown option (util.parseArgs)', parseArgsError(), ExitCode.Usage, expect.stringContaining("Unknown option '--nope'"), true],
    [
      'an invalid configuration',
      new ConfigError(['KAFKA_BROKERS: required']),
      ExitCode.Config,
      expect.stringContaining('KAFKA_BROKERS: required'),
      false,
    ],
    [
      'a refused backup',
      new BackupError('tampered', 'the DEK part was altered'),
      ExitCode.Error,
      'refused (tampered): the DEK part was altered',
      false,
    ],
    [
      'a refused request',
      new Refused('403 forbidden-role', 'not allowed'),
      ExitCode.Error,
      'refused (403 forbidden-role): not allowed',
      false,
    ],
    [
      'a refused envelope message',
      new EnvelopeError('truncated', 'the message is truncated'),
      ExitCode.Error,
      'refused (truncated): the message is truncated',
      false,
    ],
    [
      'a problem document from the SDK',
      new KeywardProblemError(409, { type: 'urn:keyward:problem:key-unusable', title: 'Key unusable', detail: 'the key is Deactivated' }),
      ExitCode.Error,
      'refused (409 key-unusable): the key is Deactivated',
      false,
    ],
    ['any other error', new Error('cannot reach https://x: ECONNREFUSED'), ExitCode.Error, 'cannot reach https://x: ECONNREFUSED', false],
    ['a thrown string', 'boom', ExitCode.Error, 'boom', false],
  ])('%s', (_name, err, code, message, usageHint) => {
    expect(errorOutcome(err)).toEqual({ code, message, usageHint });
  });

  it('uses the BSD sysexits codes for usage (64) and configuration (78), 2 for a check that failed', () => {
    expect(ExitCode).toEqual({ Ok: 0, Error: 1, CheckFailed: 2, Usage: 64, Config: 78 });
  });
});
