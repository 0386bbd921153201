/**
 * Handle numeric outliers: standard deviation, robust standard deviation (the mean and standard
 * deviation of the values between two quantiles, as Data Wrangler fits them), robust (interquartile
 * range), quantile or min-max bounds; remove the rows, clip the values to the bounds, or make them
 * missing.
 * Bounds are fitted on the input by a prepare statement, so an exported flow refits them.
 */
import type { CompileContext, CompiledTransform, TransformOperator } from '../operator.ts';
import { ident, isNumericType, literal } from '../sql.ts';
import { Fit } from './fit.ts';

const METHODS = ['standard_deviation', 'robust_standard_deviation', 'robust', 'quantile', 'min_max'] as const;

export const handleOutliers: TransformOperator = {
  async compile(ctx: CompileContext): Promise<CompiledTransform> {
    const { params: p, input } = ctx;
    const from = ident(input.table);
    const method = p.oneOf('method', METHODS);
    const fix = p.oneOf('fix', ['remove', 'clip', 'invalidate'] as const, 'remove');
    const columns = p.columnList('columns');
    for (const c of columns) if (!isNumericType(c.type)) throw p.fail(`column '${c.name}' is ${c.type}, not numeric`);
    const fit = new Fit(ctx.node.id, from);
    // The quantiles a robust standard deviation is fitted between, fitted first.
    const quantiles = new Fit(`${ctx.node.id}_quantiles`, from);
    const bounds = new Map<string, { lo: string; hi: string }>();
    for (const c of columns) {
      const col = ident(c.name);
      let lo: string;
      let hi: string;
      switch (method) {
        case 'standard_deviation': {
          const k = p.number('standardDeviations', 4);
          // Sample standard deviation (n-1), as pandas' std() and Spark's stddev.
          lo = `avg(${col}) - ${literal(k)} * stddev_samp(${col})`;
          hi = `avg(${col}) + ${literal(k)} * stddev_samp(${col})`;
          break;
        }
        case 'robust_standard_deviation': {
          const k = p.number('standardDeviations', 4);
          const low = quantiles.value(`quantile_cont(${col}, ${literal(p.number('lowerQuantile', 0.25))})`);
          const high = quantiles.value(`quantile_cont(${col}, ${literal(p.number('upperQuantile', 0.75))})`);
          const within = `FILTER (WHERE ${col} BETWEEN ${low} AND ${high})`;
          lo = `avg(${col}) ${within} - ${literal(k)} * stddev_samp(${col}) ${within}`;
          hi = `avg(${col}) ${within} + ${literal(k)} * stddev_samp(${col}) ${within}`;
          break;
        }
        case 'robust': {
          const ql = p.number('lowerQuantile', 0.25);
          const qh = p.number('upperQuantile', 0.75);
          const k = p.number('multiplier', 1.5);
          const q1 = `quantile_cont(${col}, ${literal(ql)})`;
          const q3 = `quantile_cont(${col}, ${literal(qh)})`;
          lo = `${q1} - ${literal(k)} * (${q3} - ${q1})`;
          hi = `${q3} + ${literal(k)} * (${q3} - ${q1})`;
          break;
        }
        case 'quantile':
          lo = `quantile_cont(${col}, ${literal(p.number('lowerQuantile', 0.01))})`;
          hi = `quantile_cont(${col}, ${literal(p.number('upperQuantile', 0.99))})`;
          break;
        case 'min_max':
          lo = literal(p.number('lowerThreshold'));
          hi = literal(p.number('upperThreshold'));
          break;
      }
      bounds.set(c.name, method === 'min_max' ? { lo, hi } : { lo: fit.value(lo), hi: fit.value(hi) });
    }
    const outside = (name: string) => {
      const b = bounds.get(name)!;
      return `(${ident(name)} < ${b.lo} OR ${ident(name)} > ${b.hi})`;
    };
    if (fix === 'remove') {
      // Missing values are not outliers: rows with them stay.
      const keep = columns.map((c) => `NOT coalesce(${outside(c.name)}, FALSE)`).join(' AND ');
      return { prepare: [...quantiles.prepare(), ...fit.prepare()], select: `SELECT * FROM ${from} WHERE ${keep}` };
    }
    const list = input.columns.map((c) => {
      const b = bounds.get(c.name);
      if (!b) return `${from}.${ident(c.name)}`;
      const col = `${from}.${ident(c.name)}`;
      const expr = fix === 'clip'
        ? `CASE WHEN ${col} < ${b.lo} THEN ${b.lo} WHEN ${col} > ${b.hi} THEN ${b.hi} ELSE ${col} END`
        : `CASE WHEN ${outside(c.name)} THEN NULL ELSE ${col} END`;
      return `${fix === 'clip' ? `CAST(${expr} AS ${c.type.startsWith('DECIMAL') || /INT/.test(c.type) ? 'DOUBLE' : c.type})` : expr} AS ${ident(c.name)}`;
    });
    return { prepare: [...quantiles.prepare(), ...fit.prepare()], select: `SELECT ${list.join(', ')} FROM ${from}` };
  },
};
