/**
 * SageMaker's SearchExpression over records shaped as Search returns them: Filters on
 * dotted property names (Parameters.batch_size, Metrics.loss.Min, Tags.team,
 * Parents.ExperimentName), NestedFilters that must hold for one element of a list, and
 * SubExpressions joined by And/Or. Compiled once, then run against every record.
 */
import { AwsError } from '../../server/errors.ts';

export interface Filter {
  Name: string;
  Operator?: string;
  Value?: string;
}

export interface SearchExpression {
  Filters?: Filter[];
  NestedFilters?: { NestedPropertyName: string; Filters: Filter[] }[];
  SubExpressions?: SearchExpression[];
  Operator?: 'And' | 'Or';
}

export type SearchRecord = Record<string, unknown>;
export type Predicate = (record: SearchRecord) => boolean;

/**
 * Every value at a dotted path. Keys may themselves hold dots (a metric named "val.loss"),
 * so the longest key present wins at each level; lists are searched element by element.
 */
export function valuesAt(value: unknown, segments: string[]): unknown[] {
  return compilePath(segments)(value);
}

/** A path compiled once: the candidate keys at each depth are joined ahead of time. */
export function compilePath(segments: string[]): (value: unknown) => unknown[] {
  // keys[i][k - 1] is segments i..i+k-1 joined with dots.
  const keys = segments.map((_, i) => segments.slice(i).map((__, k) => segments.slice(i, i + k + 1).join('.')));
  const walk = (value: unknown, i: number, out: unknown[]): void => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const v of value) walk(v, i, out);
      return;
    }
    if (i === segments.length) {
      out.push(value);
      return;
    }
    if (typeof value !== 'object' || value instanceof Date) return;
    const obj = value as Record<string, unknown>;
    const candidates = keys[i]!;
    for (let k = candidates.length; k >= 1; k--) {
      const key = candidates[k - 1]!;
      if (key in obj) return walk(obj[key], i + k, out);
    }
  };
  return (value) => {
    const out: unknown[] = [];
    walk(value, 0, out);
    return out;
  };
}

/** A trial component parameter ({NumberValue} or {StringValue}) compares as its value. */
function scalar(v: unknown): unknown {
  if (v && typeof v === 'object' && !(v instanceof Date)) {
    const p = v as { NumberValue?: number; StringValue?: string };
    if (p.NumberValue !== undefined) return p.NumberValue;
    if (p.StringValue !== undefined) return p.StringValue;
    return undefined;
  }
  return v;
}

function parseTime(text: string, name: string): number {
  const t = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (Number.isNaN(t)) throw new AwsError('ValidationException', `The value '${text}' for filter '${name}' is not a valid timestamp.`);
  return t;
}

function parseNumber(text: string, name: string): number {
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) throw new AwsError('ValidationException', `The value '${text}' for filter '${name}' is not a number, and '${name}' is numeric.`);
  return n;
}

/** -1, 0 or 1 for a record's value against the filter's text, in the value's own type. */
function compareTo(v: unknown, text: string, name: string): number {
  if (typeof v === 'number') return Math.sign(v - parseNumber(text, name));
  if (v instanceof Date) return Math.sign(v.getTime() - parseTime(text, name));
  const s = String(v);
  return s < text ? -1 : s > text ? 1 : 0;
}

function compileFilter(f: Filter, prefix = ''): Predicate {
  if (prefix && !f.Name.startsWith(`${prefix}.`)) {
    throw new AwsError('ValidationException', `Filter '${f.Name}' in NestedFilters must name a property of '${prefix}' (start with '${prefix}.').`);
  }
  const path = compilePath((prefix ? f.Name.slice(prefix.length + 1) : f.Name).split('.'));
  const op = f.Operator ?? 'Equals';
  const text = f.Value;
  const values = (r: SearchRecord) => path(r).map(scalar).filter((v) => v !== undefined && v !== null);
  if (op === 'Exists') return (r) => values(r).length > 0;
  if (op === 'NotExists') return (r) => values(r).length === 0;
  if (text === undefined) throw new AwsError('ValidationException', `Filter '${f.Name}' with operator ${op} needs a Value.`);
  switch (op) {
    case 'Equals':
      return (r) => values(r).some((v) => compareTo(v, text, f.Name) === 0);
    case 'NotEquals':
      return (r) => values(r).every((v) => compareTo(v, text, f.Name) !== 0);
    case 'GreaterThan':
      return (r) => values(r).some((v) => compareTo(v, text, f.Name) > 0);
    case 'GreaterThanOrEqualTo':
      return (r) => values(r).some((v) => compareTo(v, text, f.Name) >= 0);
    case 'LessThan':
      return (r) => values(r).some((v) => compareTo(v, text, f.Name) < 0);
    case 'LessThanOrEqualTo':
      return (r) => values(r).some((v) => compareTo(v, text, f.Name) <= 0);
    case 'Contains':
      return (r) => values(r).some((v) => typeof v === 'string' && v.includes(text));
    case 'In': {
      const options = text.split(',').map((o) => o.trim());
      return (r) => values(r).some((v) => options.some((o) => compareTo(v, o, f.Name) === 0));
    }
    default:
      throw new AwsError('ValidationException', `Operator '${op}' is not supported.`);
  }
}

function countContains(e: SearchExpression): number {
  const own = [...(e.Filters ?? []), ...(e.NestedFilters ?? []).flatMap((n) => n.Filters)].filter((f) => f.Operator === 'Contains').length;
  return own + (e.SubExpressions ?? []).reduce((n, s) => n + countContains(s), 0);
}

function compileExpression(e: SearchExpression): Predicate {
  const parts: Predicate[] = [
    ...(e.Filters ?? []).map((f) => compileFilter(f)),
    ...(e.NestedFilters ?? []).map((n) => {
      const path = compilePath(n.NestedPropertyName.split('.'));
      const all = n.Filters.map((f) => compileFilter(f, n.NestedPropertyName));
      return (r: SearchRecord) => path(r).some((element) => all.every((p) => p(element as SearchRecord)));
    }),
    ...(e.SubExpressions ?? []).map(compileExpression),
  ];
  if (!parts.length) return () => true;
  return e.Operator === 'Or' ? (r) => parts.some((p) => p(r)) : (r) => parts.every((p) => p(r));
}

export function compileSearchExpression(e: SearchExpression | undefined): Predicate {
  if (!e) return () => true;
  if (countContains(e) > 1) throw new AwsError('ValidationException', 'A SearchExpression can contain at most one Contains operator.');
  return compileExpression(e);
}

/** Orders records by a property (missing values last in either order), then by a tiebreak key. */
export function sortRecords<R>(records: R[], view: (r: R) => SearchRecord, sortBy: string, order: 'Ascending' | 'Descending', tiebreak: (r: R) => string): R[] {
  const path = compilePath(sortBy.split('.'));
  const keyed = records.map((r) => {
    const v = scalar(path(view(r))[0]);
    return { r, v: v instanceof Date ? v.getTime() : v, t: tiebreak(r) };
  });
  const sign = order === 'Ascending' ? 1 : -1;
  keyed.sort((a, b) => {
    const am = a.v === undefined || a.v === null;
    const bm = b.v === undefined || b.v === null;
    if (am || bm) return am && bm ? (a.t < b.t ? -1 : a.t > b.t ? 1 : 0) : am ? 1 : -1;
    const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v) < String(b.v) ? -1 : String(a.v) > String(b.v) ? 1 : 0;
    if (c !== 0) return sign * c;
    return sign * (a.t < b.t ? -1 : a.t > b.t ? 1 : 0);
  });
  return keyed.map((k) => k.r);
}
