/**
 * The Data Quality and Insights report: per-feature summaries with histograms, duplicate rows,
 * target balance, target leakage, anomalous samples and a quick model. Statistics use the whole
 * table; leakage and the quick model use a reproducible sample (sizes in the result).
 */
import type { Column } from '../duck.ts';
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import { isNumericType } from '../sql.ts';
import { ident, kindOf, literal, VEGA_LITE } from './common.ts';
import { describeTarget, sampleTable, scoreFeatures } from './leakage.ts';
import { quickModel } from './quick-model.ts';
import { columnStats, type ColumnStats } from './summary.ts';

type Histogram = { label: string; count: number }[];

/** Ten equal-width bins for every numeric column, in one pass over the table. */
async function numericHistograms(ctx: CompileContext, table: string, columns: { c: Column; min: number; max: number }[]): Promise<Map<string, Histogram>> {
  const out = new Map<string, Histogram>();
  if (columns.length === 0) return out;
  const width = (x: { min: number; max: number }) => (x.max > x.min ? (x.max - x.min) / 10 : 1);
  const row = (await ctx.query(`SELECT ${columns.map((x, i) => `histogram(least(floor((${ident(x.c.name)} - ${literal(x.min)}) / ${literal(width(x))}), 9)::INTEGER) AS h${i}`).join(', ')} FROM ${ident(table)}`))[0]!;
  columns.forEach((x, i) => {
    const map = (row[`h${i}`] ?? {}) as unknown;
    const entries: [number, number][] = Array.isArray(map) ? map.map((e: { key: unknown; value: unknown }) => [Number(e.key), Number(e.value)]) : Object.entries(map as Record<string, unknown>).map(([k, v]) => [Number(k), Number(v)]);
    out.set(x.c.name, entries.sort((a, b) => a[0] - b[0]).map(([b, n]) => {
      const lo = x.min + b * width(x);
      return { label: `${+lo.toPrecision(4)}–${+(lo + width(x)).toPrecision(4)}`, count: n };
    }));
  });
  return out;
}

async function topValues(ctx: CompileContext, table: string, c: Column): Promise<Histogram> {
  const col = ident(c.name);
  const rows = await ctx.query(`SELECT CAST(${col} AS VARCHAR) AS v, count(*) AS n FROM ${ident(table)} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT 10`);
  return rows.map((r) => ({ label: String(r.v), count: Number(r.n) }));
}

/**
 * Rows furthest from the bulk: largest root-mean-square robust z-score over numeric columns,
 * each column centred on its median and scaled by its interquartile range / 1.349 (the standard
 * deviation when the IQR is 0).
 */
async function anomalousSamples(ctx: CompileContext, table: string, numeric: ColumnStats[], limit: number) {
  const usable = numeric.filter((s) => s.median !== null && s.median !== undefined);
  if (usable.length === 0) return [];
  const terms = usable.map((s) => {
    const scale = ((s.q3 ?? 0) - (s.q1 ?? 0)) / 1.349 || s.std || 1;
    return `coalesce(((${ident(s.column)}::DOUBLE - ${literal(s.median!)}) / ${literal(scale)}) ^ 2, 0)`;
  });
  const rows = await ctx.query(`SELECT * FROM ${ident(table)} WHERE rowid IN (SELECT rowid FROM ${ident(table)} ORDER BY sqrt((${terms.join(' + ')}) / ${usable.length}) DESC, rowid LIMIT ${limit})`);
  const score = (row: Record<string, unknown>) => Math.sqrt(usable.reduce((acc, s) => {
    const v = row[s.column];
    const scale = ((s.q3 ?? 0) - (s.q1 ?? 0)) / 1.349 || s.std || 1;
    return acc + (v === null || v === undefined ? 0 : ((Number(v) - s.median!) / scale) ** 2);
  }, 0) / usable.length);
  return rows.map((row) => ({ score: Math.round(score(row) * 1000) / 1000, row })).sort((a, b) => b.score - a.score);
}

