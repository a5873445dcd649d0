import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate } from '@keyward/crypto';
import { asEnum, child, children, Operation, ResultReason, ResultStatus, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { KeywardStack } from '../support/keyward-stack';
import { MongoCommandTap } from '../support/mongo-command-tap';
import { freePort } from '../support/ports';
import { KmipService } from './kmip-service';
import { TtlvClient } from './ttlv-client';

jest.setTimeout(240_000);

/**
 * Issue 15: KMIP requests read the tenant's commits from the store on every request (7 s each at
 * 2,500 commits on the embedded store). The kmip service now keeps tenant logs as key-api does:
 * in memory, re-read when keyward.events carries a newer commit of the tenant. Its store traffic
 * goes through a tap that records every command it sends.
 */
describe('KMIP in the steady state reads no commits from the store (real kmip service, Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let tap: MongoCommandTap;
  let kmip: KmipService;
  let ca: string;
  let admin: string;
  let userId: string;
  let keyId: string;
  let cert: [string, string];

  const get = async (client: TtlvClient): Promise<[number | undefined, number | undefined]> => {
    const response: TtlvItem | null = await client.request([1, 4], [[Operation.Get, [ttlv.text(Tag.UniqueIdentifier, keyId)]]]);
    const item = children(response ?? undefined, Tag.BatchItem)[0];
    return [asEnum(child(item, Tag.ResultStatus)), asEnum(child(item, Tag.ResultReason))];
  };
  const commitReads = () => tap.commands.filter((c) => c.collection === 'commits');

  beforeAll(async () => {
    await stack.start();
    tap = await MongoCommandTap.start(stack.env.MONGODB_URI!);
    kmip = await KmipService.start({ ...stack.env, MONGODB_URI: tap.uri }, await freePort());
    ca = join(stack.dataDir, 'tls', 'ca.crt');
    const tenant = await stack.onboard('KMIP Steady');
    admin = tenant.adminKey;
    userId = (await stack.principalWithId(admin, 'key-user')).principalId;
    const created = await stack.call(admin, 'POST', '/v1/keys', { activate: true, exportable: true });
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/enable-export`)).status).toBe(200);
    const issued = await issueClientCertificate({
      subject: `CN=${userId}, O=${tenant.tenantId}`,
      days: 1,
      ca: { dir: join(stack.dataDir, 'tls') },
    });
    const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-steady-'));
    cert = [join(dir, 'user.crt'), join(dir, 'user.key')];
    writeFileSync(cert[0], issued.certPem);
    writeFileSync(cert[1], issued.keyPem, { mode: 0o600 });
    expect((await stack.call(admin, 'PUT', `/v1/principals/${userId}/certificate`, { fingerprint: issued.fingerprint })).status).toBe(200);
  });
  afterAll(async () => {
    await kmip.stop();
    await tap.stop();
    await stack.stop();
  });

  it('answers repeated Gets of a warm tenant without a single command on the commits collection', async () => {
    const client = await TtlvClient.open(kmip.port, ca, cert);
    try {
      // Warm: the first request of the tenant reads its log (and waits for the service to follow the stream).
      await stack.api.waitFor(async () => JSON.stringify(await get(client)) === JSON.stringify([ResultStatus.Success, undefined]), 30_000);
      await stack.api.waitFor(async () => (await fetch(`${kmip.httpUrl}/health/ready`)).status === 200, 30_000);
      expect(commitReads().length).toBeGreaterThan(0); // the tap sees the service's reads
      tap.reset();
      for (let i = 0; i < 20; i++) expect(await get(client)).toEqual([ResultStatus.Success, undefined]);
      expect(commitReads()).toEqual([]);
    } finally {
      client.close();
    }
  });

  it('still follows key-api: unbinding the certificate there refuses the next requests (told by keyward.events)', async () => {
    expect((await stack.call(admin, 'DELETE', `/v1/principals/${userId}/certificate`)).status).toBe(200);
    await stack.api.waitFor(async () => {
      const client = await TtlvClient.open(kmip.port, ca, cert);
      try {
        return (
          JSON.stringify(await get(client)) === JSON.stringify([ResultStatus.OperationFailed, ResultReason.AuthenticationNotSuccessful])
        );
      } finally {
        client.close();
      }
    }, 30_000);
  });
});
