// An object checked against a CRD's OpenAPI schema as the API server checks a
// custom resource on create: defaults applied first, then the structural
// rules (type, required, enum, pattern, lengths, item counts, bounds, unknown
// fields under strict field validation) and the CEL rules that the schema
// generator could say as data (x-checks). The schemas are the CRDs' own
// (gateway-schemas.ts, generated from them); nothing here is specific to a
// kind.

/** The part of an OpenAPI v3 schema (as a CRD holds it) that is checked. */
export interface CrdSchema {
  readonly type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  readonly properties?: Readonly<Record<string, CrdSchema>>;
  readonly additionalProperties?: CrdSchema | boolean;
  readonly items?: CrdSchema;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly maxItems?: number;
  readonly minItems?: number;
  readonly maxProperties?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly default?: unknown;
  readonly format?: string;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-checks'?: readonly Check[];
}

/** A condition over one object's own fields (the CEL rules of simple shapes). */
export type Condition =
  | { readonly has: string }
  | { readonly empty: string }
  | { readonly not: Condition }
  | { readonly and: readonly Condition[] }
  | { readonly eq: readonly [string, string] }
  | { readonly in: readonly [string, readonly string[]] }
  | { readonly str: readonly [string, 'startsWith' | 'contains' | 'endsWith' | 'matches', string] };

/** `if` holds, then `then` must; or: the list's items are unique by a field. */
export type Check = ({ readonly if: Condition; readonly then: Condition } | { readonly unique: string }) & { readonly message: string };

export type SchemaStep = string | number;

export interface SchemaIssue {
  readonly type: 'Required value' | 'Invalid value' | 'Unsupported value' | 'Too long' | 'Too many' | 'Duplicate value' | 'Unknown field';
  readonly at: readonly SchemaStep[];
  readonly value?: unknown;
  readonly detail: string;
  /** An unknown field: the API server refuses to decode the object under strict field validation (400). */
  readonly decode: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const clone = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/**
 * The object with the schema's defaults applied, as the API server applies
 * them (a property absent from an object gets its default; then the object's
 * children are defaulted in turn). The input is not changed.
 */
export function withDefaults(value: unknown, schema: CrdSchema): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => withDefaults(v, schema.items as CrdSchema)) : value;
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [name, s] of Object.entries(schema.properties ?? {})) {
    if (out[name] === undefined && s.default !== undefined) out[name] = clone(s.default);
    if (out[name] !== undefined) out[name] = withDefaults(out[name], s);
  }
  const extra = schema.additionalProperties;
  if (typeof extra === 'object') {
    for (const k of Object.keys(out)) if (!schema.properties?.[k]) out[k] = withDefaults(out[k], extra);
  }
  return out;
}

function field(obj: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(obj, name) ? obj[name] : undefined;
}

function holds(c: Condition, obj: Record<string, unknown>): boolean {
  if ('has' in c) return field(obj, c.has) !== undefined && field(obj, c.has) !== null;
  if ('empty' in c) {
    const v = field(obj, c.empty);
    return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
  }
  if ('not' in c) return !holds(c.not, obj);
  if ('and' in c) return c.and.every((x) => holds(x, obj));
  if ('eq' in c) return field(obj, c.eq[0]) === c.eq[1];
  if ('in' in c) return c.in[1].includes(field(obj, c.in[0]) as string);
  const v = field(obj, c.str[0]);
  if (typeof v !== 'string') return false;
  const arg = c.str[2];
  switch (c.str[1]) {
    case 'startsWith': return v.startsWith(arg);
    case 'endsWith': return v.endsWith(arg);
    case 'contains': return v.includes(arg);
    case 'matches': return compiled(arg)?.test(v) ?? true;
  }
}

const regexes = new Map<string, RegExp | undefined>();
/** A CRD's pattern (RE2) as a JS RegExp; undefined when JS cannot compile it (then it is not checked). */
function compiled(pattern: string): RegExp | undefined {
  if (!regexes.has(pattern)) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = undefined;
      }
    }
    regexes.set(pattern, re);
  }
  return regexes.get(pattern);
}

function pathText(at: readonly SchemaStep[]): string {
  let s = '';
  for (const step of at) s += typeof step === 'number' ? `[${step}]` : s ? `.${step}` : step;
  return s;
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeFits(v: unknown, schema: CrdSchema): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  const t = typeOf(v);
  switch (schema.type) {
    case undefined: return true;
    case 'number': return t === 'integer' || t === 'number';
    default: return t === schema.type;
  }
}

