import { arity, wholeNumber } from './options';
import { UsageError } from './errors';

describe('argument helpers', () => {
  it('wholeNumber reads a whole number option, at least its minimum', () => {
    expect(wholeNumber('days', '7', { min: 1 })).toBe(7);
    expect(wholeNumber('shares', '0')).toBe(0);
    expect(() => wholeNumber('days', undefined)).toThrow(new UsageError('--days is required'));
    expect(() => wholeNumber('days', '0', { min: 1 })).toThrow(new UsageError('--days must be a whole number of at least 1, not "0"'));
    expect(() => wholeNumber('shares', '2.5')).toThrow(new UsageError('--shares must be a whole number, not "2.5"'));
    expect(() => wholeNumber('shares', '-1')).toThrow(UsageError);
  });

  it('arity counts required <arguments> and optional [arguments]', () => {
    expect(arity(undefined)).toEqual({ required: 0, optional: 0 });
    expect(arity('<key>')).toEqual({ required: 1, optional: 0 });
    expect(arity('<key> <alias> [more]')).toEqual({ required: 2, optional: 1 });
  });
});
