import { randomBytes } from 'node:crypto';
import { keyCheckValue } from './key-check-value';

/**
 * Fresh material from the CSPRNG, handed to `use` and zeroed afterwards whatever happens.
 * Returns the check value and whatever `use` returned.
 */
export async function withFreshMaterial<T>(bytes: number, use: (material: Buffer) => Promise<T> | T): Promise<{ kcv: string; result: T }> {
  const material = randomBytes(bytes);
  try {
    const kcv = keyCheckValue(material);
    return { kcv, result: await use(material) };
  } finally {
    material.fill(0);
  }
}
