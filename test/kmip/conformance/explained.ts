/**
 * Why a case does not pass, where Keyward refuses the behaviour by design or has not built it yet
 * (docs/kmip.md, "Conformance"). The table shows the reason beside the case's first difference.
 */
const PUBLIC_KEY_ALONE =
  'By design: Keyward keeps a key pair by its private key; a Public Key registered alone (no private key) is refused (Feature Not Supported), so the case stops at its Register.';
const RSA_1024 =
  'By design: the private key is RSA-1024; Keyward holds RSA 2048/3072/4096 only (1024-bit RSA is below every current guidance), so Register refuses it (Invalid Field).';

export const EXPLAINED: Readonly<Record<string, string>> = {
  'OMOS-M-1-14': 'Outside the appliance profiles: Keyward keeps no Opaque Objects; Register refuses them (Feature Not Supported).',
  'BL-M-5-21':
    'Not yet: Keyward keeps no Opaque Objects (issue 17 scopes them as "opaque objects"); Register refuses them (Feature Not Supported).',
  'BL-M-6-21': `${PUBLIC_KEY_ALONE} (PKCS#1 RSA-2048 public key.)`,
  'BL-M-7-21': `${RSA_1024} (PKCS#1.)`,
  'BL-M-8-21': `${PUBLIC_KEY_ALONE} (Transparent RSA Public Key.)`,
  'BL-M-9-21':
    'By design: the private key is given as a Transparent RSA Private Key, a Key Format Type Register does not read (PKCS#1, PKCS#8 and EC Private Key only: Key Format Type Not Supported), and it is RSA-1024, which Keyward refuses in any format (RSA 2048/3072/4096 only).',
  'BL-M-10-21':
    'Not yet: Keyward keeps no Certificates; Register of an X.509 certificate (1,043 bytes) is refused (Feature Not Supported). Serving it needs a certificate object (its value is longer than the 190 bytes a SECRET key holds) and the certificate attributes the case reads (Certificate Subject CN, Certificate Length, read-only).',
  'BL-M-11-21': `${RSA_1024} (PKCS#8.)`,
  'BL-M-12-21': `${PUBLIC_KEY_ALONE} Keyward holds no DSA keys either (Transparent DSA Public Key).`,
  'BL-M-13-21':
    'By design: a DSA private key given as a Transparent DSA Private Key; Keyward holds RSA, ECDSA/EC on P-256/P-384 and Ed25519 pairs, no DSA, and Register reads PKCS#1, PKCS#8 and EC Private Key only (Key Format Type Not Supported).',
};
