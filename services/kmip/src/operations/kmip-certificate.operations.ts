import { certificateFacts } from '@keyward/crypto';
import { authorizeCertificate, type KeyAttributes } from '@keyward/domain';
import { asBytes, asEnum, CertificateType, child, ObjectType, ResultReason, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { businessNow } from '@keyward/platform';
import type { KmipAttribute } from '../kmip-attributes';
import { fail, MANAGERS, requireKeyUse, requireRole, USERS, type Call, type KmipDeps, type Payload } from '../kmip-call';
import { toStored } from '../kmip-stored-attributes';
import { decideFresh } from '../kmip-tenant-reads';
import { commitRegistered, createAttributes, requestAttributes } from './kmip-create.operations';

/**
 * Certificates (KMIP Object Type Certificate): an X.509 certificate registered by a client is a
 * `CERTIFICATE` key (libs/domain key.types.ts), its DER the version's material, kept (wrapped) like
 * any material, with the lifecycle of every object. It is public data: key-users read it in any state
 * short of destroyed (authorizeCertificate), no export rule applies, no crypto operation admits it.
 * What the certificate says of itself is recorded at Register as read-only attributes
 * (CERTIFICATE_ATTRIBUTES), read by Node's crypto (libs/crypto certificateFacts).
 */
export const CERTIFICATE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'Certificate Type',
  'Certificate Length',
  'Certificate Subject CN',
  'Certificate Issuer CN',
]);

/** The read-only attributes of a certificate, as stored attribute values. */
function certificateRecords(facts: { length: number; subjectCN?: string; issuerCN?: string }): KeyAttributes {
  const v = Tag.AttributeValue;
  const records: KmipAttribute[] = [
    { name: 'Certificate Type', value: ttlv.enum(v, CertificateType.X509) },
    { name: 'Certificate Length', value: ttlv.int(v, facts.length) },
    ...(facts.subjectCN === undefined ? [] : [{ name: 'Certificate Subject CN', value: ttlv.text(v, facts.subjectCN) }]),
    ...(facts.issuerCN === undefined ? [] : [{ name: 'Certificate Issuer CN', value: ttlv.text(v, facts.issuerCN) }]),
  ];
  return toStored(records);
}

/**
 * Register of a Certificate (tenant-admins, kmip-clients): X.509 only (PGP → `Feature Not
 * Supported`), exactly one DER certificate (`Invalid Field` otherwise). A Certificate Type among the
 * attributes must say X.509 (it is the object's own, recorded by the server); the other attributes
 * are a Register's.
 */
export async function registerCertificate(deps: KmipDeps, payload: TtlvItem | undefined, call: Call): Promise<Payload> {
  requireRole(call, MANAGERS, 'register certificates');
  const object = child(payload, Tag.Certificate);
  const type = asEnum(child(object, Tag.CertificateType));
  const der = asBytes(child(object, Tag.CertificateValue));
  if (type === undefined || der === undefined)
    return fail(ResultReason.MissingData, 'a Certificate needs a Certificate Type and a Certificate Value');
  if (type !== CertificateType.X509) return fail(ResultReason.FeatureNotSupported, 'only X.509 certificates are kept');
  const all = requestAttributes(payload);
  for (const given of all.filter((a) => a.name === 'Certificate Type')) {
    if (asEnum(given.value) !== type) fail(ResultReason.InvalidField, 'the Certificate Type attribute contradicts the Certificate');
  }
  const facts = certificateFacts(der);
  if (facts === undefined) return fail(ResultReason.InvalidField, 'the Certificate Value is not one X.509 certificate (DER)');
  const { options } = createAttributes(
    all.filter((a) => a.name !== 'Certificate Type'),
    call,
  );
  return await commitRegistered(deps, call, 'CERTIFICATE', Buffer.from(der), options, {
    records: certificateRecords(facts),
    exportable: false,
  });
}

/**
 * Get of a Certificate: its DER, to key-users and kmip-clients allowed to use the object
 * (requireKeyUse with the grant operation `verify`, as a public key), in any state short of
 * destroyed. No Key Format Type applies (a Certificate has no Key Block): one asked for →
 * `Key Format Type Not Supported`. No usage record, as for public keys.
 */
export async function getCertificate(deps: KmipDeps, payload: TtlvItem | undefined, call: Call, uid: string): Promise<Payload> {
  requireRole(call, USERS, 'read certificates');
  const { tenantId } = call.principal;
  if (child(payload, Tag.KeyFormatType) !== undefined || child(payload, Tag.KeyWrappingSpecification) !== undefined)
    fail(ResultReason.KeyFormatTypeNotSupported, 'a Certificate is answered as registered: no Key Format Type, no key wrapping');
  const { key, version } = await decideFresh(deps.executor, tenantId, (log) => {
    const found = log.keys.get(uid);
    requireKeyUse(call, log, found, uid, 'verify', {}, businessNow());
    return { key: found, version: authorizeCertificate(log.tenant, tenantId, found, uid) };
  });
  if (key === undefined) return fail(ResultReason.ItemNotFound, `key ${uid} not found`, 'not-found');
  const der = await deps.materials.withMaterial({ tenantId, keyId: key.keyId, version: version.version }, version.kcv, (m) =>
    Buffer.from(m),
  );
  call.placeholder = uid;
  return [
    ttlv.enum(Tag.ObjectType, ObjectType.Certificate),
    ttlv.text(Tag.UniqueIdentifier, uid),
    ttlv.struct(Tag.Certificate, [ttlv.enum(Tag.CertificateType, CertificateType.X509), ttlv.bytes(Tag.CertificateValue, der)]),
  ];
}
