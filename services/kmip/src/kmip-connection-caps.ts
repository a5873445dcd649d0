/**
 * Open KMIP connections per client certificate (by SHA-256 fingerprint): one client cannot hold
 * every connection the service allows. The overall cap is the listener's maxConnections, which
 * refuses a connection before its TLS handshake.
 */
export class ConnectionCaps {
  private readonly open = new Map<string, number>();

  constructor(private readonly perCertificate: number) {}

  /** Counts a connection of `fingerprint`; answers its release, or undefined when the certificate is at its cap. */
  acquire(fingerprint: string): (() => void) | undefined {
    const count = this.open.get(fingerprint) ?? 0;
    if (count >= this.perCertificate) return undefined;
    this.open.set(fingerprint, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(fingerprint) ?? 1) - 1;
      if (left <= 0) this.open.delete(fingerprint);
      else this.open.set(fingerprint, left);
    };
  }

  /** Open connections of one certificate. */
  count(fingerprint: string): number {
    return this.open.get(fingerprint) ?? 0;
  }
}
