import { createHash } from 'node:crypto';
import { certificateFacts } from './x509';

/** A self-signed P-256 certificate made for this spec: openssl req -x509 -subj "/O=Acme/CN=disk-array-1" -days 30 -outform der. */
const DER = Buffer.from(
  '308201a130820147a0030201020214107ac216d9d4caf69f425afab852bfb836abca99300a06082a8648ce3d0403023026310d300b060355040a0c0441636d653115301306035504030c0c6469736b2d61727261792d31301e170d3236313230333132303134315a170d3237303130323132303134315a3026310d300b060355040a0c0441636d653115301306035504030c0c6469736b2d61727261792d313059301306072a8648ce3d020106082a8648ce3d030107034200047208ed047afd7f5f47092596c34b37dd19a17b1387a9b3110fa2f3d1cef148755d7ce72e14fec458d97411b105472d7a975923401fdf449aaefa3f13f474cd2fa3533051301d0603551d0e04160414210a025e9cf571f7c30207c330a56c1c48a529c1301f0603551d23041830168014210a025e9cf571f7c30207c330a56c1c48a529c1300f0603551d130101ff040530030101ff300a06082a8648ce3d0403020348003045022100cf357a7d8790d75a14132f50740037e4d3f898b815ead4c128a710774311fa3b02205f94a910781d7954ebc05368833ef69725f7ef06c1fc95ada3ed757e3efb47e6',
  'hex',
);

describe('X.509 certificate facts', () => {
  it('reads the length, subject and issuer CN, serial, validity and fingerprint of a DER certificate', () => {
    const facts = certificateFacts(DER);
    expect(facts).toMatchObject({ length: DER.length, subjectCN: 'disk-array-1', issuerCN: 'disk-array-1' });
    expect(facts?.fingerprint).toBe(createHash('sha256').update(DER).digest('hex'));
    expect(facts!.validTo.getTime() - facts!.validFrom.getTime()).toBe(30 * 86_400_000);
    expect(facts?.serialNumber).toMatch(/^[0-9A-F]+$/);
  });

  it('refuses what is not exactly one DER certificate: PEM, trailing bytes, a cut, a changed byte in its structure, noise', () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${DER.toString('base64')}\n-----END CERTIFICATE-----\n`;
    expect(certificateFacts(Buffer.from(pem))).toBeUndefined();
    expect(certificateFacts(Buffer.concat([DER, Buffer.from([0])]))).toBeUndefined();
    expect(certificateFacts(DER.subarray(0, DER.length - 10))).toBeUndefined();
    const changed = Buffer.from(DER);
    changed[1] = 0x00;
    expect(certificateFacts(changed)).toBeUndefined();
    expect(certificateFacts(Buffer.alloc(300, 0x30))).toBeUndefined();
    expect(certificateFacts(Buffer.alloc(0))).toBeUndefined();
  });
});
