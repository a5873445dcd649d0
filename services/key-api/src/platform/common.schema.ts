import { z } from 'zod';
import { ID_PATTERN } from '@keyward/domain';

export const idParam = z.string().regex(ID_PATTERN, 'not a valid identifier');
/** A key reference: its id or `alias/<name>`. */
export const keyRefParam = z
  .string()
  .min(1)
  .max(160)
  .regex(/^(alias\/[A-Za-z0-9][A-Za-z0-9/_.-]{0,127}|[a-z][a-z0-9]{0,15}_[A-Za-z0-9]{8,40})$/, 'not a key id or alias/<name>');
export const aliasParam = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9/_.-]{0,127}$/, 'not a valid alias');
export const minSeq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();
export const readQuery = z.strictObject({ minSeq });
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/)
    .optional(),
  minSeq,
};
export const listQuery = z.strictObject(pageQuery);
export const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
export const seqResponse = z.object({ seq: z.number().int().describe('The commit seq; pass it back as minSeq to read your own write') });
export const emptyBody = z.strictObject({});
