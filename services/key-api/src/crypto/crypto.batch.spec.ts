import { KeyUseError } from '@keyward/keys';
import { ProblemError } from '@keyward/platform';
import { batchResults, readInputs, readItems, requireBatchSize } from './crypto.batch';
import { MAX_BATCH_BODY_BYTES, MAX_BATCH_ITEMS, signBatchBody, verifyBatchBody } from './crypto.schema';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('sign and verify batches: schemas', () => {
  it('a sign batch names the algorithm once and holds messages or digests', () => {
    const body = { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('a') }, { digest: b64('x'.repeat(32)) }] };
    expect(signBatchBody.safeParse(body).success).toBe(true);
  });

  it.each([
    ['no items', { algorithm: 'ECDSA-SHA256', batchInput: [] }],
    ['an item with both message and digest', { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('a'), digest: b64('b') }] }],
    ['an item with neither', { algorithm: 'ECDSA-SHA256', batchInput: [{}] }],
    ['an item that is not base64', { algorithm: 'ECDSA-SHA256', batchInput: [{ message: 'not base64!' }] }],
    ['an unknown field in an item', { algorithm: 'ECDSA-SHA256', batchInput: [{ message: b64('a'), context: 'x' }] }],
    ['no algorithm', { batchInput: [{ message: b64('a') }] }],
  ])('a sign batch with %s is refused (400 for the whole request)', (_what, body) => {
    expect(signBatchBody.safeParse(body).success).toBe(false);
  });

  it('a verify batch item carries its signature and, optionally, its version', () => {
    const item = { message: b64('a'), signature: b64('sig'), version: 2 };
    expect(
      verifyBatchBody.safeParse({ algorithm: 'ED25519', version: 1, batchInput: [item, { ...item, version: undefined }] }).success,
    ).toBe(true);
    expect(verifyBatchBody.safeParse({ algorithm: 'ED25519', batchInput: [{ message: b64('a') }] }).success).toBe(false);
    expect(verifyBatchBody.safeParse({ algorithm: 'ED25519', batchInput: [{ ...item, version: 0 }] }).success).toBe(false);
  });

  it('admits an item message larger than 64 KiB (so that it is refused alone, 413) but not one beyond the batch body', () => {
    const big = Buffer.alloc(64 * 1024 + 3).toString('base64');
    expect(signBatchBody.safeParse({ algorithm: 'ED25519', batchInput: [{ message: big }] }).success).toBe(true);
    const huge = 'A'.repeat(MAX_BATCH_BODY_BYTES + 4);
    expect(signBatchBody.safeParse({ algorithm: 'ED25519', batchInput: [{ message: huge }] }).success).toBe(false);
  });
});

describe('sign and verify batches: items', () => {
  it(`refuses more than ${MAX_BATCH_ITEMS} items as a whole with a 413 problem`, () => {
    expect(() => requireBatchSize(MAX_BATCH_ITEMS)).not.toThrow();
    try {
      requireBatchSize(MAX_BATCH_ITEMS + 1);
      throw new Error('not refused');
    } catch (err: unknown) {
      expect(err).toBeInstanceOf(ProblemError);
      expect((err as ProblemError).toDocument()).toMatchObject({
        status: 413,
        type: 'urn:keyward:problem:payload-too-large',
        field: 'batchInput',
        limit: MAX_BATCH_ITEMS,
      });
    }
  });

  it('answers every item in request order: unreadable ones with their problem, the others with what the service answered', () => {
    const read = readItems(['a', 'too-large', 'b', 'c'], (item) => {
      if (item === 'too-large') throw new ProblemError(413, 'payload-too-large', 'Payload too large', 'message is larger than 65536 bytes');
      return item.toUpperCase();
    });
    expect(readInputs(read)).toEqual(['A', 'B', 'C']);
    const served = [
      { ok: true as const, value: { signature: 'sa' } },
      { ok: false as const, error: new KeyUseError('unsupported-digest', 'ECDSA-SHA256 signs messages only') },
      { ok: true as const, value: { signature: 'sc' } },
    ];
    expect(batchResults(read, served)).toEqual([
      { signature: 'sa' },
      {
        error: {
          type: 'urn:keyward:problem:payload-too-large',
          title: 'Payload too large',
          status: 413,
          detail: 'message is larger than 65536 bytes',
        },
      },
      {
        error: {
          type: 'urn:keyward:problem:unsupported-digest',
          title: 'Digest not signable',
          status: 422,
          detail: 'ECDSA-SHA256 signs messages only',
        },
      },
      { signature: 'sc' },
    ]);
  });

  it('an item that fails with an untyped error fails the whole request (a 500, logged), never a per-item answer', () => {
    expect(() =>
      readItems(['a'], () => {
        throw new TypeError('bug');
      }),
    ).toThrow(TypeError);
  });
});
