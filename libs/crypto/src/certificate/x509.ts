import { X509Certificate } from 'node:crypto';

/** What a registered certificate says of itself (read by Node's crypto, OpenSSL's X.509 parser). */
export interface CertificateFacts {
  /** The DER's length in bytes (KMIP Certificate Length). */
  readonly length: number;
  /** The first Common Name of the subject and of the issuer, when there is one. */
  readonly subjectCN?: string;
  readonly issuerCN?: string;
  readonly serialNumber: string;
  readonly validFrom: Date;
  readonly validTo: Date;
  /** SHA-256 of the DER, hex. */
  readonly fingerprint: string;
}

/** The first value of `field` in a distinguished name as Node prints it (one `field=value` per line). */
function firstOf(name: string, field: string): string | undefined {
  for (const line of name.split('\n')) if (line.startsWith(`${field}=`)) return line.slice(field.length + 1);
  return undefined;
}

/**
 * The facts of an X.509 certificate given as DER; undefined when the bytes are not one (PEM text
 * included: a KMIP Certificate Value is DER).
 */
export function certificateFacts(der: Buffer): CertificateFacts | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch {
    return undefined;
  }
  if (!certificate.raw.equals(der)) return undefined; // trailing bytes or a re-encoded form: not exactly one DER certificate
  const subjectCN = firstOf(certificate.subject, 'CN');
  const issuerCN = firstOf(certificate.issuer, 'CN');
  return {
    length: der.length,
    ...(subjectCN === undefined ? {} : { subjectCN }),
    ...(issuerCN === undefined ? {} : { issuerCN }),
    serialNumber: certificate.serialNumber,
    validFrom: new Date(certificate.validFrom),
    validTo: new Date(certificate.validTo),
    fingerprint: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}
