/** Join two tables (inner, left, right, full, anti) and concatenate tables by column name. */
import type { Column } from '../duck.ts';
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, literal } from '../sql.ts';

export const join: TransformOperator = {
  arity: 2,
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p } = ctx;
    const [left, right] = ctx.inputs as [typeof ctx.input, typeof ctx.input];
    const type = p.oneOf('type', ['inner', 'left', 'right', 'full', 'anti', 'semi'] as const, 'inner');
    const leftKeys = p.columnList('leftColumns', undefined, left.columns);
    const rightKeys = p.has('rightColumns') ? p.columnList('rightColumns', undefined, right.columns) : leftKeys.map((c) => p.findColumn(c.name, right.columns));
    if (leftKeys.length !== rightKeys.length) throw p.fail('leftColumns and rightColumns must list the same number of columns');
    const on = leftKeys.map((l, i) => `l.${ident(l.name)} = r.${ident(rightKeys[i]!.name)}`).join(' AND ');
    if (type === 'anti' || type === 'semi') {
      return { select: `SELECT l.* FROM ${ident(left.table)} AS l ${type.toUpperCase()} JOIN ${ident(right.table)} AS r ON ${on} ORDER BY l.rowid` };
    }
    let leftList: string[];
    let rightList: string[];
    if (p.has('suffixes')) {
      // Like pandas' merge (and Data Wrangler's _0 / _1): a name both sides have gets a suffix on each side.
      const [ls, rs] = p.stringArray('suffixes');
      if (ls === undefined || rs === undefined || ls === rs) throw p.fail(`'suffixes' must be two different strings, for the left and the right side`);
      const both = new Set(left.columns.map((c) => c.name).filter((n) => right.columns.some((c) => c.name === n)));
      leftList = left.columns.map((c) => `l.${ident(c.name)}${both.has(c.name) ? ` AS ${ident(c.name + ls)}` : ''}`);
      rightList = right.columns.map((c) => `r.${ident(c.name)}${both.has(c.name) ? ` AS ${ident(c.name + rs)}` : ''}`);
    } else {
      const suffix = p.string('rightSuffix', '_right');
      const taken = new Set(left.columns.map((c) => c.name));
      leftList = left.columns.map((c) => `l.${ident(c.name)}`);
      rightList = right.columns.map((c: Column) => {
        let name = c.name;
        while (taken.has(name)) name += suffix;
        taken.add(name);
        return `r.${ident(c.name)} AS ${ident(name)}`;
      });
    }
    const list = [...leftList, ...rightList];
    return { select: `SELECT ${list.join(', ')} FROM ${ident(left.table)} AS l ${type.toUpperCase()} ${type === 'inner' ? '' : 'OUTER '}JOIN ${ident(right.table)} AS r ON ${on} ORDER BY l.rowid NULLS LAST, r.rowid` };
  },
};

export const concatenate: TransformOperator = {
  arity: 'many',
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const p = ctx.params;
    const indicator = p.optionalString('indicatorColumn');
    const parts = ctx.inputs.map((r, i) => `SELECT *${indicator ? `, ${literal(ctx.node.inputs![i]!)} AS ${ident(indicator)}` : ''}, ${i} AS __part, rowid AS __rowid FROM ${ident(r.table)}`);
    const all = `SELECT * EXCLUDE (__part, __rowid) FROM (${parts.join(' UNION ALL BY NAME ')}) ORDER BY __part, __rowid`;
    if (!p.boolean('dropDuplicates', false)) return { select: all };
    return { select: `SELECT DISTINCT * FROM (${all})` };
  },
};
