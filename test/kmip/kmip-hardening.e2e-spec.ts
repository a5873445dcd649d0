import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boundFields, encodeHeader, issueClientCertificate, parseBlob } from '@keyward/crypto';
import { asBytes, asEnum, child, children, Operation, ResultReason, ResultStatus, Tag, ttlv, type TtlvItem } from '@keyward/kmip';
import { freePort } from '../support/ports';
import { KeywardStack } from '../support/keyward-stack';
import { KmipService } from './kmip-service';
import { TtlvClient } from './ttlv-client';

jest.setTimeout(300_000);

/** Waits for `promise`, or fails with `what` after `ms` (a bound on a hang, not a timing assertion). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The first batch item of a response: its status, reason and payload. */
function itemOf(response: TtlvItem | null): { status?: number; reason?: number; payload?: TtlvItem } {
  const item = children(response ?? undefined, Tag.BatchItem)[0];
  return {
    status: asEnum(child(item, Tag.ResultStatus)),
    reason: asEnum(child(item, Tag.ResultReason)),
    payload: child(item, Tag.ResponsePayload),
  };
}

/** Waits until the service's log (written asynchronously) matches `pattern`; fails after 20 s. */
async function logged(service: KmipService, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 200 && !pattern.test(service.output); i++) await new Promise((r) => setTimeout(r, 100));
  expect(service.output).toMatch(pattern);
}

const discover = (client: TtlvClient): Promise<TtlvItem | null> => client.request([1, 4], [[Operation.DiscoverVersions, []]]);

