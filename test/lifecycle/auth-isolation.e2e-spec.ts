import { KeywardStack } from '../support/keyward-stack';

jest.setTimeout(180_000);

type Role = 'provider-admin' | 'tenant-admin' | 'key-user' | 'auditor';
const ROLES: Role[] = ['provider-admin', 'tenant-admin', 'key-user', 'auditor'];

interface Route {
  readonly name: string;
  readonly allowed: readonly Role[];
  /** Builds a fresh, valid request (so an allowed role gets 2xx). */
  readonly request: (ctx: Ctx, role: Role) => Promise<[method: string, path: string, body?: unknown]>;
  /** A refusal other than 403 for a role (a key-user asking for another principal's grant is told it does not exist). */
  readonly refusedAs?: Partial<Record<Role, number>>;
}

interface Ctx {
  readonly stack: KeywardStack;
  readonly tenantId: string;
  readonly admin: string;
  readonly user: string;
  newKey(body?: unknown): Promise<string>;
  /** An Active key of this type (made once, reused). */
  activeKey(keyType?: 'AES-256-GCM' | 'HMAC-SHA256' | 'ED25519'): Promise<string>;
  /** A fresh ciphertext under the Active AES key. */
  ciphertext(): Promise<string>;
}

const ROUTES: Route[] = [
  {
    name: 'POST /v1/tenants',
    allowed: ['provider-admin'],
    request: () => Promise.resolve(['POST', '/v1/tenants', { name: 'Matrix Tenant' }]),
  },
  { name: 'GET /v1/tenants', allowed: ['provider-admin'], request: () => Promise.resolve(['GET', '/v1/tenants']) },
  { name: 'GET /v1/sys/backups', allowed: ['provider-admin'], request: () => Promise.resolve(['GET', '/v1/sys/backups']) },
  {
    name: 'GET /v1/tenants/{id}',
    allowed: ['provider-admin'],
    request: (c) => Promise.resolve(['GET', `/v1/tenants/${c.tenantId}?minSeq=1`]),
  },
  {
    name: 'POST /v1/tenants/{id}/suspend',
    allowed: ['provider-admin'],
    request: async (c) => {
      const other = await c.stack.onboard();
      return ['POST', `/v1/tenants/${other.tenantId}/suspend`, {}];
    },
  },
  {
    name: 'POST /v1/tenants/{id}/resume',
    allowed: ['provider-admin'],
    request: async (c) => {
      const other = await c.stack.onboard();
      await c.stack.call(c.stack.providerKey, 'POST', `/v1/tenants/${other.tenantId}/suspend`, {});
      return ['POST', `/v1/tenants/${other.tenantId}/resume`, {}];
    },
  },
  {
    name: 'GET /v1/keys/alias/{id}',
    allowed: ['tenant-admin', 'key-user', 'auditor'],
    request: async (c) => {
      const alias = `m${Date.now()}${Math.random().toString(36).slice(2, 6)}`;
      const made = (await c.stack.call(c.admin, 'POST', '/v1/keys', { alias })).json<{ seq: number }>();
      return ['GET', `/v1/keys/alias/${alias}?minSeq=${made.seq}`];
    },
  },
  { name: 'GET /v1/tenant', allowed: ['tenant-admin', 'auditor'], request: () => Promise.resolve(['GET', '/v1/tenant?minSeq=1']) },
  {
    name: 'POST /v1/principals',
    allowed: ['tenant-admin', 'provider-admin'],
    // Each side adds what it may: tenants their roles, the provider another provider-admin.
    request: (_, role) =>
      Promise.resolve(['POST', '/v1/principals', { name: 'matrix', role: role === 'provider-admin' ? 'provider-admin' : 'auditor' }]),
  },
  { name: 'GET /v1/principals', allowed: ['tenant-admin', 'auditor'], request: () => Promise.resolve(['GET', '/v1/principals']) },
  {
    name: 'DELETE /v1/principals/{id}',
    allowed: ['tenant-admin'],
    request: async (c) => {
      const made = await c.stack.call(c.admin, 'POST', '/v1/principals', { name: 'victim', role: 'auditor' });
      return ['DELETE', `/v1/principals/${made.json<{ principalId: string }>().principalId}`];
    },
  },
  { name: 'POST /v1/keys', allowed: ['tenant-admin'], request: () => Promise.resolve(['POST', '/v1/keys', {}]) },
  { name: 'GET /v1/keys', allowed: ['tenant-admin', 'key-user', 'auditor'], request: () => Promise.resolve(['GET', '/v1/keys']) },
  {
    name: 'GET /v1/keys/{id}',
    allowed: ['tenant-admin', 'key-user', 'auditor'],
    request: async (c) => {
      const made = (await c.stack.call(c.admin, 'POST', '/v1/keys', {})).json<{ key: { keyId: string }; seq: number }>();
      return ['GET', `/v1/keys/${made.key.keyId}?minSeq=${made.seq}`];
    },
  },
  {
    name: 'POST /v1/keys/{id}/activate',
    allowed: ['tenant-admin'],
    request: async (c) => ['POST', `/v1/keys/${await c.newKey()}/activate`],
  },
  {
    name: 'POST /v1/keys/{id}/deactivate',
    allowed: ['tenant-admin'],
    request: async (c) => ['POST', `/v1/keys/${await c.newKey()}/deactivate`],
  },
  {
    name: 'POST /v1/keys/{id}/rotate',
    allowed: ['tenant-admin'],
    request: async (c) => ['POST', `/v1/keys/${await c.newKey({ activate: true })}/rotate`],
  },
  {
    name: 'POST /v1/keys/{id}/compromise',
    allowed: ['tenant-admin'],
    request: async (c) => ['POST', `/v1/keys/${await c.newKey()}/compromise`, { reason: 'test' }],
  },
  {
    name: 'POST /v1/keys/{id}/schedule-destruction',
    allowed: ['tenant-admin'],
    request: async (c) => ['POST', `/v1/keys/${await c.newKey()}/schedule-destruction`, {}],
  },
  {
    name: 'POST /v1/keys/{id}/cancel-destruction',
    allowed: ['tenant-admin'],
    request: async (c) => {
      const id = await c.newKey();
      await c.stack.call(c.admin, 'POST', `/v1/keys/${id}/schedule-destruction`, {});
      return ['POST', `/v1/keys/${id}/cancel-destruction`];
    },
  },
  {
    name: 'PUT /v1/keys/{id}/alias',
    allowed: ['tenant-admin'],
    request: async (c) => [
      'PUT',
      `/v1/keys/${await c.newKey()}/alias`,
      { alias: `a${Date.now()}${Math.random().toString(36).slice(2, 6)}` },
    ],
  },
  {
    name: 'PATCH /v1/keys/{id}',
    allowed: ['tenant-admin'],
    request: async (c) => ['PATCH', `/v1/keys/${await c.newKey()}`, { description: 'x', labels: { a: 'b' } }],
  },
  {
    name: 'PUT /v1/keys/{id}/min-decryption-version',
    allowed: ['tenant-admin'],
    request: async (c) => ['PUT', `/v1/keys/${await c.newKey({ activate: true })}/min-decryption-version`, { version: 1 }],
  },
  {
    name: 'POST /v1/tenants/{id}/offboard',
    allowed: ['provider-admin'],
    request: async (c) => {
      const other = await c.stack.onboard();
      return ['POST', `/v1/tenants/${other.tenantId}/offboard`, { confirm: other.tenantId }];
    },
  },
  {
    name: 'PUT /v1/principals/{id}/certificate',
    allowed: ['tenant-admin'],
    request: async (c) => {
      // Bindings apply to a principal's API keys: it has one once it has enrolled.
      const made = await c.stack.principalWithId(c.admin, 'auditor', 'bound');
      return ['PUT', `/v1/principals/${made.principalId}/certificate`, { fingerprint: 'ab'.repeat(32) }];
    },
  },
  {
    name: 'DELETE /v1/principals/{id}/certificate',
    allowed: ['tenant-admin'],
    request: async (c) => {
      const made = await c.stack.principalWithId(c.admin, 'auditor', 'unbound');
      return ['DELETE', `/v1/principals/${made.principalId}/certificate`];
    },
  },
  {
    name: 'PUT /v1/keys/{id}/owner',
    allowed: ['tenant-admin'],
    request: async (c) => {
      const made = await c.stack.call(c.admin, 'POST', '/v1/principals', { name: 'appliance', role: 'kmip-client' });
      const owner = made.json<{ principalId: string }>().principalId;
      return ['PUT', `/v1/keys/${await c.newKey()}/owner`, { owner }];
    },
  },
  {
    name: 'POST /v1/keys/{id}/enable-export',
    allowed: ['tenant-admin'],
    request: async (c) => ['POST', `/v1/keys/${await c.newKey({ exportable: true })}/enable-export`, {}],
  },
  {
    name: 'GET /v1/approvals',
    allowed: ['tenant-admin', 'auditor', 'provider-admin'],
    request: (c) => Promise.resolve(['GET', `/v1/approvals?tenantId=${c.tenantId}`]),
  },
  { name: 'GET /v1/tenant/policy', allowed: ['tenant-admin', 'auditor'], request: () => Promise.resolve(['GET', '/v1/tenant/policy']) },
  {
    name: 'PUT /v1/tenant/policy',
    allowed: ['tenant-admin'],
    request: () => Promise.resolve(['PUT', '/v1/tenant/policy', { allowCompromisedDecrypt: false }]),
  },
  {
    name: 'POST /v1/keys/{id}/encrypt',
    allowed: ['key-user'],
    request: async (c) => ['POST', `/v1/keys/${await c.activeKey()}/encrypt`, { plaintext: 'aGk=' }],
  },
  {
    name: 'POST /v1/decrypt',
    allowed: ['key-user'],
    request: async (c) => ['POST', '/v1/decrypt', { ciphertext: await c.ciphertext() }],
  },
  {
    name: 'POST /v1/rewrap',
    allowed: ['key-user'],
    request: async (c) => ['POST', '/v1/rewrap', { ciphertext: await c.ciphertext() }],
  },
  {
    name: 'POST /v1/keys/{id}/data-key',
    allowed: ['key-user'],
    request: async (c) => ['POST', `/v1/keys/${await c.activeKey()}/data-key`, { bytes: 16 }],
  },
  {
    name: 'POST /v1/keys/{id}/data-key/without-plaintext',
    allowed: ['key-user'],
    request: async (c) => ['POST', `/v1/keys/${await c.activeKey()}/data-key/without-plaintext`, {}],
  },
  {
    name: 'POST /v1/keys/{id}/mac',
    allowed: ['key-user'],
    request: async (c) => ['POST', `/v1/keys/${await c.activeKey('HMAC-SHA256')}/mac`, { data: 'aGk=' }],
  },
  {
    name: 'POST /v1/keys/{id}/verify-mac',
    allowed: ['key-user'],
    request: async (c) => {
      const key = await c.activeKey('HMAC-SHA256');
      const made = await c.stack.call(c.user, 'POST', `/v1/keys/${key}/mac`, { data: 'aGk=' });
      return ['POST', `/v1/keys/${key}/verify-mac`, { data: 'aGk=', mac: made.json<{ mac: string }>().mac }];
    },
  },
  {
    name: 'POST /v1/keys/{id}/sign',
    allowed: ['key-user'],
    request: async (c) => ['POST', `/v1/keys/${await c.activeKey('ED25519')}/sign`, { message: 'aGk=', algorithm: 'ED25519' }],
  },
  {
    name: 'POST /v1/keys/{id}/verify',
    allowed: ['key-user'],
    request: async (c) => {
      const key = await c.activeKey('ED25519');
      const made = await c.stack.call(c.user, 'POST', `/v1/keys/${key}/sign`, { message: 'aGk=', algorithm: 'ED25519' });
      return [
        'POST',
        `/v1/keys/${key}/verify`,
        { message: 'aGk=', algorithm: 'ED25519', signature: made.json<{ signature: string }>().signature },
      ];
    },
  },
  {
    name: 'POST /v1/keys/{id}/sign/batch',
    allowed: ['key-user'],
    request: async (c) => [
      'POST',
      `/v1/keys/${await c.activeKey('ED25519')}/sign/batch`,
      { algorithm: 'ED25519', batchInput: [{ message: 'aGk=' }] },
    ],
  },
  {
    name: 'POST /v1/keys/{id}/verify/batch',
    allowed: ['key-user'],
    request: async (c) => {
      const key = await c.activeKey('ED25519');
      const made = await c.stack.call(c.user, 'POST', `/v1/keys/${key}/sign`, { message: 'aGk=', algorithm: 'ED25519' });
      const signature = made.json<{ signature: string }>().signature;
      return ['POST', `/v1/keys/${key}/verify/batch`, { algorithm: 'ED25519', batchInput: [{ message: 'aGk=', signature }] }];
    },
  },
  {
    name: 'GET /v1/keys/{id}/public-key',
    allowed: ['key-user', 'auditor'],
    request: async (c) => ['GET', `/v1/keys/${await c.activeKey('ED25519')}/public-key`],
  },
  { name: 'GET /v1/tenant/jwks', allowed: ['key-user', 'auditor'], request: () => Promise.resolve(['GET', '/v1/tenant/jwks']) },
  // Grants: tenant-admins manage them; auditors read them all, key-users their own (test/security/grants.e2e-spec.ts).
  {
    name: 'POST /v1/grants',
    allowed: ['tenant-admin'],
    request: async (c) => {
      const made = await c.stack.call(c.admin, 'POST', '/v1/principals', { name: 'grantee', role: 'key-user' });
      const principalId = made.json<{ principalId: string }>().principalId;
      return ['POST', '/v1/grants', { principalId, operations: ['encrypt'], keys: { aliasPrefix: 'matrix/' } }];
    },
  },
  { name: 'GET /v1/grants', allowed: ['tenant-admin', 'auditor', 'key-user'], request: () => Promise.resolve(['GET', '/v1/grants']) },
  ...(['GET', 'DELETE'] as const).map((method): Route => ({
    name: `${method} /v1/grants/{id}`,
    // A key-user reads only its own grants: this one is another principal's, so it is told it does not exist.
    allowed: method === 'GET' ? ['tenant-admin', 'auditor'] : ['tenant-admin'],
    ...(method === 'GET' ? { refusedAs: { 'key-user': 404 } } : {}),
    request: async (c) => {
      const made = await c.stack.call(c.admin, 'POST', '/v1/principals', { name: 'grantee', role: 'key-user' });
      const principalId = made.json<{ principalId: string }>().principalId;
      const body = { principalId, operations: ['encrypt'], keys: { aliasPrefix: 'matrix/' } };
      const grant = (await c.stack.call(c.admin, 'POST', '/v1/grants', body)).json<{ grant: { grantId: string } }>().grant;
      return [method, `/v1/grants/${grant.grantId}`];
    },
  })),
  // Compliance: auditors and tenant-admins audit their own tenant, provider-admins name any tenant; key-users never.
  ...(
    [
      ['GET /v1/audit/events', 'events?'],
      ['GET /v1/audit/verify', 'verify?'],
      ['GET /v1/audit/state', `state?at=${encodeURIComponent('2100-01-01T00:00:00Z')}&`],
      ['GET /v1/audit/access', `access?at=${encodeURIComponent('2100-01-01T00:00:00Z')}&`],
      ['GET /v1/audit/usage', 'usage?'],
      ['GET /v1/audit/export', 'export?format=csv&'],
      ['GET /v1/audit/checkpoints', 'checkpoints?'],
    ] as const
  ).map(([name, path]): Route => ({
    name,
    allowed: ['tenant-admin', 'auditor', 'provider-admin'],
    request: async (c) => {
      const key = name === 'GET /v1/audit/access' ? `keyId=${await c.activeKey()}&` : '';
      return ['GET', `/v1/audit/${path}${key}tenantId=${c.tenantId}`];
    },
  })),
];

