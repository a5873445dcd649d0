import {
  canonicalSubject,
  certificateMatches,
  normalizeFingerprint,
  presentedCertificate,
  releaseRefusal,
  subjectAttributes,
} from './client-certificate';

const HEX = 'ab'.repeat(32);

describe('client certificate bindings', () => {
  it('normalizes SHA-256 fingerprints and refuses anything else', () => {
    expect(normalizeFingerprint(HEX.toUpperCase())).toBe(HEX);
    expect(normalizeFingerprint(HEX.match(/../g)!.join(':'))).toBe(HEX);
    expect(normalizeFingerprint('ab'.repeat(20))).toBeUndefined(); // SHA-1 length
    expect(normalizeFingerprint('zz'.repeat(32))).toBeUndefined();
  });

  it('parses DNs into order-free attributes, with RFC 4514 escapes', () => {
    expect(subjectAttributes('CN=app, O=Acme')).toEqual(['CN=app', 'O=Acme']);
    expect(subjectAttributes('o=Acme,cn=app')).toEqual(['CN=app', 'O=Acme']);
    expect(subjectAttributes('CN=Smith\\, John+OU=Ops')).toEqual(['CN=Smith, John', 'OU=Ops']);
    for (const bad of ['', 'app', '=x', 'CN=', 'CN=a,,O=b', '1CN=a']) expect(subjectAttributes(bad)).toBeUndefined();
    expect(canonicalSubject('O=Acme, CN=Smith\\, John')).toBe('CN=Smith\\, John, O=Acme');
  });

  const presented = { fingerprint: HEX, subjectAttributes: ['CN=app', 'O=Acme'], thumbprint: 'x' };
  const binding = (b: { fingerprint?: string; subject?: string }) => ({ ...b, boundAt: '2026-01-01T00:00:00Z', boundBy: 'prn_x' });

  it('matches every bound property, and nothing without a verified certificate', () => {
    expect(certificateMatches(binding({ fingerprint: HEX }), presented)).toBe(true);
    expect(certificateMatches(binding({ fingerprint: 'cd'.repeat(32) }), presented)).toBe(false);
    expect(certificateMatches(binding({ subject: 'O=Acme, CN=app' }), presented)).toBe(true);
    expect(certificateMatches(binding({ subject: 'CN=app' }), presented)).toBe(false); // exactly these attributes
    expect(certificateMatches(binding({ fingerprint: HEX, subject: 'CN=other' }), presented)).toBe(false);
    expect(certificateMatches(binding({}), presented)).toBe(false);
    expect(certificateMatches(binding({ fingerprint: HEX }), undefined)).toBe(false);
  });

  it('refuses DNs with control characters: a newline never separates attributes', () => {
    for (const bad of ['CN=app\nO=Acme', 'CN=app\r, O=Acme', 'CN=app\u0000', 'CN=app\u0085, O=Acme', 'CN=app\u2028O=Acme']) {
      expect(subjectAttributes(bad)).toBeUndefined();
      expect(canonicalSubject(bad)).toBeUndefined();
    }
  });

  it('compares subjects attribute by attribute: a CN holding "\\nO=Acme" is not CN plus O', () => {
    // Node reports such a certificate's subject as one CN attribute whose value contains the newline.
    const forged = { fingerprint: 'cd'.repeat(32), subjectAttributes: ['CN=app\nO=Acme'], thumbprint: 'y' };
    expect(certificateMatches(binding({ subject: 'CN=app, O=Acme' }), forged)).toBe(false);
    const smuggled = { fingerprint: 'cd'.repeat(32), subjectAttributes: ['CN=app', 'O=Acme\u0000'], thumbprint: 'y' };
    expect(certificateMatches(binding({ subject: 'CN=app, O=Acme' }), smuggled)).toBe(false);
  });

  it('releases material only to the certificate the principal is bound to', () => {
    expect(releaseRefusal(binding({ fingerprint: HEX }), presented)).toBeUndefined();
    expect(releaseRefusal(binding({ fingerprint: HEX }), undefined)).toBe('no-certificate');
    expect(releaseRefusal(undefined, presented)).toBe('not-bound');
    expect(releaseRefusal(binding({ fingerprint: 'cd'.repeat(32) }), presented)).toBe('other-certificate');
    expect(releaseRefusal(binding({ subject: 'CN=other' }), presented)).toBe('other-certificate');
  });

  it('sees no certificate on a plain or unverified connection', () => {
    expect(presentedCertificate(undefined)).toBeUndefined();
    expect(presentedCertificate({ encrypted: undefined })).toBeUndefined();
    const unverified = { encrypted: true, authorized: false, getPeerCertificate: () => ({ raw: Buffer.from([1]) }) };
    expect(presentedCertificate(unverified)).toBeUndefined();
    const empty = { encrypted: true, authorized: true, getPeerCertificate: () => ({}) };
    expect(presentedCertificate(empty)).toBeUndefined();
  });
});
