import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** A principal's binding to a client certificate: the certificate it must present over mutual TLS. */
export interface CertificateBinding {
  /** SHA-256 of the certificate's DER, lowercase hex: exactly one certificate. */
  readonly fingerprint?: string;
  /** Subject DN such as `CN=billing-app, O=Acme`: any valid certificate with these attributes. */
  readonly subject?: string;
  readonly boundAt: string;
  readonly boundBy: string;
}

/** The client certificate of a TLS connection, only when the TLS layer verified it against the client CAs. */
export interface PresentedCertificate {
  readonly fingerprint: string;
  /** Sorted `TYPE=value` attributes of the subject. */
  readonly subjectAttributes: readonly string[];
  /** `x5t#S256` of RFC 8705: base64url of the SHA-256 of the DER. */
  readonly thumbprint: string;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** C0/C1 controls, DEL, line and paragraph separators: an attribute holding one could read as other attributes. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** `AB:CD:…`, `ab cd …` or `abcd…` to 64 lowercase hex digits; undefined when it is not a SHA-256. */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = value.replace(/[\s:]/g, '').toLowerCase();
  return SHA256_HEX.test(hex) ? hex : undefined;
}

/**
 * Parses a DN (`CN=a, O=b`, RFC 4514 escapes `\,` `\+` `\=` `\\`, `+` for multi-valued RDNs) into
 * sorted `TYPE=value` attributes; undefined when it is not one. Order does not matter: the
 * certificate's subject must carry exactly these attributes. A control character anywhere (a CN
 * holding "\nO=Acme") makes it no DN at all: attributes are never split on newlines.
 */
export function subjectAttributes(dn: string): string[] | undefined {
  if (CONTROL.test(dn)) return undefined;
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < dn.length; i++) {
    const c = dn.charAt(i);
    if (c === '\\' && i + 1 < dn.length) {
      current += c + dn.charAt(++i);
    } else if (c === ',' || c === '+') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  const attributes: string[] = [];
  for (const part of parts) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq < 1) return undefined;
    const type = trimmed.slice(0, eq).trim().toUpperCase();
    const value = trimmed
      .slice(eq + 1)
      .trim()
      .replace(/\\(.)/g, '$1');
    if (!/^[A-Z][A-Z0-9.-]*$/.test(type) || value.length === 0 || value.length > 256) return undefined;
    attributes.push(`${type}=${value}`);
  }
  return attributes.length > 0 && attributes.length <= 16 ? attributes.sort() : undefined;
}

/** The canonical text of a DN as bindings store it: sorted attributes, commas and pluses escaped. */
export function canonicalSubject(dn: string): string | undefined {
  return subjectAttributes(dn)
    ?.map((attribute) => attribute.replace(/([\\,+])/g, '\\$1'))
    .join(', ');
}

/**
 * The verified client certificate of a connection, or undefined: no TLS, no certificate, a
 * certificate the client CAs did not verify (expired, unknown issuer), or one whose extended key
 * usage excludes client authentication.
 */
export function presentedCertificate(socket: unknown): PresentedCertificate | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (tls?.encrypted !== true || tls.authorized !== true || typeof tls.getPeerCertificate !== 'function') return undefined;
  const peer = tls.getPeerCertificate(false) as
    { raw?: Buffer; subject?: Record<string, string | string[] | undefined> } | null | undefined;
  if (!peer?.raw || peer.raw.length === 0) return undefined;
  const extendedUsage = new X509Certificate(peer.raw).keyUsage as string[] | undefined;
  if (extendedUsage !== undefined && extendedUsage.length > 0 && !extendedUsage.includes(CLIENT_AUTH)) return undefined;
  const digest = createHash('sha256').update(peer.raw).digest();
  return { fingerprint: digest.toString('hex'), subjectAttributes: peerSubject(peer.subject), thumbprint: digest.toString('base64url') };
}

/** Node's parsed subject (`{ CN: 'a', OU: ['b', 'c'] }`) as sorted `TYPE=value` attributes. */
export function peerSubject(subject: Record<string, string | string[] | undefined> | undefined): string[] {
  const attributes: string[] = [];
  for (const [type, values] of Object.entries(subject ?? {})) {
    for (const value of Array.isArray(values) ? values : values === undefined ? [] : [values]) {
      attributes.push(`${type.toUpperCase()}=${value}`);
    }
  }
  return attributes.sort();
}

/**
 * Whether a presented certificate satisfies a binding: every bound property must match. Subjects
 * compare attribute by attribute (never as joined text), and a presented attribute holding a
 * control character matches nothing.
 */
export function certificateMatches(
  binding: Pick<CertificateBinding, 'fingerprint' | 'subject'>,
  presented: Pick<PresentedCertificate, 'fingerprint' | 'subjectAttributes'> | undefined,
): boolean {
  if (!presented) return false;
  if (binding.fingerprint === undefined && binding.subject === undefined) return false;
  if (binding.fingerprint !== undefined && binding.fingerprint !== presented.fingerprint) return false;
  if (binding.subject !== undefined) {
    const wanted = subjectAttributes(binding.subject);
    const actual = presented.subjectAttributes;
    if (!wanted || wanted.length !== actual.length) return false;
    if (actual.some((attribute, i) => CONTROL.test(attribute) || attribute !== wanted[i])) return false;
  }
  return true;
}

/** Why a connection may not receive key material (undefined: it may). */
export type ReleaseRefusal = 'no-certificate' | 'not-bound' | 'other-certificate';

/**
 * The rule for releasing key material (REST export, KMIP Get): a verified client certificate on
 * the connection, a principal bound to a certificate, and the presented certificate matching
 * that binding (not merely some binding existing).
 */
export function releaseRefusal(
  binding: Pick<CertificateBinding, 'fingerprint' | 'subject'> | undefined,
  presented: Pick<PresentedCertificate, 'fingerprint' | 'subjectAttributes'> | undefined,
): ReleaseRefusal | undefined {
  if (!presented) return 'no-certificate';
  if (!binding) return 'not-bound';
  return certificateMatches(binding, presented) ? undefined : 'other-certificate';
}
