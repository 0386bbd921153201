/** Handle missing values: drop rows, fill with a value, impute mean / median / approximate median / mode. */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, isNumericType, literal } from '../sql.ts';
import { Fit } from './fit.ts';

const STRATEGIES = ['mean', 'median', 'approximate_median', 'mode'] as const;

export const handleMissing: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    const op = p.oneOf('operator', ['drop', 'fill', 'impute'] as const);
    const columns = p.columnList('columns', op === 'drop' ? input.columns : undefined);
    if (op === 'drop') {
      return { select: `SELECT * FROM ${from} WHERE ${columns.map((c) => `${ident(c.name)} IS NOT NULL`).join(' AND ')}` };
    }
    const outputColumn = p.optionalString('outputColumn');
    if (outputColumn && columns.length !== 1) throw p.fail(`'outputColumn' needs exactly one input column`);
    const replacement = new Map<string, string>();
    const fit = new Fit(ctx.node.id, from);
    if (op === 'fill') {
      const raw = p.raw('value');
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw p.fail(`parameter 'value' must be a string, number or boolean`);
      for (const c of columns) replacement.set(c.name, `coalesce(${ident(c.name)}, TRY_CAST(${literal(raw)} AS ${c.type}))`);
    } else {
      const strategy = p.oneOf('strategy', STRATEGIES, 'approximate_median');
      for (const c of columns) {
        const col = ident(c.name);
        if (strategy !== 'mode' && !isNumericType(c.type)) throw p.fail(`cannot impute the ${strategy} of column '${c.name}' (${c.type}); use mode for categorical columns`);
        const aggregate = {
          mean: `avg(${col})`,
          median: `median(${col})`,
          // DuckDB's t-digest quantile, the counterpart of Spark's approxQuantile that Data Wrangler uses.
          approximate_median: `approx_quantile(${col}, 0.5)`,
          mode: `mode(${col})`,
        }[strategy];
        replacement.set(c.name, `coalesce(${col}, ${fit.value(aggregate)})`);
      }
    }
    const list = input.columns.map((c) => {
      const expr = replacement.get(c.name);
      return expr && !outputColumn ? `${expr} AS ${ident(c.name)}` : ident(c.name);
    });
    if (outputColumn) list.push(`${replacement.get(columns[0]!.name)} AS ${ident(outputColumn)}`);
    return { prepare: fit.prepare(), select: `SELECT ${list.join(', ')} FROM ${from}` };
  },
};
