/** Manage columns: drop, rename, move, duplicate, change type (cast), and compute one from a formula. */
import type { Column } from '../duck.ts';
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, sqlType } from '../sql.ts';

const OPERATORS = ['drop', 'keep', 'rename', 'move', 'duplicate', 'cast', 'formula'] as const;

const selectList = (columns: { expr: string; name: string }[]) => columns.map((c) => (c.expr === ident(c.name) ? c.expr : `${c.expr} AS ${ident(c.name)}`)).join(', ');
const asIs = (c: Column) => ({ expr: ident(c.name), name: c.name });

export const manageColumns: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const op = p.oneOf('operator', OPERATORS);
    const from = ident(input.table);
    let out: { expr: string; name: string }[];
    switch (op) {
      case 'drop': {
        const drop = new Set(p.columnList('columns').map((c) => c.name));
        out = input.columns.filter((c) => !drop.has(c.name)).map(asIs);
        if (out.length === 0) throw p.fail('dropping every column leaves nothing');
        break;
      }
      case 'keep': {
        out = p.columnList('columns').map(asIs);
        break;
      }
      case 'rename': {
        const renames = renameMap(ctx);
        const result = input.columns.map((c) => ({ expr: ident(c.name), name: renames.get(c.name) ?? c.name }));
        assertUnique(ctx, result.map((c) => c.name));
        out = result;
        break;
      }
      case 'move': {
        const moving = p.columnList('columns').map((c) => c.name);
        const rest = input.columns.filter((c) => !moving.includes(c.name));
        const position = p.oneOf('position', ['start', 'end', 'after', 'before', 'index'] as const, 'end');
        let at: number;
        if (position === 'start') at = 0;
        else if (position === 'end') at = rest.length;
        else if (position === 'index') at = Math.max(0, Math.min(rest.length, Math.trunc(p.number('index'))));
        else {
          const target = p.findColumn(p.string('target'), rest);
          at = rest.indexOf(target) + (position === 'after' ? 1 : 0);
        }
        const moved = moving.map((n) => input.columns.find((c) => c.name === n)!);
        out = [...rest.slice(0, at), ...moved, ...rest.slice(at)].map(asIs);
        break;
      }
      case 'duplicate': {
        const source = p.column('column');
        const name = p.string('newName');
        assertUnique(ctx, [...input.columns.map((c) => c.name), name]);
        out = [...input.columns.map(asIs), { expr: ident(source.name), name }];
        break;
      }
      case 'formula': {
        // A SQL expression over the row; its column replaces one of the same name, or comes last.
        const expression = p.string('expression');
        if (/;/.test(expression)) throw p.fail('the formula must be a single SQL expression');
        const name = p.string('outputColumn');
        const computed = { expr: `(${expression})`, name };
        out = input.columns.some((c) => c.name === name) ? input.columns.map((c) => (c.name === name ? computed : asIs(c))) : [...input.columns.map(asIs), computed];
        break;
      }
      case 'cast': {
        const types = castMap(ctx);
        // Data Wrangler turns values that do not parse into missing values; onError=fail stops instead.
        const cast = p.oneOf('onError', ['null', 'fail'] as const, 'null') === 'null' ? 'TRY_CAST' : 'CAST';
        out = input.columns.map((c) => {
          const type = types.get(c.name);
          return type ? { expr: `${cast}(${ident(c.name)} AS ${type})`, name: c.name } : asIs(c);
        });
        break;
      }
    }
    return { select: `SELECT ${selectList(out)} FROM ${from}` };
  },
};

function renameMap(ctx: CompileContext): Map<string, string> {
  const p = ctx.params;
  const map = new Map<string, string>();
  const given = p.raw('renames');
  if (given !== undefined) {
    if (!given || typeof given !== 'object' || Array.isArray(given)) throw p.fail(`parameter 'renames' must map old names to new names`);
    for (const [from, to] of Object.entries(given)) {
      if (typeof to !== 'string' || to === '') throw p.fail(`new name for '${from}' must be a non-empty string`);
      map.set(p.findColumn(from).name, to);
    }
  } else {
    map.set(p.column('column').name, p.string('newName'));
  }
  return map;
}

function castMap(ctx: CompileContext): Map<string, string> {
  const p = ctx.params;
  const map = new Map<string, string>();
  const given = p.raw('types');
  const toType = (t: unknown, column: string) => {
    if (typeof t !== 'string') throw p.fail(`type for '${column}' must be a string`);
    try {
      return sqlType(t);
    } catch (e) {
      throw p.fail(`column '${column}': ${(e as Error).message}`);
    }
  };
  if (given !== undefined) {
    if (!given || typeof given !== 'object' || Array.isArray(given)) throw p.fail(`parameter 'types' must map column names to types`);
    for (const [column, type] of Object.entries(given)) map.set(p.findColumn(column).name, toType(type, column));
  } else {
    for (const c of p.columnList('columns', undefined)) map.set(c.name, toType(p.string('type'), c.name));
  }
  return map;
}

function assertUnique(ctx: CompileContext, names: string[]): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw ctx.params.fail(`the result would have two columns named '${n}'`);
    seen.add(n);
  }
}
