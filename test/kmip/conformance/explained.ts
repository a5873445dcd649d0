/**
 * Why a case does not pass, where Keyward refuses the behaviour by design or has not built it yet
 * (docs/kmip.md, "Conformance"). The table shows the reason beside the case's first difference.
 */
const PUBLIC_KEY_ALONE =
  'By design: Keyward keeps a key pair by its private key; a Public Key registered alone (no private key) is refused (Feature Not Supported), so the case stops at its Register.';
const RSA_1024 =
  'By design: the private key is RSA-1024; Keyward holds RSA 2048/3072/4096 only (1024-bit RSA is below every current guidance), so Register refuses it (Invalid Field).';

export const EXPLAINED: Readonly<Record<string, string>> = {
  'BL-M-6-21': `${PUBLIC_KEY_ALONE} (PKCS#1 RSA-2048 public key.)`,
  'BL-M-7-21': `${RSA_1024} (PKCS#1.)`,
  'BL-M-8-21': `${PUBLIC_KEY_ALONE} (Transparent RSA Public Key.)`,
  'BL-M-9-21':
    'By design: the private key is given as a Transparent RSA Private Key, a Key Format Type Register does not read (PKCS#1, PKCS#8 and EC Private Key only: Key Format Type Not Supported), and it is RSA-1024, which Keyward refuses in any format (RSA 2048/3072/4096 only).',
  'BL-M-10-21':
    'Not yet: Keyward keeps no Certificates. The Register names Certificate Type among its attributes, an attribute of certificates Keyward does not keep, so it is refused there (Unsupported Attribute, "tag 0x42001d"); a certificate itself would be refused too (Feature Not Supported). Serving the case needs a certificate object (its X.509 value is 1,043 bytes, longer than the 190 bytes a SECRET key holds) and the read-only certificate attributes it reads (Certificate Subject CN, Certificate Length).',
  'BL-M-11-21': `${RSA_1024} (PKCS#8.)`,
  'BL-M-12-21': `${PUBLIC_KEY_ALONE} Keyward holds no DSA keys either (Transparent DSA Public Key).`,
  'BL-M-13-21':
    'By design, twice. The Register sets Fresh, which Keyward derives (a key is fresh until it may have been served, so a client value could not be kept true): refused as read-only (Attribute Read Only). Past that, the key is a DSA private key given as a Transparent DSA Private Key: Keyward holds RSA, ECDSA/EC on P-256/P-384 and Ed25519 pairs, no DSA, and Register reads PKCS#1, PKCS#8 and EC Private Key only (Key Format Type Not Supported).',
};
