/**
 * Cases the kmip service passes today with the conformance spec's default identity (the spec fails
 * when one of them stops passing). Add a case when it starts passing; the spec prints those that pass
 * and are not listed yet.
 */
export const EXPECTED_PASS: readonly string[] = [
  'CS-AC-M-7-14',
  'CS-BC-M-1-14',
  'CS-BC-M-4-14',
  'CS-BC-M-5-14',
  'CS-BC-M-6-14',
  'CS-BC-M-8-14',
  'CS-BC-M-9-14',
  'CS-BC-M-10-14',
  'CS-BC-M-GCM-1-14',
  'CS-BC-M-GCM-2-14',
  'CS-BC-M-GCM-3-14',
  'CS-RNG-M-1-14',
  'SKFF-M-1-14',
  'SKFF-M-2-14',
  'SKFF-M-3-14',
  'SKFF-M-4-14',
  'SKLC-M-1-14',
  'SASED-M-1-14',
  'SASED-M-2-14',
  'TL-M-1-14',
  'AX-M-1-14',
  'SASED-M-3-14',
  'SKLC-M-2-14',
  'SKLC-M-3-14',
  'TL-M-2-14',
];