describe('KMIP hardening: framing, connection caps, TLS versions, KMIP/REST key separation', () => {
  const stack = new KeywardStack();
  let kmip: KmipService;
  let tenantId: string;
  let admin: string;
  let user: string;
  let keyId: string;
  let ca: string;
  let userCert: [string, string];
  let otherCert: [string, string];
  let userCert2: [string, string];

  /** A client certificate issued by the stack's development CA (the KMIP client CA). */
  async function clientCert(file: string, subject: string): Promise<[string, string]> {
    const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-hard-'));
    const issued = await issueClientCertificate({ subject, days: 1, ca: { dir: join(stack.dataDir, 'tls') } });
    const [cert, key] = [join(dir, `${file}.crt`), join(dir, `${file}.key`)];
    writeFileSync(cert, issued.certPem);
    writeFileSync(key, issued.keyPem, { mode: 0o600 });
    return [cert, key];
  }

  /**
   * A new key-user bound to a certificate of its own (KMIP authenticates only by the bound
   * fingerprint). Binding also binds the principal's REST API key, so REST calls use another key-user.
   */
  async function boundClientCert(file: string): Promise<[string, string]> {
    const { principalId } = await stack.principalWithId(admin, 'key-user');
    const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-hard-'));
    const issued = await issueClientCertificate({
      subject: `CN=${principalId}, O=${tenantId}`,
      days: 1,
      ca: { dir: join(stack.dataDir, 'tls') },
    });
    const bound = await stack.call(admin, 'PUT', `/v1/principals/${principalId}/certificate`, { fingerprint: issued.fingerprint });
    if (bound.status !== 200) throw new Error(`binding ${principalId}: ${bound.status} ${bound.body}`);
    const [cert, key] = [join(dir, `${file}.crt`), join(dir, `${file}.key`)];
    writeFileSync(cert, issued.certPem);
    writeFileSync(key, issued.keyPem, { mode: 0o600 });
    return [cert, key];
  }

  /** A connection that works: opened, and answering Discover Versions (retried while a closed one is still counted). */
  async function working(port: number, cert: [string, string]): Promise<TtlvClient> {
    let last = '';
    for (let attempt = 0; attempt <= 50; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 100));
      let client: TtlvClient;
      try {
        client = await TtlvClient.open(port, ca, cert);
      } catch (err: unknown) {
        last = String(err);
        continue;
      }
      const answer = itemOf(await discover(client));
      if (answer.status === ResultStatus.Success) return client;
      last = `status ${answer.status}, reason ${answer.reason}`;
      client.close();
    }
    throw new Error(`no working KMIP connection: ${last}`);
  }

  /** Whether a connection is refused: at the handshake, or closed without an answer to its first request. */
  async function refused(port: number, cert: [string, string]): Promise<boolean> {
    const client = await TtlvClient.open(port, ca, cert).catch(() => undefined);
    if (client === undefined) return true;
    const answer = await within(discover(client), 30_000, 'the connection was neither answered nor closed');
    client.close();
    return answer === null;
  }

  const encrypt = async (client: TtlvClient, data: Buffer, iv?: Buffer, aad?: Buffer) =>
    itemOf(
      await client.request(
        [1, 4],
        [
          [
            Operation.Encrypt,
            [
              ttlv.text(Tag.UniqueIdentifier, keyId),
              ttlv.bytes(Tag.Data, data),
              ...(iv ? [ttlv.bytes(Tag.IvCounterNonce, iv)] : []),
              ...(aad ? [ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, aad)] : []),
            ],
          ],
        ],
      ),
    );

  beforeAll(async () => {
    await stack.start();
    ({ tenantId, adminKey: admin } = await stack.onboard());
    user = await stack.principal(admin, 'key-user');
    const created = await stack.call(admin, 'POST', '/v1/keys', { activate: true });
    expect(created.status).toBe(201);
    keyId = created.json<{ key: { keyId: string } }>().key.keyId;
    ca = join(stack.dataDir, 'tls', 'ca.crt');
    userCert = await boundClientCert('user');
    otherCert = await clientCert('other', `CN=prn_nobody, O=${tenantId}`);
    userCert2 = await boundClientCert('user2'); // another certificate (of another key-user)
    kmip = await KmipService.start(stack.env, await freePort());
  });

  afterAll(async () => {
    await kmip.stop();
    await stack.stop();
  });

  describe('finding 2: eight bytes no longer hang the service', () => {
    it('answers 42007801 80000000 with Invalid Message and closes, and still answers another client', async () => {
      const hostile = await TtlvClient.open(kmip.port, ca, otherCert);
      const hostileAnswer = hostile.send(Buffer.from('4200780180000000', 'hex'));
      // Another client, with a real operation: the service is not stuck in a loop.
      const client = await within(TtlvClient.open(kmip.port, ca, userCert), 30_000, 'the kmip service accepted no other client');
      const done = await within(encrypt(client, Buffer.from('still here')), 30_000, 'the kmip service did not answer another client');
      expect(done.status).toBe(ResultStatus.Success);
      client.close();
      const answered = itemOf(await within(hostileAnswer, 30_000, 'the hostile header got no answer'));
      expect(answered.reason).toBe(ResultReason.InvalidMessage);
      expect(await within(hostile.receive(), 30_000, 'the hostile connection was not closed')).toBeNull();
      await logged(kmip, /closing KMIP connection from .*exceeds/);
    });

    it.each([
      ['an empty message', '4200780100000000'],
      ['length 0xffffffff', '42007801ffffffff'],
      ['length 0xfffffff9 (overflows when padded)', '42007801fffffff9'],
    ])('closes a connection that sends %s', async (_name, header) => {
      const hostile = await TtlvClient.open(kmip.port, ca, otherCert);
      const answer = itemOf(await within(hostile.send(Buffer.from(header, 'hex')), 30_000, 'no answer'));
      expect(answer.reason).toBe(ResultReason.InvalidMessage);
      expect(await within(hostile.receive(), 30_000, 'the connection was not closed')).toBeNull();
    });
  });

  describe('TLS versions', () => {
    it('refuses a TLS 1.2 client by default, and accepts TLS 1.3', async () => {
      await expect(TtlvClient.open(kmip.port, ca, userCert, { maxVersion: 'TLSv1.2' })).rejects.toThrow();
      const client = await TtlvClient.open(kmip.port, ca, userCert);
      expect(client.socket.getProtocol()).toBe('TLSv1.3');
      client.close();
    });
  });

  describe('connection caps (KMIP_MAX_CONNECTIONS=3, KMIP_MAX_CONNECTIONS_PER_CERT=2, KMIP_TLS_MIN_VERSION=TLSv1.2)', () => {
    let capped: KmipService;
    beforeAll(async () => {
      capped = await KmipService.start(
        { ...stack.env, KMIP_MAX_CONNECTIONS: '3', KMIP_MAX_CONNECTIONS_PER_CERT: '2', KMIP_TLS_MIN_VERSION: 'TLSv1.2' },
        await freePort(),
      );
    });
    afterAll(() => capped.stop());

    it('closes the third connection of one certificate and the fourth overall, and admits again once one closes', async () => {
      const open: TtlvClient[] = [];
      try {
        open.push(await working(capped.port, userCert), await working(capped.port, userCert));
        expect(await refused(capped.port, userCert)).toBe(true);
        open.push(await working(capped.port, userCert2));
        expect(await refused(capped.port, userCert2)).toBe(true);
        await logged(capped, /refused: its certificate .* has 2 open/);
        await logged(capped, /refused: 3 connections are open/);
        open.shift()?.close();
        open.push(await working(capped.port, userCert2));
      } finally {
        for (const c of open) c.close();
      }
    });

    it('accepts a TLS 1.2 client when KMIP_TLS_MIN_VERSION=TLSv1.2', async () => {
      let client: TtlvClient | undefined;
      for (let i = 0; i < 50 && client === undefined; i++) {
        client = await TtlvClient.open(capped.port, ca, userCert, { maxVersion: 'TLSv1.2' }).catch(() => undefined);
        if (client === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(client?.socket.getProtocol()).toBe('TLSv1.2');
      expect(itemOf(await discover(client!)).status).toBe(ResultStatus.Success);
      client?.close();
    });
  });

  describe('timeouts (KMIP_READ_TIMEOUT_SECONDS=3, KMIP_IDLE_TIMEOUT_SECONDS=4)', () => {
    let timed: KmipService;
    beforeAll(async () => {
      timed = await KmipService.start({ ...stack.env, KMIP_READ_TIMEOUT_SECONDS: '3', KMIP_IDLE_TIMEOUT_SECONDS: '4' }, await freePort());
    });
    afterAll(() => timed.stop());

    it('closes a connection whose started message does not complete (bytes trickled or withheld)', async () => {
      const client = await TtlvClient.open(timed.port, ca, userCert);
      client.socket.write(Buffer.from('4200780100000040', 'hex')); // a 72-byte message, of which only the header comes
      expect(await within(client.receive(), 30_000, 'the connection was not closed')).toBeNull();
      await logged(timed, /closing KMIP connection from .*message not complete within 3 s/);
    });

    it('closes a connection that sends nothing', async () => {
      const client = await TtlvClient.open(timed.port, ca, userCert);
      expect(await within(client.receive(), 30_000, 'the connection was not closed')).toBeNull();
      await logged(timed, /closing KMIP connection from .*idle for 4 s/);
    });
  });

  describe('finding 6: KMIP caller IVs never touch the key REST ciphertexts use', () => {
    const secret = Buffer.from('card 4111-1111-1111-1111, cvv 123');
    let blob: Buffer;
    let client: TtlvClient;

    beforeAll(async () => {
      const answer = await stack.call(user, 'POST', `/v1/keys/${keyId}/encrypt`, {
        plaintext: secret.toString('base64'),
        aad: Buffer.from('order-42').toString('base64'),
      });
      expect(answer.status).toBe(200);
      blob = Buffer.from(answer.json<{ ciphertext: string }>().ciphertext, 'base64');
      client = await TtlvClient.open(kmip.port, ca, userCert);
    });
    afterAll(() => (client as TtlvClient | undefined)?.close()); // undefined when beforeAll failed

    const partsOf = (b: Buffer) => {
      const parsed = parseBlob(b);
      return {
        header: parsed.header,
        iv: parsed.body.subarray(0, 12),
        tag: parsed.body.subarray(12, 28),
        ciphertext: parsed.body.subarray(28),
      };
    };

    it('KMIP Encrypt of zeros with a REST ciphertext IV gives no keystream of it (the XOR is not the plaintext)', async () => {
      const { iv, ciphertext } = partsOf(blob);
      const zeros = ok(await encrypt(client, Buffer.alloc(ciphertext.length), iv));
      const keystream = asBytes(child(zeros.payload, Tag.Data)) ?? Buffer.alloc(0);
      const xored = Buffer.from(ciphertext.map((byte, i) => byte ^ (keystream[i] ?? 0)));
      expect(xored.equals(secret)).toBe(false);
      // Repeating that IV (and any other) under KMIP leaves the REST ciphertext as it was.
      ok(await encrypt(client, Buffer.alloc(ciphertext.length), iv));
      const again = await stack.call(user, 'POST', '/v1/decrypt', {
        ciphertext: blob.toString('base64'),
        aad: Buffer.from('order-42').toString('base64'),
      });
      expect(again.status).toBe(200);
      expect(Buffer.from(again.json<{ plaintext: string }>().plaintext, 'base64').equals(secret)).toBe(true);
    });

    it('KMIP Decrypt does not open a REST ciphertext, even given its exact AAD', async () => {
      const { header, iv, tag, ciphertext } = partsOf(blob);
      const restAad = boundFields('keyward/ciphertext/v1', tenantId, header, Buffer.from('order-42'));
      const answer = itemOf(
        await client.request(
          [1, 4],
          [
            [
              Operation.Decrypt,
              [
                ttlv.text(Tag.UniqueIdentifier, keyId),
                ttlv.bytes(Tag.Data, ciphertext),
                ttlv.bytes(Tag.IvCounterNonce, iv),
                ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, restAad),
                ttlv.bytes(Tag.AuthenticatedEncryptionTag, tag),
              ],
            ],
          ],
        ),
      );
      expect(answer.reason).toBe(ResultReason.CryptographicFailure);
    });

    it('a KMIP ciphertext made with REST blob AAD is no REST ciphertext (no forgery through KMIP)', async () => {
      const header = encodeHeader({ algorithm: 'AES-256-GCM', keyId, version: 1 });
      const forged = Buffer.from('transfer 1,000,000 to mallory');
      const iv = Buffer.alloc(12, 0x42);
      const out = ok(await encrypt(client, forged, iv, boundFields('keyward/ciphertext/v1', tenantId, header, Buffer.alloc(0))));
      const tag = asBytes(child(out.payload, Tag.AuthenticatedEncryptionTag)) ?? Buffer.alloc(0);
      const ciphertext = asBytes(child(out.payload, Tag.Data)) ?? Buffer.alloc(0);
      const answer = await stack.call(user, 'POST', '/v1/decrypt', {
        ciphertext: Buffer.concat([header, iv, tag, ciphertext]).toString('base64'),
      });
      expect(answer.status).not.toBe(200);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
    });

    it('KMIP Encrypt → Decrypt round trips still work, with a caller IV and AAD and with a server IV', async () => {
      for (const [iv, aad] of [
        [Buffer.alloc(12, 7), Buffer.from('ctx')],
        [undefined, undefined],
      ] as const) {
        const enc = ok(await encrypt(client, Buffer.from('round trip'), iv, aad));
        const dec = itemOf(
          await client.request(
            [1, 4],
            [
              [
                Operation.Decrypt,
                [
                  ttlv.text(Tag.UniqueIdentifier, keyId),
                  ttlv.bytes(Tag.Data, asBytes(child(enc.payload, Tag.Data)) ?? Buffer.alloc(0)),
                  // The IV comes back only when the server generated it.
                  ttlv.bytes(Tag.IvCounterNonce, iv ?? asBytes(child(enc.payload, Tag.IvCounterNonce)) ?? Buffer.alloc(0)),
                  ...(aad ? [ttlv.bytes(Tag.AuthenticatedEncryptionAdditionalData, aad)] : []),
                  ttlv.bytes(
                    Tag.AuthenticatedEncryptionTag,
                    asBytes(child(enc.payload, Tag.AuthenticatedEncryptionTag)) ?? Buffer.alloc(0),
                  ),
                ],
              ],
            ],
          ),
        );
        expect(asBytes(child(ok(dec).payload, Tag.Data))?.toString()).toBe('round trip');
      }
    });
  });
});

function ok<T extends { status?: number; reason?: number }>(item: T): T {
  if (item.status !== ResultStatus.Success) throw new Error(`expected success, got reason ${item.reason}`);
  return item;
}
