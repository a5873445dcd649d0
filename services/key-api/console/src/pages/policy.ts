import { api, currentSession } from '../api.js';
import { confirmAction } from '../confirm.js';
import { field, h, mount, notice } from '../dom.js';
import { DUAL_CONTROL_OPERATIONS, type OwnTenant, type TenantPolicy } from '../types.js';
import { failure, outcome } from './shared.js';

/** #/policy: the tenant's crypto policy and where dual control stands; a tenant-admin changes it (itself under dual control when listed). */
export async function policyPage(main: HTMLElement, note?: HTMLElement): Promise<void> {
  const notices = h('div', { 'aria-live': 'polite' }, note);
  const body = h('div', {}, h('p', {}, 'Loading…'));
  mount(main, h('h1', {}, 'Tenant policy'), notices, body);
  try {
    const [{ body: policy }, { body: tenant }] = await Promise.all([
      api<TenantPolicy>('GET', '/v1/tenant/policy'),
      api<OwnTenant>('GET', '/v1/tenant'),
    ]);
    mount(
      body,
      h(
        'p',
        { id: 'dual-control-status' },
        `${tenant.name}: ${tenant.dualControl.activeAdmins} active administrator(s); a sensitive operation needs ${tenant.dualControl.quorum} people now, requester included.`,
      ),
      tenant.dualControl.warning ? notice('warn', tenant.dualControl.warning) : null,
      currentSession()?.role === 'tenant-admin' ? policyForm(policy, notices, main) : policyFacts(policy),
    );
  } catch (err) {
    mount(body, failure(err));
  }
}

function policyFacts(policy: TenantPolicy): HTMLElement {
  const row = (name: string, value: string): HTMLElement[] => [h('dt', {}, name), h('dd', {}, value)];
  return h(
    'dl',
    { class: 'facts', id: 'policy' },
    ...row('Compromised keys decrypt', policy.allowCompromisedDecrypt ? 'yes' : 'no'),
    ...row('Legacy encryption (KMIP)', policy.allowLegacyEncryption ? 'yes' : 'no'),
    ...row('Grants', policy.grants ?? 'open'),
    ...row('KMIP Destroy', policy.kmipDestroy ?? 'pending'),
    ...row('Dual control quorum', policy.dualControl.quorum === null ? 'automatic' : String(policy.dualControl.quorum)),
    ...row('Under dual control', policy.dualControl.operations.join(', ') || 'nothing'),
  );
}

const checkbox = (name: string, label: string, checked: boolean, value?: string): HTMLElement =>
  h('label', { class: 'check' }, h('input', { type: 'checkbox', name, checked, value }), label);

const choice = (name: string, label: string, options: readonly string[], current: string): HTMLElement =>
  h('label', {}, label, h('select', { name }, ...options.map((o) => h('option', { value: o, selected: o === current }, o))));

function policyForm(policy: TenantPolicy, notices: HTMLElement, main: HTMLElement): HTMLElement {
  const form = h(
    'form',
    { class: 'policy-form', 'aria-label': 'Tenant policy' },
    h(
      'fieldset',
      {},
      h('legend', {}, 'Use of keys'),
      checkbox('allowCompromisedDecrypt', 'Compromised keys still decrypt and verify (data recovery)', policy.allowCompromisedDecrypt),
      checkbox('allowLegacyEncryption', 'Legacy key types (3DES, KMIP) encrypt and decrypt', policy.allowLegacyEncryption ?? false),
      choice('grants', 'Grants', ['required', 'open'], policy.grants ?? 'open'),
      choice('kmipDestroy', 'KMIP Destroy', ['pending', 'immediate-for-owner'], policy.kmipDestroy ?? 'pending'),
    ),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Dual control'),
      h(
        'label',
        {},
        'Quorum (people, requester included; empty: automatic)',
        h('input', { type: 'number', name: 'quorum', min: 1, max: 9, value: policy.dualControl.quorum ?? '' }),
      ),
      ...DUAL_CONTROL_OPERATIONS.map((op) => checkbox('operations', op, policy.dualControl.operations.includes(op), op)),
    ),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save policy')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const quorum = field(data, 'quorum').trim();
    const body = {
      allowCompromisedDecrypt: data.get('allowCompromisedDecrypt') !== null,
      allowLegacyEncryption: data.get('allowLegacyEncryption') !== null,
      grants: field(data, 'grants'),
      kmipDestroy: field(data, 'kmipDestroy'),
      dualControl: {
        quorum: quorum === '' ? null : Number(quorum),
        operations: data.getAll('operations').filter((v): v is string => typeof v === 'string'),
      },
    };
    void (async () => {
      const explain = 'The new policy applies to every later request of the tenant. Dual control may ask another administrator to approve.';
      if (!(await confirmAction('Change the tenant policy?', explain, 'Save policy'))) return;
      try {
        const answer = await api<{ seq: number }>('PUT', '/v1/tenant/policy', body);
        await policyPage(main, outcome(answer.status, answer.body, `Policy saved (commit ${answer.body.seq}).`));
      } catch (err) {
        mount(notices, failure(err));
      }
    })();
  });
  return form;
}
