import { ScanSlots } from './scan-slots';

describe('ScanSlots', () => {
  it('allows maxPerTenant scans of a tenant and maxOverall in all, and frees them on release', () => {
    const slots = new ScanSlots(1, 2);
    const a = slots.acquire('tnt_a');
    expect('release' in a).toBe(true);
    expect(slots.acquire('tnt_a')).toEqual({ refused: 'tenant' });
    const b = slots.acquire('tnt_b');
    expect('release' in b).toBe(true);
    expect(slots.acquire('tnt_c')).toEqual({ refused: 'overall' });
    if ('release' in a) a.release();
    expect(slots.active).toBe(1);
    const again = slots.acquire('tnt_a');
    expect('release' in again).toBe(true);
  });

  it('a release counts once, however often it is called', () => {
    const slots = new ScanSlots(2, 2);
    const first = slots.acquire('tnt_a');
    slots.acquire('tnt_a');
    if ('release' in first) {
      first.release();
      first.release();
    }
    expect(slots.active).toBe(1);
    expect('release' in slots.acquire('tnt_a')).toBe(true);
    expect(slots.acquire('tnt_b')).toEqual({ refused: 'overall' });
  });
});