/**
 * What the API server would refuse in `value` (already defaulted) under
 * `schema`, each issue at the path `at` and below. An object's unknown
 * fields are reported (kubectl's default, strict field validation).
 */
export function checkSchema(value: unknown, schema: CrdSchema, at: readonly SchemaStep[] = []): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  check(value, schema, [...at], issues);
  return issues;
}

function check(value: unknown, schema: CrdSchema, at: SchemaStep[], out: SchemaIssue[]): void {
  if (value === null || value === undefined) return;
  const here = () => pathText(at);
  if (!typeFits(value, schema)) {
    out.push({ type: 'Invalid value', at: [...at], value: typeOf(value), detail: `${here()} in body must be of type ${schema['x-kubernetes-int-or-string'] ? 'integer or string' : (schema.type ?? 'any')}: ${JSON.stringify(typeOf(value))}`, decode: false });
    return;
  }
  if (schema.enum && !schema.enum.includes(value)) {
    out.push({ type: 'Unsupported value', at: [...at], value, detail: `supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`, decode: false });
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.maxLength !== undefined && length > schema.maxLength) out.push({ type: 'Too long', at: [...at], value, detail: `may not be more than ${schema.maxLength} bytes`, decode: false });
    if (schema.minLength !== undefined && length < schema.minLength) out.push({ type: 'Invalid value', at: [...at], value, detail: `${here()} in body should be at least ${schema.minLength} chars long`, decode: false });
    if (schema.pattern !== undefined && compiled(schema.pattern)?.test(value) === false) {
      out.push({ type: 'Invalid value', at: [...at], value, detail: `${here()} in body should match '${schema.pattern}'`, decode: false });
    }
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) out.push({ type: 'Invalid value', at: [...at], value, detail: `${here()} in body should be greater than or equal to ${schema.minimum}`, decode: false });
    if (schema.maximum !== undefined && value > schema.maximum) out.push({ type: 'Invalid value', at: [...at], value, detail: `${here()} in body should be less than or equal to ${schema.maximum}`, decode: false });
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) out.push({ type: 'Too many', at: [...at], value: value.length, detail: `must have at most ${schema.maxItems} items`, decode: false });
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push({ type: 'Invalid value', at: [...at], value: value.length, detail: `${here()} in body should have at least ${schema.minItems} items`, decode: false });
    if (schema.items) for (let i = 0; i < value.length; i++) check(value[i], schema.items, [...at, i], out);
  }
  if (isRecord(value)) {
    const props = schema.properties ?? {};
    for (const name of schema.required ?? []) {
      if (value[name] === undefined || value[name] === null) out.push({ type: 'Required value', at: [...at, name], detail: '', decode: false });
    }
    if (schema.maxProperties !== undefined && Object.keys(value).length > schema.maxProperties) {
      out.push({ type: 'Too many', at: [...at], value: Object.keys(value).length, detail: `must have at most ${schema.maxProperties} items`, decode: false });
    }
    const extra = schema.additionalProperties;
    for (const k of Object.keys(value)) {
      const s = Object.hasOwn(props, k) ? props[k] : undefined;
      if (s) check(value[k], s, [...at, k], out);
      else if (typeof extra === 'object') check(value[k], extra, [...at, k], out);
      else if (!extra && !schema['x-kubernetes-preserve-unknown-fields'] && schema.properties) {
        out.push({ type: 'Unknown field', at: [...at, k], detail: '', decode: true });
      }
    }
  }
  for (const c of schema['x-checks'] ?? []) {
    if ('unique' in c) {
      if (!Array.isArray(value)) continue;
      const seen = new Set<unknown>();
      for (const item of value as unknown[]) {
        const key = isRecord(item) ? item[c.unique] : undefined;
        if (key === undefined) continue;
        if (seen.has(key)) out.push({ type: 'Invalid value', at: [...at], value: 'array', detail: c.message, decode: false });
        else seen.add(key);
      }
    } else if (isRecord(value) && holds(c.if, value) && !holds(c.then, value)) {
      out.push({ type: 'Invalid value', at: [...at], value: 'object', detail: c.message, decode: false });
    }
  }
}
