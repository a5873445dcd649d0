import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueClientCertificate } from '@keyward/crypto';
import { asEnum, child, encodeTtlv, Operation, ResultReason, Tag, type TtlvItem } from '@keyward/kmip';
import { uniqueName } from '../../support/env';
import type { KeywardStack } from '../../support/keyward-stack';
import { requestMessage, TtlvClient } from '../ttlv-client';
import type { ConformanceIdentity, KmipConnection } from './runner/runner';

/**
 * Which principals the runner is. An appliance has one identity (`{ single: 'kmip-client' }` once that
 * role exists); until then a batch goes to the `use` principal when it only uses or reads keys, and
 * to the `manage` principal otherwise.
 */
export type IdentityPlan = { readonly single: string } | { readonly manage: string; readonly use: string };

export function planLabel(plan: IdentityPlan): string {
  return 'single' in plan ? `one ${plan.single} principal` : `a ${plan.manage} principal for management, a ${plan.use} principal for use`;
}

/** Operations a key-user runs: the rest (create, register, activate, revoke, destroy, attributes) is management. */
const USE = new Set(['Get', 'Encrypt', 'Decrypt', 'MAC', 'MACVerify', 'Sign', 'SignatureVerify', 'Hash', 'RNGRetrieve', 'RNGSeed']);
const READ = new Set(['Locate', 'GetAttributes', 'GetAttributeList', 'Query', 'DiscoverVersions', 'Check']);

/** How long a request may wait for its answer. */
const ANSWER_MS = 60_000;

/** A connection that reopens itself when the server closed it (after an Invalid Message, say). */
class ReopeningConnection implements KmipConnection {
  private client: TtlvClient | undefined;

  constructor(
    private readonly port: number,
    private readonly ca: string,
    private readonly cert: [string, string],
  ) {}

  /** Answers null when the server closed the connection or did not answer within `ANSWER_MS` (the connection is then dropped). */
  async send(request: TtlvItem): Promise<TtlvItem | null> {
    this.client ??= await TtlvClient.open(this.port, this.ca, this.cert);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ANSWER_MS)));
    const answer = await Promise.race([this.client.send(encodeTtlv(request)), late]);
    clearTimeout(timer);
    if (answer === null) this.close();
    return answer;
  }

  close(): void {
    this.client?.close();
    this.client = undefined;
  }
}

/**
 * Onboards a fresh tenant for one profile's cases (dual control off), creates the plan's principals in it, issues each a
 * client certificate bound to it by fingerprint, and waits until the kmip service accepts them.
 */
export async function keywardIdentity(
  stack: KeywardStack,
  kmipPort: number,
  plan: IdentityPlan,
  label: string,
): Promise<ConformanceIdentity> {
  const ca = join(stack.dataDir, 'tls', 'ca.crt');
  const dir = mkdtempSync(join(tmpdir(), 'kw-kmip-conf-'));
  const tenant = await stack.onboard(uniqueName(`Conformance ${label.replace(/[^A-Za-z0-9]/g, ' ')}`));
  // A second tenant-admin and its certificate binding need a second approver under the default dual
  // control; the onboarding admin is the only one, so the set-up turns dual control off as the PyKMIP spec does.
  // Key reuse (off by default) is turned on: CS-AC-M-4/5/6 MAC with an AES key registered for Encrypt, Decrypt,
  // MAC Generate and MAC Verify (docs/kmip.md, "Key reuse").
  const policy = await stack.call(tenant.adminKey, 'PUT', '/v1/tenant/policy', {
    dualControl: { quorum: null, operations: [] },
    allowKeyReuse: true,
  });
  if (policy.status !== 200) throw new Error(`tenant policy: ${policy.status} ${policy.body}`);
  const roles = 'single' in plan ? [plan.single] : [plan.manage, plan.use];
  const connections = new Map<string, ReopeningConnection>();
  for (const role of new Set(roles)) {
    const { principalId } = await stack.principalWithId(tenant.adminKey, role, uniqueName(`kmip-${role}`));
    const issued = await issueClientCertificate({
      subject: `CN=${principalId}, O=${tenant.tenantId}`,
      days: 1,
      ca: { dir: join(stack.dataDir, 'tls') },
    });
    const files: [string, string] = [join(dir, `${role}.crt`), join(dir, `${role}.key`)];
    writeFileSync(files[0], issued.certPem);
    writeFileSync(files[1], issued.keyPem, { mode: 0o600 });
    const bound = await stack.call(tenant.adminKey, 'PUT', `/v1/principals/${principalId}/certificate`, {
      fingerprint: issued.fingerprint,
    });
    if (bound.status !== 200) throw new Error(`binding ${role}: ${bound.status} ${bound.body}`);
    const connection = new ReopeningConnection(kmipPort, ca, files);
    await stack.api.waitFor(
      async () => authenticated(await connection.send(requestMessage([1, 4], [[Operation.DiscoverVersions, []]]))),
      30_000,
    );
    connections.set(role, connection);
  }
  return {
    label: planLabel(plan),
    connectionFor: (operations) => {
      if ('single' in plan) return Promise.resolve(connections.get(plan.single)!);
      const useOnly = operations.every((o) => USE.has(o) || READ.has(o)) && operations.some((o) => USE.has(o));
      return Promise.resolve(connections.get(useOnly ? plan.use : plan.manage)!);
    },
    close: () => {
      connections.forEach((c) => c.close());
      return Promise.resolve();
    },
  };
}

/** True when the response is not an Authentication Not Successful refusal. */
function authenticated(response: TtlvItem | null): boolean {
  const item = child(response ?? undefined, Tag.BatchItem);
  return item !== undefined && asEnum(child(item, Tag.ResultReason)) !== ResultReason.AuthenticationNotSuccessful;
}