describe('authentication, roles and tenant isolation', () => {
  const stack = new KeywardStack();
  const keys = {} as Record<Role, string>;
  let ctx: Ctx;

  beforeAll(async () => {
    await stack.start();
    const tenant = await stack.onboard('Isolation A');
    keys['provider-admin'] = stack.providerKey;
    keys['tenant-admin'] = tenant.adminKey;
    keys['key-user'] = await stack.principal(tenant.adminKey, 'key-user');
    keys.auditor = await stack.principal(tenant.adminKey, 'auditor');
    const newKey = async (body: unknown = {}) =>
      (await stack.call(tenant.adminKey, 'POST', '/v1/keys', body)).json<{ key: { keyId: string } }>().key.keyId;
    const active = new Map<string, Promise<string>>();
    const activeKey = (keyType: 'AES-256-GCM' | 'HMAC-SHA256' | 'ED25519' = 'AES-256-GCM'): Promise<string> => {
      if (!active.has(keyType)) active.set(keyType, newKey({ activate: true, keyType }));
      return active.get(keyType)!;
    };
    ctx = {
      stack,
      tenantId: tenant.tenantId,
      admin: tenant.adminKey,
      user: keys['key-user'],
      newKey,
      activeKey,
      ciphertext: async () => {
        const answer = await stack.call(keys['key-user'], 'POST', `/v1/keys/${await activeKey()}/encrypt`, { plaintext: 'aGk=' });
        return answer.json<{ ciphertext: string }>().ciphertext;
      },
    };
  });
  afterAll(() => stack.stop());

  describe.each(ROUTES)('$name', (route) => {
    it.each(ROLES)('as %s', async (role) => {
      const [method, path, body] = await route.request(ctx, role);
      const answer = await stack.call(keys[role], method, path, body);
      if (route.allowed.includes(role)) {
        expect({ role, status: answer.status, body: answer.status < 300 ? '' : answer.body }).toEqual({
          role,
          status: expect.any(Number) as number,
          body: '',
        });
        expect(answer.status).toBeLessThan(300);
      } else {
        expect(answer.status).toBe(route.refusedAs?.[role] ?? 403);
        expect(answer.headers['content-type']).toMatch(/problem\+json/);
      }
    });
  });

  it('the matrix covers every authenticated route in the OpenAPI document', async () => {
    const doc = (await stack.api.get('/docs/json')).json<{ paths: Record<string, Record<string, unknown>> }>();
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{id}')}`),
    );
    const covered = ROUTES.map((r) => r.name);
    // Public routes; unsealing (409 on an unsealed service; roles checked in the data-plane and unseal specs); deciding and
    // reading single approvals (a matrix tenant has one admin, so nothing is ever pending; see the dual-control spec).
    const elsewhere = [
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
      'GET /v1/sys/seal-status',
      'POST /v1/sys/unseal',
      'POST /v1/sys/unseal/shares',
      'DELETE /v1/sys/unseal/shares',
      'GET /v1/approvals/{id}',
      'POST /v1/approvals/{id}/approve',
      'POST /v1/approvals/{id}/reject',
      // Public: anyone holding a checkpoint must be able to check its signature (see test/compliance).
      'GET /v1/audit/public-key',
      // Needs mutual TLS with a bound principal (see the export spec); refused to every role in this matrix.
      'POST /v1/keys/{id}/material',
      // Public: a new principal redeems its enrollment token; re-issuing one needs an unenrolled principal (see the enrollment spec).
      'POST /v1/enroll',
      'POST /v1/principals/{id}/enrollment',
      // The console's session (any role opens one with its API key; refusals, CSRF, sign-out and revocation in the
      // console-session spec) and its live stream (roles and tenant isolation in the console spec).
      'POST /v1/session',
      'GET /v1/session',
      'DELETE /v1/session',
      'GET /v1/audit/live',
      // One snapshot and its verifications need a backup service with destinations (roles and refusals in the backup-status spec).
      'GET /v1/sys/backups/{id}',
      'POST /v1/sys/backups/{id}/verifications',
      'GET /v1/sys/backups/{id}/verifications/{id}',
    ];
    const uncovered = documented.filter((route) => !elsewhere.includes(route) && !covered.includes(route));
    expect(uncovered).toEqual([]);
  });

  it('answers 401 without a key, with a malformed key and with an unknown key', async () => {
    expect((await stack.api.get('/v1/keys')).status).toBe(401);
    expect((await stack.call('not-a-key', 'GET', '/v1/keys')).status).toBe(401);
    const forged = `kw_${'A'.repeat(16)}_${'B'.repeat(43)}`;
    const answer = await stack.call(forged, 'GET', '/v1/keys');
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toContain('Bearer');
    // a real credential id with the wrong secret
    const real = keys['key-user'];
    expect((await stack.call(`${real.slice(0, 20)}${'x'.repeat(43)}`, 'GET', '/v1/keys')).status).toBe(401);
  });

  it("another tenant's key answers 404, exactly like a missing one, for reads and commands", async () => {
    const other = await stack.onboard('Isolation B');
    const foreign = (await stack.call(other.adminKey, 'POST', '/v1/keys', { alias: 'theirs' })).json<{
      key: { keyId: string };
      seq: number;
    }>();
    const missing = await stack.call(keys['tenant-admin'], 'GET', '/v1/keys/key_0000000000000000000000');
    const read = await stack.call(keys['tenant-admin'], 'GET', `/v1/keys/${foreign.key.keyId}`);
    expect(read.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(read.json<{ type: string }>().type).toBe(missing.json<{ type: string }>().type);
    expect((await stack.call(keys['tenant-admin'], 'POST', `/v1/keys/${foreign.key.keyId}/activate`)).status).toBe(404);
    expect((await stack.call(keys['tenant-admin'], 'GET', '/v1/keys/alias/theirs')).status).toBe(404);
    const list = await stack.call(keys['tenant-admin'], 'GET', `/v1/keys?limit=200`);
    expect(list.body).not.toContain(foreign.key.keyId);
    // the foreign key is untouched
    const theirs = await stack.call(other.adminKey, 'GET', `/v1/keys/${foreign.key.keyId}?minSeq=${foreign.seq}`);
    expect(theirs.json<{ state: string }>().state).toBe('PreActive');
  });

  it('a revoked principal is refused at once', async () => {
    const made = await stack.principalWithId(keys['tenant-admin'], 'key-user', 'short-lived');
    expect((await stack.call(made.apiKey, 'GET', '/v1/keys')).status).toBe(200);
    expect((await stack.call(keys['tenant-admin'], 'DELETE', `/v1/principals/${made.principalId}`)).status).toBe(200);
    expect((await stack.call(made.apiKey, 'GET', '/v1/keys')).status).toBe(401);
  });

  it('a suspended tenant cannot change its keys (423) until resumed', async () => {
    const t = await stack.onboard('Suspendable');
    expect((await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/suspend`, { reason: 'unpaid' })).status).toBe(200);
    const refused = await stack.call(t.adminKey, 'POST', '/v1/keys', {});
    expect(refused.status).toBe(423);
    expect((await stack.call(stack.providerKey, 'POST', `/v1/tenants/${t.tenantId}/resume`)).status).toBe(200);
    expect((await stack.call(t.adminKey, 'POST', '/v1/keys', {})).status).toBe(201);
  });
});
