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
import { columnStats } from './summary.ts';

async function featureHistogram(ctx: CompileContext, table: string, c: Column, min: number | null, max: number | null): Promise<{ label: string; count: number }[]> {
  const t = ident(table);
  const col = ident(c.name);
  if (isNumericType(c.type) && min !== null && max !== null && max > min) {
    const width = (max - min) / 10;
    const rows = await ctx.query(`SELECT least(floor((${col} - ${literal(min)}) / ${literal(width)}), 9) AS b, count(*) AS n FROM ${t} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY 1`);
    return rows.map((r) => {
      const lo = min + Number(r.b) * width;
      return { label: `${+lo.toPrecision(4)}–${+(lo + width).toPrecision(4)}`, count: Number(r.n) };
    });
  }
  const rows = await ctx.query(`SELECT CAST(${col} AS VARCHAR) AS v, count(*) AS n FROM ${t} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT 10`);
  return rows.map((r) => ({ label: String(r.v), count: Number(r.n) }));
}

/** Rows furthest from the bulk: largest root-mean-square robust z-score (median, MAD) over numeric columns. */
async function anomalousSamples(ctx: CompileContext, table: string, numeric: Column[], limit: number) {
  if (numeric.length === 0) return [];
  const t = ident(table);
  const stats = (await ctx.query(`SELECT ${numeric.map((c, i) => `approx_quantile(${ident(c.name)}::DOUBLE, 0.5) AS m${i}, approx_quantile(abs(${ident(c.name)}::DOUBLE - (SELECT approx_quantile(${ident(c.name)}::DOUBLE, 0.5) FROM ${t})), 0.5) AS d${i}, stddev_samp(${ident(c.name)}::DOUBLE) AS s${i}`).join(', ')} FROM ${t}`))[0]!;
  const terms = numeric.map((c, i) => {
    const m = Number(stats[`m${i}`] ?? 0);
    // 1.4826·MAD estimates the standard deviation; fall back to the standard deviation when MAD is 0.
    const scale = Number(stats[`d${i}`] ?? 0) * 1.4826 || Number(stats[`s${i}`] ?? 0) || 1;
    return `coalesce(((${ident(c.name)}::DOUBLE - ${literal(m)}) / ${literal(scale)}) ^ 2, 0)`;
  });
  const rows = await ctx.query(`SELECT *, sqrt((${terms.join(' + ')}) / ${numeric.length}) AS __anomaly_score FROM ${t} ORDER BY __anomaly_score DESC, rowid LIMIT ${limit}`);
  return rows.map(({ __anomaly_score, ...row }) => ({ score: Math.round(Number(__anomaly_score) * 1000) / 1000, row }));
}

export const qualityReport: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const table = input.table;
    const t = ident(table);
    const targetColumn = p.optionalColumn('target');
    const rowCount = Number((await ctx.query(`SELECT count(*) AS n FROM ${t}`))[0]!.n);
    const { stats } = await columnStats(ctx, table, input.columns, rowCount <= 200_000);
    const features = [];
    for (const [i, c] of input.columns.entries()) {
      const s = stats[i]!;
      features.push({
        ...s,
        kind: kindOf(c, s.unique),
        histogram: await featureHistogram(ctx, table, c, typeof s.min === 'number' ? s.min : null, typeof s.max === 'number' ? s.max : null),
      });
    }
    const distinct = Number((await ctx.query(`SELECT count(*) AS n FROM (SELECT 1 FROM ${t} GROUP BY ALL_COLUMNS_PLACEHOLDER)`.replace('ALL_COLUMNS_PLACEHOLDER', input.columns.map((c) => ident(c.name)).join(', '))))[0]!.n);
    const duplicates = rowCount - distinct;
    const result: Record<string, unknown> = {
      rows: rowCount,
      columns: input.columns.length,
      duplicateRows: duplicates,
      duplicateRowsPercent: rowCount ? Math.round((duplicates / rowCount) * 1e4) / 100 : 0,
      features,
    };
    const warnings: { severity: 'high' | 'medium' | 'low'; message: string }[] = [];
    if (duplicates / Math.max(rowCount, 1) > 0.05) warnings.push({ severity: 'medium', message: `${result.duplicateRowsPercent}% of rows are duplicates` });
    for (const f of features) if (f.missingPercent > 0) warnings.push({ severity: f.missingPercent > 50 ? 'high' : 'low', message: `${f.column} has ${f.missingPercent}% missing values` });
    const numeric = input.columns.filter((c) => isNumericType(c.type) && c.name !== targetColumn?.name);
    result.anomalousSamples = await anomalousSamples(ctx, table, numeric, Math.trunc(p.number('anomalies', 10)));
    if (targetColumn) {
      const target = await describeTarget(ctx, table, targetColumn, p.optionalString('problemType'), p.optionalString('positiveLabel'));
      const others = input.columns.filter((c) => c.name !== targetColumn.name);
      const balance = target.problemType === 'classification'
        ? (await ctx.query(`SELECT CAST(${ident(targetColumn.name)} AS VARCHAR) AS value, count(*) AS count FROM ${t} GROUP BY 1 ORDER BY count DESC, value`)).map((r) => ({ value: r.value, count: Number(r.count), percent: Math.round((Number(r.count) / rowCount) * 1e4) / 100 }))
        : undefined;
      const sample = await sampleTable(ctx, table, Math.trunc(p.number('sampleSize', 50_000)), `__quality_${ctx.node.id}`);
      const leakage = await scoreFeatures(ctx, sample.table, others, target);
      for (const l of leakage.filter((x) => x.leakage === 'likely')) warnings.push({ severity: 'high', message: `target leakage: ${l.feature} predicts ${targetColumn.name} with ${l.metric} ${l.score}` });
      const modelSample = await sampleTable(ctx, sample.table, Math.trunc(p.number('modelSampleSize', 10_000)), `__quality_model_${ctx.node.id}`);
      const model = p.boolean('quickModel', true) ? await quickModel(ctx, modelSample.table, others, target) : undefined;
      if (balance && balance.length > 1 && balance[balance.length - 1]!.percent < 10) warnings.push({ severity: 'medium', message: `the target is imbalanced: '${balance[balance.length - 1]!.value}' is ${balance[balance.length - 1]!.percent}% of rows` });
      Object.assign(result, {
        target: { column: targetColumn.name, problemType: target.problemType, positiveLabel: target.positive, balance },
        targetLeakage: { rowsScored: sample.rows, features: leakage },
        quickModel: model,
      });
    }
    result.warnings = warnings;
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
