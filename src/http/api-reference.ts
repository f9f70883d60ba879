import type { OpenApiDocument } from './api-route.ts';

/** A JSON Schema as zod emits it (2020-12), read only as far as the reference page needs. */
type Schema = {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
};

/** One line of a schema table: a field's dotted path, its type, whether it must be there, and notes. */
export type SchemaField = { name: string; type: string; required: boolean; notes: string };

export type ReferenceOperation = {
  id: string;
  method: string;
  path: string;
  summary: string;
  scopes: string[];
  parameters: SchemaField[];
  request: SchemaField[] | undefined;
  status: string;
  response: SchemaField[] | undefined;
};

export type ReferenceSection = { id: string; tag: string; operations: ReferenceOperation[] };

type Operation = OpenApiDocument['paths'][string][string] & {
  parameters?: { name: string; in: string; required: boolean; schema: Schema }[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  responses?: Record<string, { content?: { 'application/json': { schema: Schema } } }>;
};

// Deep enough for every response of ours; a deeper schema is still in /api/openapi.json.
const MAX_DEPTH = 4;

/**
 * The API reference page's content, read from the same OpenAPI document /api/openapi.json serves:
 * one section per tag (in the order the tags first appear), each operation with its scopes, its
 * parameters, and its request and response bodies as tables of fields.
 */
export function apiReference(document: OpenApiDocument): ReferenceSection[] {
  const sections = new Map<string, ReferenceSection>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const operation = raw as Operation;
      const tag = operation.tags[0] ?? 'Other';
      let section = sections.get(tag);
      if (!section) {
        section = { id: anchor(tag), tag, operations: [] };
        sections.set(tag, section);
      }
      const [status, success] =
        Object.entries(operation.responses ?? {}).find(([code]) => code !== 'default') ?? (['200', undefined] as const);
      const body = operation.requestBody?.content['application/json'].schema;
      const answer = success?.content?.['application/json'].schema;
      section.operations.push({
        id: anchor(`${method} ${path}`),
        method: method.toUpperCase(),
        path,
        summary: operation.summary,
        scopes: operation.security[0]?.bearer ?? [],
        parameters: (operation.parameters ?? []).map((parameter) => ({
          ...describe(parameter.schema),
          name: parameter.in === 'query' ? `?${parameter.name}` : `{${parameter.name}}`,
          required: parameter.required,
        })),
        request: body && fields(body),
        status,
        response: answer && fields(answer),
      });
    }
  }
  return [...sections.values()];
}

/** "POST /api/organizations/{id}/members" → "post-api-organizations-id-members": an id for a link. */
function anchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** A body as rows: its own type when it is not an object, else each property, nested ones dotted. */
function fields(schema: Schema): SchemaField[] {
  const rows: SchemaField[] = [];
  const walk = (current: Schema, prefix: string, depth: number) => {
    const objects = [current, ...(current.anyOf ?? []), ...(current.oneOf ?? [])].filter((part) => part.properties);
    for (const object of objects) {
      for (const [name, property] of Object.entries(object.properties ?? {})) {
        const path = prefix ? `${prefix}.${name}` : name;
        if (rows.some((row) => row.name === path)) continue;
        rows.push({ name: path, ...describe(property), required: (object.required ?? []).includes(name) });
        if (depth >= MAX_DEPTH) continue;
        walk(property, path, depth + 1);
        if (property.items) walk(property.items, `${path}[]`, depth + 1);
      }
    }
  };
  walk(schema, '', 0);
  if (rows.length === 0) rows.push({ name: '(body)', ...describe(schema), required: true });
  return rows;
}

function describe(schema: Schema): { type: string; notes: string } {
  const notes: string[] = [];
  if (schema.description) notes.push(schema.description);
  if (schema.enum) notes.push(`one of ${schema.enum.map((value) => JSON.stringify(value)).join(', ')}`);
  if (schema.default !== undefined) notes.push(`default ${JSON.stringify(schema.default)}`);
  if (schema.minLength !== undefined && schema.maxLength !== undefined)
    notes.push(`${schema.minLength} to ${schema.maxLength} characters`);
  else if (schema.maxLength !== undefined) notes.push(`at most ${schema.maxLength} characters`);
  else if (schema.minLength !== undefined) notes.push(`at least ${schema.minLength} characters`);
  // zod bounds every integer to the safe range; only a bound of the route's own is worth saying.
  const minimum = schema.minimum === Number.MIN_SAFE_INTEGER ? undefined : schema.minimum;
  const maximum = schema.maximum === Number.MAX_SAFE_INTEGER ? undefined : schema.maximum;
  if (minimum !== undefined && maximum !== undefined) notes.push(`from ${minimum} to ${maximum}`);
  else if (minimum !== undefined) notes.push(`at least ${minimum}`);
  else if (maximum !== undefined) notes.push(`at most ${maximum}`);
  return { type: typeOf(schema), notes: notes.join('; ') };
}

function typeOf(schema: Schema): string {
  if (schema.$ref) return schema.$ref.split('/').pop() ?? 'object';
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return [...new Set(union.map(typeOf))].join(' or ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : ['any'];
  return types
    .map((type) => {
      if (type === 'array') return `array of ${schema.items ? typeOf(schema.items) : 'any'}`;
      if (type === 'string' && schema.format) return `string (${schema.format})`;
      return type;
    })
    .join(' or ');
}
