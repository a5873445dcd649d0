import type { OpenAPIObject } from '@nestjs/swagger';

/** RFC 9457: what every refusal answers (extensions such as `errors`, `headSeq` or `retryAfter` vary). */
export const PROBLEM_SCHEMA = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', description: 'urn:keyward:problem:<name>' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string' },
  },
  additionalProperties: true,
} as const;

/** Every operation's other answers: a problem document (`default`), unless the route says more. */
export function describeProblems(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = item[method];
      if (!operation) continue;
      // A read never becomes an approval request: the 202 a controller documents is its commands'.
      if (method === 'get') delete operation.responses['202'];
      // Every refusal leaves through the problem filter, whatever a library documented (terminus: 503 of /health/ready).
      for (const [code, response] of Object.entries(operation.responses)) {
        if (/^[45]/.test(code) && response !== undefined && 'description' in response)
          operation.responses[code] = { description: response.description, content: problemContent() };
      }
      operation.responses.default = {
        description: 'RFC 9457 problem document',
        content: problemContent(),
      };
    }
  }
}

function problemContent() {
  return { 'application/problem+json': { schema: { ...PROBLEM_SCHEMA, required: [...PROBLEM_SCHEMA.required] } } };
}
