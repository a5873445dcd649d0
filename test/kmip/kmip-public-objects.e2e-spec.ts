import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  asBytes,
  asEnum,
  asText,
  CertificateType,
  child,
  children,
  KeyFormatType,
  ObjectType,
  Operation,
  ResultReason,
  ResultStatus,
  Tag,
  ttlv,
  type TtlvItem,
} from '@keyward/kmip';
import { opensslVerifies } from '../support/openssl';
import { KeywardStack } from '../support/keyward-stack';
import { freePort } from '../support/ports';
import { KmipService } from './kmip-service';
import { TtlvClient } from './ttlv-client';
import { boundCertificate } from './bound-certificate';

jest.setTimeout(300_000);

interface Item {
  status?: number;
  reason?: number;
  payload?: TtlvItem;
}

/**
 * What KMIP registers that is public (issue 17's 2.1 Baseline objects) seen through both doors,
 * against the real kmip service, key-api, Kafka and FerretDB: a public key registered alone is
 * served by REST's /public-key (openssl verifies with that PEM a signature made outside Keyward),
 * never signs, and stays out of the JWKS; a certificate comes back byte for byte, as openssl reads it.
 */
describe('KMIP public keys alone and certificates, through KMIP and REST', () => {
  const stack = new KeywardStack();
  const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-public-'));
  let kmip: KmipService | undefined;
  let admin: string;
  let restUser: string;
  let adminClient: TtlvClient | undefined;
  let userClient: TtlvClient | undefined;

  const send = async (
    client: TtlvClient | undefined,
    op: number,
    payload: TtlvItem[],
    version: [number, number] = [2, 1],
  ): Promise<Item> => {
    if (client === undefined) throw new Error('no KMIP client (beforeAll failed)');
    const response = await client.request(version, [[op, payload]]);
    const item = children(response ?? undefined, Tag.BatchItem)[0];
    return {
      status: asEnum(child(item, Tag.ResultStatus)),
      reason: asEnum(child(item, Tag.ResultReason)),
      payload: child(item, Tag.ResponsePayload),
    };
  };
  const ok = (item: Item): Item => {
    expect([item.status, item.reason]).toEqual([ResultStatus.Success, undefined]);
    return item;
  };
  const uid = (id: string): TtlvItem => ttlv.text(Tag.UniqueIdentifier, id);
  const visible = (id: string) => stack.api.waitFor(async () => (await stack.call(admin, 'GET', `/v1/keys/${id}`)).status === 200, 30_000);

  beforeAll(async () => {
    await stack.start();
    let tenantId: string;
    ({ tenantId, adminKey: admin } = await stack.onboard());
    // No dual control in this tenant: binding the admin's certificate is then a single call.
    expect((await stack.call(admin, 'PUT', '/v1/tenant/policy', { dualControl: { quorum: 1, operations: [] } })).status).toBe(200);
    restUser = await stack.principal(admin, 'key-user');
    const adminCert = await boundCertificate(stack, admin, tenantId, 'tenant-admin');
    const userCert = await boundCertificate(stack, admin, tenantId, 'key-user');
    const ca = join(stack.dataDir, 'tls', 'ca.crt');
    kmip = await KmipService.start(stack.env, await freePort());
    adminClient = await TtlvClient.open(kmip.port, ca, adminCert);
    userClient = await TtlvClient.open(kmip.port, ca, userCert);
  });

  afterAll(async () => {
    adminClient?.close();
    userClient?.close();
    await kmip?.stop();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a P-256 public key registered alone: REST serves its PEM, openssl verifies an outside signature with it, nothing signs with it', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    const registered = ok(
      await send(adminClient, Operation.Register, [
        ttlv.enum(Tag.ObjectType, ObjectType.PublicKey),
        ttlv.struct(Tag.Attributes, []),
        ttlv.struct(Tag.PublicKey, [
          ttlv.struct(Tag.KeyBlock, [
            ttlv.enum(Tag.KeyFormatType, KeyFormatType.X509),
            ttlv.struct(Tag.KeyValue, [ttlv.bytes(Tag.KeyMaterial, spki)]),
          ]),
        ]),
      ]),
    );
    const id = asText(child(registered.payload, Tag.UniqueIdentifier)) ?? '';
    ok(await send(adminClient, Operation.Activate, [uid(id)]));
    await visible(id);
    expect((await stack.call(admin, 'GET', `/v1/keys/${id}`)).json<{ keyType: string; publicOnly?: boolean }>()).toMatchObject({
      keyType: 'EC-P256',
      publicOnly: true,
    });
    const answer = await stack.call(restUser, 'GET', `/v1/keys/${id}/public-key`);
    expect(answer.status).toBe(200);
    const { pem } = answer.json<{ pem: string }>();
    const message = Buffer.from('firmware image 4.2');
    expect(opensslVerifies(dir, pem, 'ECDSA-SHA256', message, sign('sha256', message, pair.privateKey))).toBe(true);
    expect(opensslVerifies(dir, pem, 'ECDSA-SHA256', Buffer.from('another image'), sign('sha256', message, pair.privateKey))).toBe(false);
    // KMIP verifies with it and refuses to sign; REST's data plane refuses the KMIP key; the JWKS leaves it out.
    const verified = ok(
      await send(userClient, Operation.SignatureVerify, [
        uid(id),
        ttlv.bytes(Tag.Data, message),
        ttlv.bytes(Tag.SignatureData, sign('sha256', message, pair.privateKey)),
      ]),
    );
    expect(asEnum(child(verified.payload, Tag.ValidityIndicator))).toBe(1);
    const signed = await send(userClient, Operation.Sign, [uid(id), ttlv.bytes(Tag.Data, message)]);
    expect([signed.status, signed.reason]).toEqual([ResultStatus.OperationFailed, ResultReason.IllegalOperation]);
    const restSign = await stack.call(restUser, 'POST', `/v1/keys/${id}/sign`, {
      message: message.toString('base64'),
      algorithm: 'ECDSA-SHA256',
    });
    expect([409, 422]).toContain(restSign.status);
    expect(restSign.body).not.toContain('stack');
    const jwks = await stack.call(restUser, 'GET', '/v1/tenant/jwks');
    expect(jwks.status).toBe(200);
    expect(JSON.stringify(jwks.json())).not.toContain(id);
  });

  it('an X.509 certificate: Get answers the DER openssl reads, REST lists it as a CERTIFICATE, and its length cannot be changed', async () => {
    const key = join(dir, 'cert.key');
    const der = join(dir, 'cert.der');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-subj',
        '/O=Acme/CN=tape-library-7',
        '-days',
        '7',
        '-outform',
        'der',
        '-out',
        der,
      ],
      { stdio: 'pipe' },
    );
    const certificate = readFileSync(der);
    const registered = ok(
      await send(adminClient, Operation.Register, [
        ttlv.enum(Tag.ObjectType, ObjectType.Certificate),
        ttlv.struct(Tag.Attributes, [ttlv.enum(Tag.CertificateType, CertificateType.X509)]),
        ttlv.struct(Tag.Certificate, [ttlv.enum(Tag.CertificateType, CertificateType.X509), ttlv.bytes(Tag.CertificateValue, certificate)]),
      ]),
    );
    const id = asText(child(registered.payload, Tag.UniqueIdentifier)) ?? '';
    await visible(id);
    expect((await stack.call(admin, 'GET', `/v1/keys/${id}`)).json<{ keyType: string }>().keyType).toBe('CERTIFICATE');
    const got = ok(await send(userClient, Operation.Get, [uid(id)]));
    const value = asBytes(child(child(got.payload, Tag.Certificate), Tag.CertificateValue)) ?? Buffer.alloc(0);
    expect(value.equals(certificate)).toBe(true);
    writeFileSync(join(dir, 'back.der'), value);
    const subject = execFileSync('openssl', ['x509', '-inform', 'der', '-in', join(dir, 'back.der'), '-noout', '-subject'], {
      encoding: 'utf8',
    });
    expect(subject).toContain('tape-library-7');
    const attributes = ok(await send(userClient, Operation.GetAttributes, [uid(id)]));
    expect(asText(child(child(attributes.payload, Tag.Attributes), Tag.CertificateSubjectCN))).toBe('tape-library-7');
    const modify = await send(adminClient, Operation.ModifyAttribute, [
      uid(id),
      ttlv.struct(Tag.NewAttribute, [ttlv.int(Tag.CertificateLength, 1)]),
    ]);
    expect(modify.reason).toBe(ResultReason.AttributeReadOnly);
    // REST has no public key for it and no data plane.
    expect((await stack.call(restUser, 'GET', `/v1/keys/${id}/public-key`)).status).toBeGreaterThanOrEqual(400);
  });
});
