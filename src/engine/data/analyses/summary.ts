/** Table summary: per column its type, count, missing values, distinct values and numeric statistics. */
import type { Column } from '../duck.ts';
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import { isNumericType } from '../sql.ts';
import { ident, literal, numberOr } from './common.ts';

export interface ColumnStats {
  column: string;
  type: string;
  count: number;
  missing: number;
  missingPercent: number;
  unique: number;
  mean?: number | null;
  std?: number | null;
  min?: number | string | null;
  q1?: number | null;
  median?: number | null;
  q3?: number | null;
  max?: number | string | null;
  skew?: number | null;
  kurtosis?: number | null;
}

/**
 * Every column's statistics in two passes over the table: counts, distinct values, moments and
 * ranges, then the central moments that give skewness and kurtosis. Medians are exact over
 * `medianTable` (the table itself, or a sample of it for large tables: quantiles are the one
 * statistic that cannot be computed in a cheap pass).
 */
export async function columnStats(ctx: CompileContext, table: string, columns: Column[], exactDistinct = true, medianTable = table): Promise<{ rows: number; stats: ColumnStats[] }> {
  const t = ident(table);
  const numeric = columns.map((c, i) => ({ c, i })).filter(({ c }) => isNumericType(c.type));
  const medians = numeric.length
    ? (await ctx.query(`SELECT ${numeric.map(({ c, i }) => `quantile_cont(${ident(c.name)}::DOUBLE, [0.25, 0.5, 0.75]) AS q${i}`).join(', ')} FROM ${ident(medianTable)}`))[0]!
    : {};
  const parts = ['count(*) AS __rows'];
  columns.forEach((c, i) => {
    const col = ident(c.name);
    parts.push(`count(${col}) AS n${i}`, exactDistinct ? `count(DISTINCT ${col}) AS u${i}` : `approx_count_distinct(${col}) AS u${i}`);
    if (isNumericType(c.type)) {
      const d = `${col}::DOUBLE`;
      parts.push(`avg(${d}) AS mean${i}`, `stddev_samp(${d}) AS std${i}`, `min(${d}) AS min${i}`, `max(${d}) AS max${i}`);
    } else if (!/\[\]$/.test(c.type)) {
      parts.push(`min(CAST(${col} AS VARCHAR)) AS min${i}`, `max(CAST(${col} AS VARCHAR)) AS max${i}`);
    }
  });
  const r = (await ctx.query(`SELECT ${parts.join(', ')} FROM ${t}`))[0]!;
  const shape = await shapeMoments(ctx, table, numeric.map(({ c, i }) => ({ column: c.name, index: i, count: Number(r[`n${i}`]), mean: numberOr(r[`mean${i}`]) })));
  const rows = Number(r.__rows);
  const stats = columns.map((c, i): ColumnStats => {
    const count = Number(r[`n${i}`]);
    const s: ColumnStats = { column: c.name, type: c.type, count, missing: rows - count, missingPercent: rows ? Math.round(((rows - count) / rows) * 1e4) / 100 : 0, unique: Number(r[`u${i}`]) };
    if (isNumericType(c.type)) {
      Object.assign(s, { mean: numberOr(r[`mean${i}`]), std: numberOr(r[`std${i}`]), min: numberOr(r[`min${i}`]), q1: numberOr((medians[`q${i}`] as number[] | null)?.[0]), median: numberOr((medians[`q${i}`] as number[] | null)?.[1]), q3: numberOr((medians[`q${i}`] as number[] | null)?.[2]), max: numberOr(r[`max${i}`]), skew: shape.get(i)?.skew ?? null, kurtosis: shape.get(i)?.kurtosis ?? null });
    } else if (`min${i}` in r) {
      Object.assign(s, { min: r[`min${i}`] as string | null, max: r[`max${i}`] as string | null });
    }
    return s;
  });
  return { rows, stats };
}

/**
 * Skewness and excess kurtosis with the small-sample corrections DuckDB's skewness() and
 * kurtosis() (and pandas) apply, from central moments summed in one pass around each column's
 * mean. Products, not power(), and one pass for all columns: several times cheaper than those
 * aggregates on wide tables.
 */
async function shapeMoments(ctx: CompileContext, table: string, columns: { column: string; index: number; count: number; mean: number | null }[]): Promise<Map<number, { skew: number | null; kurtosis: number | null }>> {
  const out = new Map<number, { skew: number | null; kurtosis: number | null }>();
  const usable = columns.filter((c) => c.mean !== null && Number.isFinite(c.mean) && c.count >= 3);
  if (!usable.length) return out;
  const sums = usable.flatMap((c) => {
    const d = `(${ident(c.column)}::DOUBLE - ${literal(c.mean!)})`;
    return [`sum(${d} * ${d}) AS c2_${c.index}`, `sum(${d} * ${d} * ${d}) AS c3_${c.index}`, `sum((${d} * ${d}) * (${d} * ${d})) AS c4_${c.index}`];
  });
  const r = (await ctx.query(`SELECT ${sums.join(', ')} FROM ${ident(table)}`))[0]!;
  for (const c of usable) {
    const n = c.count;
    const m2 = Number(r[`c2_${c.index}`]) / n;
    const m3 = Number(r[`c3_${c.index}`]) / n;
    const m4 = Number(r[`c4_${c.index}`]) / n;
    if (!(m2 > 0)) {
      out.set(c.index, { skew: null, kurtosis: null });
      continue;
    }
    const skew = (Math.sqrt(n * (n - 1)) / (n - 2)) * (m3 / m2 ** 1.5);
    const kurtosis = n >= 4 ? ((n - 1) / ((n - 2) * (n - 3))) * ((n + 1) * (m4 / (m2 * m2) - 3) + 6) : null;
    out.set(c.index, { skew: numberOr(skew), kurtosis: kurtosis === null ? null : numberOr(kurtosis) });
  }
  return out;
}

export const tableSummary: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const columns = ctx.params.columnList('columns', ctx.input.columns);
    const { rows, stats } = await columnStats(ctx, ctx.input.table, columns);
    return { data: { rows, columns: stats } };
  },
};
