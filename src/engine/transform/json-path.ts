/**
 * The JSONPath subset batch transform's DataProcessing filters accept: `$` (the record), `.name`
 * and `['name']` (children, `['a','b']` for several), `[n]` and `[n,m]` (array indices,
 * negative from the end), `[start:end]` (slices) and `*` / `[*]` (all children).
 *
 * A path that can only select one value (no union, slice or wildcard) yields that value;
 * any other path yields the array of what it selected, as SageMaker's filters do.
 */

type Step =
  | { kind: 'names'; names: string[] }
  | { kind: 'indices'; indices: number[] }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'all' };

export class JsonPathError extends Error {}

export interface JsonPath {
  readonly text: string;
  /** True when the path may select several values (its result is then always an array). */
  readonly multi: boolean;
  select(value: unknown): unknown;
}

function parseBracket(body: string, text: string): Step {
  const inner = body.trim();
  if (inner === '*') return { kind: 'all' };
  const slice = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(inner);
  if (slice) {
    return { kind: 'slice', ...(slice[1] !== undefined ? { start: Number(slice[1]) } : {}), ...(slice[2] !== undefined ? { end: Number(slice[2]) } : {}) };
  }
  const parts = inner.split(',').map((p) => p.trim());
  if (parts.every((p) => /^-?\d+$/.test(p))) return { kind: 'indices', indices: parts.map(Number) };
  if (parts.every((p) => /^'[^']*'$|^"[^"]*"$/.test(p))) return { kind: 'names', names: parts.map((p) => p.slice(1, -1)) };
  throw new JsonPathError(`Unsupported JSONPath subscript [${body}] in '${text}'.`);
}

export function parseJsonPath(text: string): JsonPath {
  const source = text.trim();
  if (!source.startsWith('$')) throw new JsonPathError(`A JSONPath expression starts with '$': '${text}'.`);
  const steps: Step[] = [];
  let i = 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '.') {
      if (source[i + 1] === '.') throw new JsonPathError(`Recursive descent (..) is not supported in '${text}'.`);
      const m = /^\.(\*|[A-Za-z_$][\w$-]*)/.exec(source.slice(i));
      if (!m) throw new JsonPathError(`Expected a member name after '.' at position ${i} of '${text}'.`);
      steps.push(m[1] === '*' ? { kind: 'all' } : { kind: 'names', names: [m[1]!] });
      i += m[0].length;
    } else if (c === '[') {
      let j = i + 1;
      let quote: string | undefined;
      while (j < source.length && (quote || source[j] !== ']')) {
        const ch = source[j]!;
        if (quote) {
          if (ch === quote) quote = undefined;
        } else if (ch === "'" || ch === '"') quote = ch;
        j++;
      }
      if (j >= source.length) throw new JsonPathError(`Unclosed '[' in '${text}'.`);
      steps.push(parseBracket(source.slice(i + 1, j), text));
      i = j + 1;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      throw new JsonPathError(`Unexpected '${c}' at position ${i} of '${text}'.`);
    }
  }
  const multi = steps.some((s) => s.kind === 'all' || s.kind === 'slice' || (s.kind === 'names' && s.names.length > 1) || (s.kind === 'indices' && s.indices.length > 1));
  return {
    text: source,
    multi,
    select(value: unknown): unknown {
      let current: unknown[] = [value];
      for (const step of steps) current = current.flatMap((v) => apply(step, v));
      if (multi) return current;
      if (!current.length) throw new JsonPathError(`JSONPath '${source}' selects nothing in the record.`);
      return current[0];
    },
  };
}

function apply(step: Step, value: unknown): unknown[] {
  if (step.kind === 'names') {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
    const o = value as Record<string, unknown>;
    return step.names.filter((n) => n in o).map((n) => o[n]);
  }
  if (step.kind === 'all') {
    if (Array.isArray(value)) return value;
    if (value && typeof value === 'object') return Object.values(value);
    return [];
  }
  if (!Array.isArray(value)) return [];
  const n = value.length;
  if (step.kind === 'indices') {
    return step.indices.map((k) => (k < 0 ? n + k : k)).filter((k) => k >= 0 && k < n).map((k) => value[k]);
  }
  const norm = (k: number) => (k < 0 ? Math.max(0, n + k) : Math.min(k, n));
  return value.slice(norm(step.start ?? 0), norm(step.end ?? n));
}
