import type { KeyView } from './views';
import { dueViewOf, isDueView, DUE_COMPLETE } from './due-dates';

const key = (over: Partial<KeyView>): KeyView =>
  ({
    _id: 'tnt_a:key_1',
    tenantId: 'tnt_a',
    keyId: 'key_1',
    state: 'Active',
    destroyAfter: null,
    activationDate: null,
    deactivationDate: null,
    appliedSeq: 7,
    ...over,
  }) as KeyView;

const AT = '2030-01-01T00:00:00.000Z';

describe('dueViewOf: the keys the scheduler has something to do for', () => {
  it.each([
    ['a scheduled destruction', { state: 'Deactivated', destroyAfter: AT }],
    ['a scheduled destruction of a compromised key', { state: 'Compromised', destroyAfter: AT }],
    ['an activation date of a pre-active key', { state: 'PreActive', activationDate: AT }],
    ['a deactivation date of a pre-active key', { state: 'PreActive', deactivationDate: AT }],
    ['a deactivation date of an active key', { state: 'Active', deactivationDate: AT }],
  ] as const)('%s is due', (_, over) => {
    expect(dueViewOf(key(over))).toEqual({
      _id: 'tnt_a:key_1',
      tenantId: 'tnt_a',
      keyId: 'key_1',
      state: over.state,
      destroyAfter: 'destroyAfter' in over ? AT : null,
      activationDate: 'activationDate' in over ? AT : null,
      deactivationDate: 'deactivationDate' in over ? AT : null,
      appliedSeq: 7,
    });
  });

  it.each([
    ['no date', {}],
    ['an activation date of a key already active', { state: 'Active', activationDate: AT }],
    ['a deactivation date of a key already deactivated', { state: 'Deactivated', deactivationDate: AT }],
    ['a deactivation date of a destroyed key', { state: 'Destroyed', deactivationDate: AT }],
  ] as const)('%s is not', (_, over) => {
    expect(dueViewOf(key(over))).toBeNull();
  });

  it('the completeness marker is not a due key', () => {
    expect(isDueView({ _id: DUE_COMPLETE, at: AT })).toBe(false);
    expect(isDueView(dueViewOf(key({ destroyAfter: AT }))!)).toBe(true);
  });
});
