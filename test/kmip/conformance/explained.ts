/**
 * Why a case does not pass, where Keyward refuses the behaviour by design or has not built it yet
 * (docs/kmip.md, "Conformance"). The table shows the reason beside the case's first difference.
 */
const SEPARATION =
  'By design: the case MACs with AES key material (an AES-128 Key Block registered with Cryptographic Parameters HMAC-SHA256). A Keyward key has one use, fixed by its type (key separation): register the material as an HMAC key to MAC with it.';
const KMIP_21 = 'Not yet: KMIP 2.1 is not served (1.0-1.4 and 2.0 are); the 2.1 protocol is separate work of issue 17.';

export const EXPLAINED: Readonly<Record<string, string>> = {
  'CS-AC-M-4-14': SEPARATION,
  'CS-AC-M-5-14': SEPARATION,
  'CS-AC-M-6-14': SEPARATION,
  'CS-BC-M-7-14':
    'Not yet: Usage Limits needs a durable count of the bytes each key protected, shared by every kmip and key-api process; Register refuses the attribute (Invalid Field) rather than keep a limit it would not enforce.',
  'OMOS-M-1-14': 'Outside the appliance profiles: Keyward keeps no Opaque Objects; Register refuses them (Feature Not Supported).',
  ...Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`BL-M-${i + 1}-21`, KMIP_21])),
};
