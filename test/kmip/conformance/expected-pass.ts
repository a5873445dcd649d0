/**
 * Cases the kmip service passes today with the conformance spec's default identity (the spec fails
 * when one of them stops passing). Add a case when it starts passing; the spec prints those that pass
 * and are not listed yet.
 */
export const EXPECTED_PASS: readonly string[] = ['SASED-M-1-14', 'SASED-M-2-14', 'TL-M-1-14'];
