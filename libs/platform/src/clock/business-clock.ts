let offsetMs = 0;

/**
 * The time lifecycle decisions are made at (cryptoperiods, destruction waiting periods). It is the
 * system clock, shifted only in test runs (KEYWARD_CLOCK_OFFSET_MS, refused outside NODE_ENV=test)
 * so that end-to-end specs can reach a date days ahead without waiting for it.
 */
export function businessNow(): Date {
  return new Date(Date.now() + offsetMs);
}

export function setBusinessClockOffset(ms: number): void {
  offsetMs = ms;
}
