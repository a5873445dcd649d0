import { ShareError } from '@keyward/crypto';
import { DomainError } from '@keyward/domain';
import { auditUnavailableError, KeyUseError, materialGoneError, sealedError, usageOutcome, versionExhaustedError } from '@keyward/keys';
import { ProblemError } from '@keyward/platform';
import { problemOf } from './problem.filter';

const problem = (err: unknown): ProblemError => {
  const mapped = problemOf(err);
  if (!(mapped instanceof ProblemError)) throw new Error('not mapped to a problem');
  return mapped;
};

describe('key-api ProblemFilter: typed errors become the problem documents the API always answered', () => {
  it('maps domain refusals to their status, type and title, with retry-after when the refusal says when', () => {
    const rate = problem(new DomainError('rate-exceeded', 'too fast', { retryAfterSeconds: 3 }));
    expect([rate.status, rate.slug, rate.title, rate.detail]).toEqual([
      429,
      'tenant-rate-exceeded',
      'Tenant rate quota exceeded',
      'too fast',
    ]);
    expect(rate.headers).toEqual({ 'retry-after': '3' });
    const usage = problem(new DomainError('wrong-usage', 'an HMAC key cannot encrypt', { keyId: 'k1' }));
    expect([usage.status, usage.slug, usage.title]).toEqual([422, 'wrong-key-usage', 'Key cannot do this']);
    expect(usage.toDocument()).toMatchObject({ type: 'urn:keyward:problem:wrong-key-usage', keyId: 'k1' });
    expect(problem(new DomainError('not-found', 'no such key')).status).toBe(404);
    expect(problem(new DomainError('tenant-inactive', 'suspended')).status).toBe(423);
  });

  it('maps key-use errors by code, keeping their details and retry advice', () => {
    const sealed = problem(sealedError('no root key'));
    expect([sealed.status, sealed.slug, sealed.title]).toEqual([503, 'sealed', 'Sealed']);
    expect(sealed.detail).toBe('the key manager is sealed: no root key; unseal it to use keys');
    expect(sealed.headers).toEqual({ 'retry-after': '5' });
    const gone = problem(materialGoneError('k1', 2));
    expect([gone.status, gone.slug, gone.title]).toEqual([409, 'key-destroyed', 'Key destroyed']);
    expect(gone.extensions).toEqual({ keyId: 'k1', version: 2 });
    expect(problem(auditUnavailableError(7)).headers).toEqual({ 'retry-after': '7' });
    const exhausted = problem(versionExhaustedError({ tenantId: 't', keyId: 'k1', version: 1 }, 10));
    expect([exhausted.status, exhausted.slug, exhausted.headers]).toEqual([409, 'key-version-exhausted', {}]);
    expect(problem(new KeyUseError('malformed-mac', 'not a Keyward MAC: short')).title).toBe('Malformed MAC');
  });

  it('maps refused unseal shares, and passes anything else through untouched', () => {
    const share = problem(new ShareError('checksum', 'share 2 is mistyped'));
    expect([share.status, share.slug, share.extensions]).toEqual([400, 'invalid-share', { reason: 'checksum' }]);
    expect(problem(new ShareError('conflict', 'two shares 2')).detail).toMatch(/DELETE \/v1\/sys\/unseal\/shares/);
    const plain = new Error('boom');
    expect(problemOf(plain)).toBe(plain);
  });

  it('names a refusal the same way in the usage audit as in the problem type', () => {
    const refusal = new DomainError('version-retired', 'retired');
    expect(usageOutcome(refusal)).toBe(problem(refusal).slug);
    expect(usageOutcome(sealedError('x'))).toBe('sealed');
    expect(usageOutcome(new Error('x'))).toBe('error');
  });
});
