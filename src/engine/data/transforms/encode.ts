/** Encode categorical: one-hot (as columns or as one vector column) and ordinal. Categories are fitted on the input. */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import type { Value } from '../duck.ts';
import { ident, literal } from '../sql.ts';

type Category = string | number | boolean;

/**
 * Each column's categories, in one pass over the input (one grouping set per column): up to
 * `max + 1` values, so a column with too many shows, ordered by value or by frequency (then
 * value); and how many rows miss a value.
 */
async function fitCategories(ctx: CompileContext, columns: string[], order: 'value' | 'frequency', max: number): Promise<Map<string, { values: Category[]; missing: number }>> {
  const names = [...new Set(columns)];
  const cols = names.map(ident);
  const set = `CASE ${cols.map((c, i) => `WHEN GROUPING(${c}) = 0 THEN ${i}`).join(' ')} END`;
  // Within a column's set every other column is NULL, so ordering by all of them orders by that one.
  const ranking = `${order === 'frequency' ? '__count DESC, ' : ''}${cols.join(', ')}`;
  const rows = await ctx.query(
    `SELECT ${set} AS __set, ${cols.join(', ')}, count(*) AS __count FROM ${ident(ctx.input.table)} GROUP BY GROUPING SETS (${cols.map((c) => `(${c})`).join(', ')})` +
      ` QUALIFY row_number() OVER (PARTITION BY __set ORDER BY ${ranking}) <= ${max + 2} ORDER BY __set, ${ranking}`,
  );
  const fitted = new Map(names.map((n) => [n, { values: [] as Category[], missing: 0 }]));
  for (const r of rows) {
    const name = names[Number(r.__set)]!;
    const entry = fitted.get(name)!;
    const v: Value = r[name]!;
    if (v === null) entry.missing = Number(r.__count);
    else if (entry.values.length <= max) entry.values.push(v as Category);
  }
  return fitted;
}

export const encodeCategorical: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    const op = p.oneOf('operator', ['one_hot', 'ordinal'] as const);
    const columns = p.columnList('columns');
    const maxCategories = p.number('maxCategories', 100);
    // Data Wrangler's "invalid handling": what a missing value becomes.
    const invalid = p.oneOf('invalidHandling', ['keep', 'skip', 'error'] as const, 'keep');
    const categories = await fitCategories(ctx, columns.map((c) => c.name), op === 'ordinal' ? 'frequency' : 'value', maxCategories);
    for (const c of columns) {
      const { values, missing } = categories.get(c.name)!;
      if (values.length > maxCategories) throw p.fail(`column '${c.name}' has more than ${maxCategories} categories; raise maxCategories or drop the column`);
      if (invalid === 'error' && missing > 0) throw p.fail(`column '${c.name}' has ${missing} missing values (invalidHandling = error)`);
    }
    const where = invalid === 'skip' ? ` WHERE ${columns.map((c) => `${ident(c.name)} IS NOT NULL`).join(' AND ')}` : '';
    const list: string[] = [];
    if (op === 'ordinal') {
      for (const c of input.columns) {
        const values = categories.get(c.name)?.values;
        if (!values) list.push(ident(c.name));
        else {
          const cases = values.map((v, i) => `WHEN ${literal(v)} THEN ${i}`).join(' ');
          list.push(values.length ? `CAST(CASE ${ident(c.name)} ${cases} END AS INTEGER) AS ${ident(c.name)}` : `CAST(NULL AS INTEGER) AS ${ident(c.name)}`);
        }
      }
      return { select: `SELECT ${list.join(', ')} FROM ${from}${where}` };
    }
    const style = p.oneOf('outputStyle', ['columns', 'vector'] as const, 'columns');
    const dropLast = p.boolean('dropLast', false);
    const taken = new Set(input.columns.map((c) => c.name));
    for (const c of input.columns) {
      const all = categories.get(c.name)?.values;
      if (!all) {
        list.push(ident(c.name));
        continue;
      }
      const values = dropLast ? all.slice(0, -1) : all;
      const indicator = (v: string | number | boolean) => `CAST(${ident(c.name)} IS NOT DISTINCT FROM ${literal(v)} AS INTEGER)`;
      if (style === 'vector') {
        list.push(`[${values.map(indicator).join(', ')}]::INTEGER[] AS ${ident(c.name)}`);
        continue;
      }
      const prefix = p.string('prefix', '') || `${c.name}_`;
      for (const v of values) {
        let name = `${prefix}${String(v)}`;
        while (taken.has(name)) name = `${name}_`;
        taken.add(name);
        list.push(`${indicator(v)} AS ${ident(name)}`);
      }
    }
    return { select: `SELECT ${list.join(', ')} FROM ${from}${where}` };
  },
};
