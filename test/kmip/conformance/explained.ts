/**
 * Why a case does not pass, where Keyward refuses the behaviour by design or has not built it yet
 * (docs/kmip.md, "Conformance"). The table shows the reason beside the case's first difference.
 */
const DSA_512 =
  "the key is 512-bit DSA (P of 512 bits, Q of 160), broken since the 1990s and below FIPS 186-4's smallest DSA (1024/160, and only to verify): Keyward holds no DSA keys, so Register refuses it (Invalid Field)";

export const EXPLAINED: Readonly<Record<string, string>> = {
  'BL-M-12-21': `By design, twice: the Register asks for a Sensitive public key, which Keyward does not keep (a public key is readable by its nature; Feature Not Supported), and ${DSA_512}.`,
  'BL-M-13-21': `By design, three times: ${DSA_512}; past that the case expects Get to return the private key (Keyward never releases a private key), and it sets Fresh, which Keyward derives (Attribute Read Only).`,
};
