import { createHmac } from 'node:crypto';

const KCV_INPUT = Buffer.alloc(32, 0);

/**
 * Key check value: identifies material without revealing it (the first 8 bytes of
 * HMAC-SHA256 keyed by the material over a zero block). Safe to put in events and views.
 */
export function keyCheckValue(material: Buffer): string {
  return createHmac('sha256', material).update(KCV_INPUT).digest().subarray(0, 8).toString('hex');
}
