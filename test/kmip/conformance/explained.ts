/**
 * Why a case does not pass, where Keyward refuses the behaviour by design or has not built it yet
 * (docs/kmip.md, "Conformance"). The table shows the reason beside the case's first difference.
 */
const KMIP_21 = 'Not yet: KMIP 2.1 is not served (1.0-1.4 and 2.0 are); the 2.1 protocol is separate work of issue 17.';

export const EXPLAINED: Readonly<Record<string, string>> = {
  'OMOS-M-1-14': 'Outside the appliance profiles: Keyward keeps no Opaque Objects; Register refuses them (Feature Not Supported).',
  ...Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`BL-M-${i + 1}-21`, KMIP_21])),
};
