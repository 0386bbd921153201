/** Encode categorical: one-hot (as columns or as one vector column) and ordinal. Categories are fitted on the input. */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, literal } from '../sql.ts';

export const encodeCategorical: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    const op = p.oneOf('operator', ['one_hot', 'ordinal'] as const);
    const columns = p.columnList('columns');
    const maxCategories = p.number('maxCategories', 100);
    // Data Wrangler's "invalid handling": what a missing value becomes.
    const invalid = p.oneOf('invalidHandling', ['keep', 'skip', 'error'] as const, 'keep');
    const categories = new Map<string, (string | number | boolean)[]>();
    for (const c of columns) {
      const col = ident(c.name);
      const order = op === 'ordinal' ? `count(*) DESC, ${col}` : col;
      const rows = await ctx.query(`SELECT ${col} AS v FROM ${from} WHERE ${col} IS NOT NULL GROUP BY ${col} ORDER BY ${order} LIMIT ${maxCategories + 1}`);
      if (rows.length > maxCategories) throw p.fail(`column '${c.name}' has more than ${maxCategories} categories; raise maxCategories or drop the column`);
      categories.set(c.name, rows.map((r) => r.v as string | number | boolean));
      if (invalid === 'error') {
        const nulls = await ctx.query(`SELECT count(*) AS n FROM ${from} WHERE ${col} IS NULL`);
        if (Number(nulls[0]!.n) > 0) throw p.fail(`column '${c.name}' has ${nulls[0]!.n} missing values (invalidHandling = error)`);
      }
    }
    const where = invalid === 'skip' ? ` WHERE ${columns.map((c) => `${ident(c.name)} IS NOT NULL`).join(' AND ')}` : '';
    const list: string[] = [];
    if (op === 'ordinal') {
      for (const c of input.columns) {
        const values = categories.get(c.name);
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
      const all = categories.get(c.name);
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
