import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate } from '@keyward/crypto';
import { asEnum, child, children, Operation, ResultReason, ResultStatus, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { KeywardStack } from '../support/keyward-stack';
import { freePort } from '../support/ports';
import { KmipService } from './kmip-service';
import { TtlvClient } from './ttlv-client';

jest.setTimeout(240_000);

/**
 * Finding 3 of issue 23: a KMIP client is the principal whose certificate binding (in the tenant
 * log) carries the presented certificate's fingerprint. A certificate from a trusted CA that
 * merely names the victim (O=<tenant>, CN=<principal>) is refused.
 */
describe('KMIP identity is the bound certificate, never the subject text (real kmip service, Kafka and FerretDB)', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let ca: string;
  let admin: string;
  let userId: string;
  let keyId: string;
  let genuine: { files: [string, string]; fingerprint: string };
  let forged: { files: [string, string]; fingerprint: string };

  const issue = async (file: string, subject: string): Promise<{ files: [string, string]; fingerprint: string }> => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-id-'));
    const issued = await issueClientCertificate({ subject, days: 1, ca: { dir: join(stack.dataDir, 'tls') } });
    const files: [string, string] = [join(dir, `${file}.crt`), join(dir, `${file}.key`)];
    writeFileSync(files[0], issued.certPem);
    writeFileSync(files[1], issued.keyPem, { mode: 0o600 });
    return { files, fingerprint: issued.fingerprint };
  };
  /** Sends one Get of the key over a new connection; answers its result status and reason. */
  const get = async (cert: [string, string]): Promise<[number | undefined, number | undefined]> => {
    const client = await TtlvClient.open(kmip.port, ca, cert);
    const response: TtlvItem | null = await client.request([1, 4], [[Operation.Get, [ttlv.text(Tag.UniqueIdentifier, keyId)]]]);
    client.close();
    const item = children(response ?? undefined, Tag.BatchItem)[0];
    return [asEnum(child(item, Tag.ResultStatus)), asEnum(child(item, Tag.ResultReason))];
  };
  const refused: [number, number] = [ResultStatus.OperationFailed, ResultReason.AuthenticationNotSuccessful];
  const succeeded: [number, undefined] = [ResultStatus.Success, undefined];
  const eventually = (cert: [string, string], wanted: [number | undefined, number | undefined]) =>
    stack.api.waitFor(async () => JSON.stringify(await get(cert)) === JSON.stringify(wanted), 30_000);

  beforeAll(async () => {
    await stack.start();
    kmip = await KmipService.start(stack.env, await freePort());
    ca = join(stack.dataDir, 'tls', 'ca.crt');
    const victim = await stack.onboard('KMIP Victim');
    admin = victim.adminKey;
    await stack.principal(admin, 'key-user');
    await stack.api.waitFor(async () => {
      const items = (await stack.call(admin, 'GET', '/v1/principals')).json<{ items: { principalId: string; role: string }[] }>().items;
      userId = items.find((p) => p.role === 'key-user')?.principalId ?? '';
      return userId !== '';
    }, 30_000);
    const created = await stack.call(admin, 'POST', '/v1/keys', { activate: true, exportable: true });
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    expect((await stack.call(admin, 'POST', `/v1/keys/${keyId}/enable-export`)).status).toBe(200);
    // Both from the CA the kmip service trusts, both naming the victim's key-user.
    const subject = `CN=${userId}, O=${victim.tenantId}`;
    genuine = await issue('genuine', subject);
    forged = await issue('forged', subject);
  });
  afterAll(async () => {
    await kmip.stop();
    await stack.stop();
  });

  it('refuses a trusted certificate naming the victim while no certificate is bound', async () => {
    expect(await get(forged.files)).toEqual(refused);
    expect(await get(genuine.files)).toEqual(refused);
  });

  it('accepts the bound certificate (Get releases material to it) and still refuses the other one with the same subject', async () => {
    const bound = await stack.call(admin, 'PUT', `/v1/principals/${userId}/certificate`, { fingerprint: genuine.fingerprint });
    expect(bound.status).toBe(200);
    await eventually(genuine.files, succeeded);
    expect(await get(forged.files)).toEqual(refused);
  });

  it('refuses the certificate again once it is unbound', async () => {
    expect((await stack.call(admin, 'DELETE', `/v1/principals/${userId}/certificate`)).status).toBe(200);
    await eventually(genuine.files, refused);
  });
});
