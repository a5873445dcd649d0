import { DomainError } from '@keyward/domain';
import { ResultReason } from '@keyward/kmip';
import { auditUnavailableError, KeyUseError, materialGoneError, sealedError, versionExhaustedError } from '@keyward/keys';
import { KmipError, toKmipError } from './kmip-error';

describe('toKmipError: typed errors become KMIP results, from the error itself', () => {
  it('maps key-use errors by code, keeping their message and recording the code as the slug', () => {
    const gone = toKmipError(materialGoneError('k1', 2));
    expect([gone.reason, gone.slug, gone.message]).toEqual([
      ResultReason.IllegalOperation,
      'key-destroyed',
      'the material of version 2 of key k1 no longer exists',
    ]);
    expect(toKmipError(versionExhaustedError({ tenantId: 't', keyId: 'k1', version: 1 }, 5)).reason).toBe(ResultReason.IllegalOperation);
    const sealed = toKmipError(sealedError('no root key'));
    expect([sealed.reason, sealed.slug]).toEqual([ResultReason.GeneralFailure, 'sealed']);
    expect(toKmipError(auditUnavailableError(5)).slug).toBe('audit-unavailable');
    expect(toKmipError(new KeyUseError('malformed-ciphertext', 'short')).reason).toBe(ResultReason.GeneralFailure);
  });

  it('keeps domain refusals and KMIP errors as they are, and hides anything else', () => {
    const refusal = toKmipError(new DomainError('not-found', 'key k9 not found'));
    expect([refusal.reason, refusal.slug, refusal.message]).toEqual([ResultReason.ItemNotFound, 'not-found', 'key k9 not found']);
    const own = new KmipError(ResultReason.InvalidField, 'bad field');
    expect(toKmipError(own)).toBe(own);
    const hidden = toKmipError(new Error('stack details'));
    expect([hidden.reason, hidden.message, hidden.slug]).toEqual([ResultReason.GeneralFailure, 'internal error', 'internal-error']);
  });
});
