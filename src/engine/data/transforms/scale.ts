/** Scale values: standard, robust (median / interquartile range), min-max and max-absolute scalers. */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, isNumericType, literal } from '../sql.ts';
import { Fit } from './fit.ts';

export const scaleValues: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    const scaler = p.oneOf('scaler', ['standard', 'robust', 'min_max', 'max_absolute'] as const);
    const columns = p.columnList('columns', input.columns.filter((c) => isNumericType(c.type)));
    for (const c of columns) if (!isNumericType(c.type)) throw p.fail(`column '${c.name}' is ${c.type}, not numeric`);
    const suffix = p.string('outputSuffix', '');
    const scaled = new Map<string, string>();
    const fit = new Fit(ctx.node.id, from);
    const agg = (e: string) => fit.value(e);
    for (const c of columns) {
      const col = ident(c.name);
      let expr: string;
      switch (scaler) {
        case 'standard': {
          const center = p.boolean('center', true) ? `(${col} - ${agg(`avg(${col})`)})` : col;
          expr = p.boolean('scale', true) ? `${center} / nullif(${agg(`stddev_samp(${col})`)}, 0)` : center;
          break;
        }
        case 'robust': {
          const ql = p.number('lowerQuantile', 0.25);
          const qh = p.number('upperQuantile', 0.75);
          const center = p.boolean('center', true) ? `(${col} - ${agg(`median(${col})`)})` : col;
          expr = p.boolean('scale', true) ? `${center} / nullif(${agg(`quantile_cont(${col}, ${literal(qh)}) - quantile_cont(${col}, ${literal(ql)})`)}, 0)` : center;
          break;
        }
        case 'min_max': {
          const lo = p.number('min', 0);
          const hi = p.number('max', 1);
          const range = `nullif(${agg(`max(${col}) - min(${col})`)}, 0)`;
          expr = `${literal(lo)} + (${col} - ${agg(`min(${col})`)}) / ${range} * ${literal(hi - lo)}`;
          break;
        }
        case 'max_absolute':
          expr = `${col} / nullif(${agg(`max(abs(${col}))`)}, 0)`;
          break;
      }
      scaled.set(c.name, `CAST(${expr} AS DOUBLE)`);
    }
    const list = input.columns.map((c) => {
      const e = scaled.get(c.name);
      return e && !suffix ? `${e} AS ${ident(c.name)}` : ident(c.name);
    });
    if (suffix) for (const c of columns) list.push(`${scaled.get(c.name)} AS ${ident(c.name + suffix)}`);
    return { prepare: fit.prepare(), select: `SELECT ${list.join(', ')} FROM ${from}` };
  },
};
