import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** The parts of an OpenAPI 3.0 document the check reads. */
interface OpenApiDocument {
  readonly paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>>;
}

/** One answer, as the e2e request helper received it. */
export interface Answer {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

interface Route {
  readonly template: string;
  readonly pattern: RegExp;
  /** Literal segments: a literal route wins over a templated one that also matches. */
  readonly literals: number;
}

/**
 * The OpenAPI document a key-api serves, as a check of its answers: every JSON answer of a
 * documented route must have a documented status (or `default`) and match its schema (ajv, OpenAPI
 * 3.0 `nullable`). Answers of routes the document does not list (health, metrics, unknown paths)
 * are not checked. Used by the e2e request helper (service-process.ts) on every key-api answer.
 */
export class OpenApiConformance {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  private readonly routes: Route[];
  private readonly compiled = new Map<object, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.routes = Object.keys(document.paths)
      .map((template) => {
        const segments = template.split('/');
        const pattern = new RegExp(
          `^${segments.map((s) => (/^\{\w+\}$/.test(s) ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`,
        );
        return { template, pattern, literals: segments.filter((s) => !s.startsWith('{')).length };
      })
      .sort((a, b) => b.literals - a.literals);
  }

  /** What is wrong with an answer, or null when the served document describes it. */
  violation(answer: Answer): string | null {
    const type = (answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && type !== 'application/problem+json') return null;
    const path = answer.path.split('?')[0]!;
    const route = this.routes.find((r) => r.pattern.test(path));
    const operation = route ? this.document.paths[route.template]![answer.method.toLowerCase()] : undefined;
    if (!route || !operation) return null;
    const where = `${answer.method} ${route.template} answered ${answer.status} ${type}`;
    const responses = operation.responses ?? {};
    const response = responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`] ?? responses.default;
    if (!response) return `${where}: status not in the served document (documented: ${Object.keys(responses).join(', ')})`;
    // A response without any content (Nest's health routes) documents the status only.
    if (response.content === undefined) return null;
    const content = response.content[type] ?? (type === 'application/problem+json' ? response.content['application/json'] : undefined);
    if (!content)
      return `${where}: the served document gives this status no ${type} content (${Object.keys(response.content ?? {}).join(', ') || 'none'})`;
    if (!content.schema) return null;
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      return `${where}: the body is not JSON`;
    }
    let validate = this.compiled.get(content.schema);
    if (!validate) {
      validate = this.ajv.compile(content.schema);
      this.compiled.set(content.schema, validate);
    }
    if (validate(body)) return null;
    const errors = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath || '/'} ${e.message ?? ''}${'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`,
    );
    return `${where}: the body does not match the served schema: ${errors.join('; ')}`;
  }
}