export const qualityReport: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const table = input.table;
    const t = ident(table);
    const targetColumn = p.optionalColumn('target');
    const timings: Record<string, number> = {};
    let clock = Date.now();
    const lap = (name: string) => {
      timings[name] = Date.now() - clock;
      clock = Date.now();
    };
    const rowCount = Number((await ctx.query(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
    // Quantiles (medians, MAD) and the per-feature models use a reproducible sample; counts, moments and histograms use every row.
    const statsSample = await sampleTable(ctx, table, Math.trunc(p.number('statisticsSampleSize', 200_000)), `__quality_stats_${ctx.node.id}`);
    const { stats } = await columnStats(ctx, table, input.columns, rowCount <= 200_000, statsSample.table);
    const numericRanges = input.columns.flatMap((c, i) => {
      const s = stats[i]!;
      return isNumericType(c.type) && typeof s.min === 'number' && typeof s.max === 'number' ? [{ c, min: s.min, max: s.max }] : [];
    });
    lap('statistics');
    const histograms = await numericHistograms(ctx, statsSample.table, numericRanges);
    const features = [];
    for (const [i, c] of input.columns.entries()) {
      const s = stats[i]!;
      features.push({ ...s, kind: kindOf(c, s.unique), histogram: histograms.get(c.name) ?? (isNumericType(c.type) ? [] : await topValues(ctx, table, c)) });
    }
    // Rows are compared by a 64-bit hash of all their values (missing values equal, as pandas'
    // duplicated() has it); a collision among a million rows has a chance of about 1 in 30 million.
    const distinct = Number((await ctx.query(`SELECT count(DISTINCT hash(${input.columns.map((c) => ident(c.name)).join(', ')})) AS n FROM ${t}`))[0]!.n);
    const duplicates = rowCount - distinct;
    lap('histogramsAndDuplicates');
    const result: Record<string, unknown> = {
      rows: rowCount,
      columns: input.columns.length,
      duplicateRows: duplicates,
      duplicateRowsPercent: rowCount ? Math.round((duplicates / rowCount) * 1e4) / 100 : 0,
      // Medians, histograms and anomaly scales come from this many rows (all of them when not sampled).
      statisticsSampleRows: statsSample.rows,
      features,
    };
    const warnings: { severity: 'high' | 'medium' | 'low'; message: string }[] = [];
    if (duplicates / Math.max(rowCount, 1) > 0.05) warnings.push({ severity: 'medium', message: `${result.duplicateRowsPercent}% of rows are duplicates` });
    for (const f of features) if (f.missingPercent > 0) warnings.push({ severity: f.missingPercent > 50 ? 'high' : 'low', message: `${f.column} has ${f.missingPercent}% missing values` });
    const numeric = stats.filter((s, i) => isNumericType(input.columns[i]!.type) && s.column !== targetColumn?.name);
    result.anomalousSamples = await anomalousSamples(ctx, table, numeric, Math.trunc(p.number('anomalies', 10)));
    lap('anomalies');
    if (targetColumn) {
      const target = await describeTarget(ctx, table, targetColumn, p.optionalString('problemType'), p.optionalString('positiveLabel'));
      const others = input.columns.filter((c) => c.name !== targetColumn.name);
      const balance = target.problemType === 'classification'
        ? (await ctx.query(`SELECT CAST(${ident(targetColumn.name)} AS VARCHAR) AS value, count(*) AS count FROM ${t} GROUP BY 1 ORDER BY count DESC, value`)).map((r) => ({ value: r.value, count: Number(r.count), percent: Math.round((Number(r.count) / rowCount) * 1e4) / 100 }))
        : undefined;
      const sample = await sampleTable(ctx, statsSample.table, Math.trunc(p.number('sampleSize', 20_000)), `__quality_${ctx.node.id}`);
      const leakage = await scoreFeatures(ctx, sample.table, others, target);
      lap('targetLeakage');
      for (const l of leakage.filter((x) => x.leakage === 'likely')) warnings.push({ severity: 'high', message: `target leakage: ${l.feature} predicts ${targetColumn.name} with ${l.metric} ${l.score}` });
      const modelSample = await sampleTable(ctx, sample.table, Math.trunc(p.number('modelSampleSize', 5_000)), `__quality_model_${ctx.node.id}`);
      const model = p.boolean('quickModel', true) ? await quickModel(ctx, modelSample.table, others, target) : undefined;
      lap('quickModel');
      if (balance && balance.length > 1 && balance[balance.length - 1]!.percent < 10) warnings.push({ severity: 'medium', message: `the target is imbalanced: '${balance[balance.length - 1]!.value}' is ${balance[balance.length - 1]!.percent}% of rows` });
      Object.assign(result, {
        target: { column: targetColumn.name, problemType: target.problemType, positiveLabel: target.positive, balance },
        targetLeakage: { rowsScored: sample.rows, features: leakage },
        quickModel: model,
      });
    }
    result.warnings = warnings;
    result.timingsMs = timings;
    return {
      data: result,
      chart: {
        $schema: VEGA_LITE,
        title: 'Missing values per feature (%)',
        data: { values: features.map((f) => ({ feature: f.column, missingPercent: f.missingPercent })) },
        mark: 'bar',
        encoding: { y: { field: 'feature', type: 'nominal', sort: '-x' }, x: { field: 'missingPercent', type: 'quantitative' } },
      },
    };
  },
};
