import type { PipeTransform } from '@nestjs/common';
import { z, type ZodType } from 'zod';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ProblemError } from '@keyward/platform';

export type RequestPart = 'body' | 'query' | 'path';

/** Validates (and converts) a request part with a zod schema, or throws a precise 400 problem. */
export function validated<T extends ZodType>(schema: T, value: unknown, part: RequestPart): z.output<T> {
  const parsed = schema.safeParse(value ?? (part === 'body' ? {} : value));
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((issue) => ({ path: [part, ...issue.path.map(String)].join('.'), message: issue.message }));
  throw new ProblemError(400, 'validation', 'Invalid request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

/** Validates (and converts) a request part with a zod schema compiled once at start-up. */
export class ZodPipe<T extends ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(
    private readonly schema: T,
    private readonly part: RequestPart = 'body',
  ) {}

  transform(value: unknown): z.output<T> {
    return validated(this.schema, value, this.part);
  }
}

/** The OpenAPI form of a zod schema, for @ApiBody / @ApiResponse. */
export function openApi(schema: ZodType, io: 'input' | 'output' = 'output'): SchemaObject {
  return nullInEnums(z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' })) as SchemaObject;
}

/**
 * OpenAPI 3.0.3: `nullable` does not extend an `enum`, so a nullable enum lists null itself
 * (otherwise validators such as ajv and schemathesis refuse the null the API answers).
 */
function nullInEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullInEnums);
  if (typeof node !== 'object' || node === null) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = nullInEnums(value);
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
  return out;
}
