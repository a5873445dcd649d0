// Whether the filled keys work: in a few fill tenants spread over the fill, a key-user (made and
// enrolled through the API) encrypts with some of the tenant's filled keys and decrypts the
// answer. key-api unwraps the latest version's material from the keystore under the tenant KEK
// and checks it against the check value in the log, so this fails for material written any other
// way than key-api writes it, whichever fill wrote it. The key-users' commits land in the checked
// tenants (two each).
import { randomBytes } from 'node:crypto';
import { uniqueName } from './util.mjs';

const TENANTS = 8;
const KEYS_PER_TENANT = 3;

/** Resolves { status, tenants, keys, ok, failures: [first few] }. */
export async function checkFilledKeys(stack, tenants) {
  const step = Math.max(1, Math.floor(tenants.length / TENANTS));
  const failures = [];
  let keys = 0;
  let ok = 0;
  let checkedTenants = 0;
  for (let i = 0; i < tenants.length && checkedTenants < TENANTS; i += step) {
    const t = tenants[i];
    if (t.keys.length === 0) continue;
    checkedTenants += 1;
    const user = await stack.client.expect([201], 'POST', '/v1/principals', {
      key: t.adminKey,
      body: { name: uniqueName('scale-check'), role: 'key-user' },
    });
    const { apiKey } = await stack.client.expect([200], 'POST', '/v1/enroll', { body: { token: user.enrollment.token } });
    const keyStep = Math.max(1, Math.floor(t.keys.length / KEYS_PER_TENANT));
    for (let k = 0; k < t.keys.length && k < keyStep * KEYS_PER_TENANT; k += keyStep) {
      const { keyId, versions } = t.keys[k];
      keys += 1;
      const plaintext = randomBytes(64).toString('base64');
      const enc = await stack.client.request('POST', `/v1/keys/${keyId}/encrypt`, { key: apiKey, body: { plaintext } });
      const dec =
        enc.status === 200
          ? await stack.client.request('POST', '/v1/decrypt', { key: apiKey, body: { ciphertext: enc.body.ciphertext } })
          : null;
      // The latest version encrypts: the one the fill's last command made.
      if (dec?.status === 200 && dec.body.plaintext === plaintext && enc.body.version === versions) ok += 1;
      else
        failures.push(
          `${keyId} (${versions} versions): encrypt ${enc.status}${dec ? `, decrypt ${dec.status}` : ''} ${(dec ?? enc).text.slice(0, 200)}`,
        );
    }
  }
  return {
    status: failures.length === 0 ? 'ok' : 'failed',
    ...(failures.length === 0 ? {} : { reason: `${failures.length} of ${keys} filled keys did not encrypt and decrypt: ${failures[0]}` }),
    tenants: checkedTenants,
    keys,
    ok,
    failures: failures.slice(0, 5),
  };
}
