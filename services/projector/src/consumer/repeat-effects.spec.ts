import type { Keystore } from '@keyward/crypto';
import type { KeywardEventBody } from '@keyward/domain';
import type { Commit } from '@keyward/event-log';
import { repeatStoreEffects } from './repeat-effects';

const TENANT = 'tnt_repeat001';
const actor = { principalId: 'prn_admin0001', role: 'tenant-admin' } as const;

function commit(...bodies: KeywardEventBody[]): Commit {
  const events = bodies.map((b) => ({ ...b, actor, correlationId: 'c1', at: '2030-01-01T00:00:00.000Z' }));
  return { tenantId: TENANT, seq: 7, commandId: 'cmd_1', events, committedAt: '2030-01-01T00:00:00.000Z', prevHash: 'p', hash: 'h' };
}

/** A keystore and a credential store that record what they were asked to do. */
function recording() {
  const calls: string[] = [];
  const keystore = {
    shredKey: (tenantId: string, keyId: string, versions?: readonly number[]) => {
      calls.push(`shred ${tenantId}/${keyId} ${versions?.join(',') ?? 'all'}`);
      return Promise.resolve(versions?.length ?? 0);
    },
    shredTenant: (tenantId: string) => {
      calls.push(`shred tenant ${tenantId}`);
      return Promise.resolve(3);
    },
  } as unknown as Keystore;
  const credentials = {
    disablePrincipal: (tenantId: string, principalId: string) => {
      calls.push(`disable ${tenantId}/${principalId}`);
      return Promise.resolve(2);
    },
  };
  return { keystore, credentials, calls };
}

describe('repeatStoreEffects: the projector repeats what the writer must have done after a commit', () => {
  it("shreds a destroyed key's versions by a query on the key (the projector has no log to name check values)", async () => {
    const { keystore, credentials, calls } = recording();
    const repeated = await repeatStoreEffects(
      commit({ type: 'key.destroyed.v1', data: { keyId: 'key_1', versions: [1, 2] } }),
      keystore,
      credentials,
    );
    expect(calls).toEqual([`shred ${TENANT}/key_1 1,2`]);
    expect(repeated).toEqual({ shredded: 2, disabled: 0 });
  });

  it("disables a revoked principal's API keys again: a writer that crashed after an approved revocation left them enabled", async () => {
    const { keystore, credentials, calls } = recording();
    const repeated = await repeatStoreEffects(
      commit(
        { type: 'approval.granted.v1', data: { approvalId: 'apr_1' } },
        { type: 'principal.revoked.v1', data: { principalId: 'prn_bob' } },
      ),
      keystore,
      credentials,
    );
    expect(calls).toEqual([`disable ${TENANT}/prn_bob`]);
    expect(repeated).toEqual({ shredded: 0, disabled: 2 });
  });

  it('shreds the whole tenant on offboarding; a suspension or an ordinary commit changes no store', async () => {
    const { keystore, credentials, calls } = recording();
    await repeatStoreEffects(commit({ type: 'tenant.suspended.v1', data: { tenantId: TENANT, reason: 'x' } }), keystore, credentials);
    await repeatStoreEffects(commit({ type: 'key.deactivated.v1', data: { keyId: 'key_1', reason: 'requested' } }), keystore, credentials);
    expect(calls).toEqual([]);
    await repeatStoreEffects(commit({ type: 'tenant.offboarded.v1', data: { tenantId: TENANT } }), keystore, credentials);
    expect(calls).toEqual([`shred tenant ${TENANT}`]);
  });
});
