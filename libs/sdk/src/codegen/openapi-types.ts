/**
 * TypeScript types from key-api's served OpenAPI 3.0 document (`npm run sdk:generate` writes them
 * to libs/sdk/src/generated/openapi.ts). A small generator over the JSON schema subset Nest and
 * zod emit (objects, arrays, enums, nullable, anyOf/oneOf/allOf, $ref to components): one `paths`
 * interface, keyed by path and method, with each operation's path and query parameters, request
 * body and JSON answers by status, the shape openapi-typescript gives.
 */

/** The parts of an OpenAPI document the generator reads. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info?: { readonly title?: string; readonly version?: string };
  readonly paths: Readonly<Record<string, Readonly<Record<string, OpenApiOperation>>>>;
  readonly components?: { readonly schemas?: Readonly<Record<string, JsonSchema>> };
}

export interface OpenApiOperation {
  readonly operationId?: string;
  readonly summary?: string;
  readonly parameters?: readonly {
    readonly name: string;
    readonly in: string;
    readonly required?: boolean;
    readonly schema?: JsonSchema;
  }[];
  readonly requestBody?: { readonly required?: boolean; readonly content?: Readonly<Record<string, { readonly schema?: JsonSchema }>> };
  readonly responses?: Readonly<Record<string, { readonly content?: Readonly<Record<string, { readonly schema?: JsonSchema }>> }>>;
}

export interface JsonSchema {
  readonly $ref?: string;
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly nullable?: boolean;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly description?: string;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const propertyName = (name: string): string => (IDENTIFIER.test(name) ? name : JSON.stringify(name));
const indent = (text: string, by = '  '): string => text.replace(/\n/g, `\n${by}`);
const comment = (text: string | undefined, pad: string): string =>
  text === undefined || text === '' ? '' : `${pad}/** ${text.replace(/\*\//g, '*\\/').replace(/\s*\n\s*/g, ' ')} */\n`;

/** The TypeScript type of a schema (answers `unknown` for an empty one). */
export function schemaType(schema: JsonSchema | undefined): string {
  if (schema === undefined) return 'unknown';
  const base = baseType(schema);
  return schema.nullable === true && base !== 'unknown' ? `${base} | null` : base;
}

function baseType(schema: JsonSchema): string {
  if (schema.$ref !== undefined) return `components['schemas'][${JSON.stringify(schema.$ref.replace('#/components/schemas/', ''))}]`;
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum !== undefined) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = schema.anyOf ?? schema.oneOf;
  if (union !== undefined) return union.map((s) => parenthesised(schemaType(s))).join(' | ');
  if (schema.allOf !== undefined) return schema.allOf.map((s) => parenthesised(schemaType(s))).join(' & ');
  const type: readonly string[] = typeof schema.type === 'string' ? [schema.type] : (schema.type ?? []);
  if (type.length > 1) return type.map((t) => baseType({ ...schema, type: t })).join(' | ');
  switch (type[0]) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `${parenthesised(schemaType(schema.items))}[]`;
    case 'object':
      return objectType(schema);
    default:
      return schema.properties === undefined ? 'unknown' : objectType(schema);
  }
}

const parenthesised = (type: string): string => (/[|&]/.test(type) ? `(${type})` : type);

function objectType(schema: JsonSchema): string {
  const required = new Set(schema.required ?? []);
  const lines = Object.entries(schema.properties ?? {}).map(
    ([name, property]) =>
      `${comment(property.description, '  ')}  ${propertyName(name)}${required.has(name) ? '' : '?'}: ${indent(schemaType(property))};`,
  );
  const extra = schema.additionalProperties;
  if (typeof extra === 'object') lines.push(`  [key: string]: ${indent(schemaType(extra))};`);
  else if (extra === true || (extra === undefined && schema.properties === undefined)) lines.push('  [key: string]: unknown;');
  return lines.length === 0 ? 'Record<string, never>' : `{\n${lines.join('\n')}\n}`;
}

/** Path or query parameters of an operation as one object type (a query object parameter is spread). */
function parametersType(operation: OpenApiOperation, where: 'path' | 'query'): string | undefined {
  const own = (operation.parameters ?? []).filter((p) => p.in === where);
  if (own.length === 0) return undefined;
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const parameter of own) {
    const schema = parameter.schema ?? {};
    if (where === 'query' && schema.type === 'object' && schema.properties !== undefined) {
      Object.assign(properties, schema.properties);
      if (parameter.required === true) required.push(...(schema.required ?? []));
    } else {
      properties[parameter.name] = schema;
      if (parameter.required === true || where === 'path') required.push(parameter.name);
    }
  }
  return objectType({ properties, required, additionalProperties: false });
}

function operationType(operation: OpenApiOperation): string {
  const lines: string[] = [];
  const path = parametersType(operation, 'path');
  const query = parametersType(operation, 'query');
  lines.push(
    `parameters: {\n  path: ${path === undefined ? 'never' : indent(path)};\n  query: ${query === undefined ? 'never' : indent(query)};\n};`,
  );
  const body = operation.requestBody?.content?.['application/json']?.schema;
  lines.push(
    `requestBody: ${body === undefined ? 'never' : `${operation.requestBody?.required === true ? '' : 'undefined | '}${schemaType(body)}`};`,
  );
  const responses = Object.entries(operation.responses ?? {}).map(([status, response]) => {
    const json = response.content?.['application/json'];
    return `${propertyName(status)}: ${json === undefined ? 'unknown' : schemaType(json.schema)};`;
  });
  lines.push(`responses: {\n  ${indent(responses.join('\n'))}\n};`);
  return `{\n  ${indent(lines.join('\n'))}\n}`;
}

/** The whole generated module for a document. */
export function generateOpenApiTypes(document: OpenApiDocument): string {
  const out: string[] = [
    '// Generated by `npm run sdk:generate` from the OpenAPI document key-api serves at /docs/json.',
    '// Do not edit: change the API, then regenerate (test/sdk/sdk.e2e-spec.ts fails while this file is stale).',
    '/* eslint-disable */',
    '',
    `/** ${document.info?.title ?? 'API'} ${document.info?.version ?? ''} (OpenAPI ${document.openapi}) */`,
    'export interface paths {',
  ];
  for (const path of Object.keys(document.paths).sort()) {
    const item = document.paths[path] ?? {};
    const methods = METHODS.filter((m) => item[m] !== undefined);
    out.push(`  ${JSON.stringify(path)}: {`);
    for (const method of methods) {
      const operation = item[method] as OpenApiOperation;
      out.push(`${comment(operation.summary ?? operation.operationId, '    ')}    ${method}: ${indent(operationType(operation), '    ')};`);
    }
    out.push('  };');
  }
  out.push('}', '', 'export interface components {', '  schemas: {');
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`    ${propertyName(name)}: ${indent(schemaType(schema), '    ')};`);
  }
  out.push('  };', '}', '');
  return out.join('\n');
}
