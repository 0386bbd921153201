/**
 * Target leakage: how well each feature alone predicts the target. Each feature is bucketed
 * (deciles for numeric columns, its 100 most frequent values otherwise, missing as its own
 * bucket); with 2-fold cross-validation, a row's prediction is the smoothed target mean of its
 * bucket in the other fold. The score is ROC AUC for a binary target, accuracy for a multi-class
 * one, R² for regression. A score near 1 means the feature may leak the target.
 */
import type { Column } from '../duck.ts';
import type { AnalysisOperator, CompileContext } from '../operator.ts';
import { isNumericType } from '../sql.ts';
import { ident, literal, VEGA_LITE } from './common.ts';

export type ProblemType = 'classification' | 'regression';

export interface TargetInfo {
  column: Column;
  problemType: ProblemType;
  /** Classes, most frequent first, for classification. */
  classes: string[];
  /** The class counted as positive for a binary target. */
  positive?: string;
}

export interface FeatureScore {
  feature: string;
  score: number | null;
  metric: 'auc' | 'accuracy' | 'r2';
  leakage: 'likely' | 'possible' | 'none';
}

const LEAKAGE_LIKELY = 0.95;
const LEAKAGE_POSSIBLE = 0.8;
const SMOOTHING = 10;

export async function describeTarget(ctx: CompileContext, table: string, column: Column, problemType?: string, positive?: string): Promise<TargetInfo> {
  const col = ident(column.name);
  const counts = await ctx.query(`SELECT CAST(${col} AS VARCHAR) AS v, count(*) AS n FROM ${ident(table)} WHERE ${col} IS NOT NULL GROUP BY 1 ORDER BY n DESC, v LIMIT 101`);
  const type: ProblemType = problemType === 'regression' || problemType === 'classification'
    ? problemType
    : isNumericType(column.type) && counts.length > 20 ? 'regression' : 'classification';
  if (type === 'regression') {
    if (!isNumericType(column.type)) throw ctx.params.fail(`target '${column.name}' is ${column.type}; regression needs a numeric target`);
    return { column, problemType: type, classes: [] };
  }
  if (counts.length > 100) throw ctx.params.fail(`target '${column.name}' has more than 100 classes; use problemType regression or another target`);
  const classes = counts.map((r) => String(r.v));
  let pos = positive;
  if (pos !== undefined && !classes.includes(pos)) throw ctx.params.fail(`positive label '${pos}' does not occur in '${column.name}' (classes: ${classes.join(', ')})`);
  if (pos === undefined && classes.length === 2) pos = classes.includes('1') ? '1' : classes.includes('true') ? 'true' : [...classes].sort()[1]!;
  return { column, problemType: type, classes, positive: pos };
}

/** The target as a number per row: 0/1 for binary, class index for multi-class, the value for regression. */
export function targetExpr(t: TargetInfo): string {
  const col = ident(t.column.name);
  if (t.problemType === 'regression') return `${col}::DOUBLE`;
  if (t.classes.length === 2) return `CASE WHEN ${col} IS NULL THEN NULL WHEN CAST(${col} AS VARCHAR) = ${literal(t.positive!)} THEN 1.0 ELSE 0.0 END`;
  return `CASE CAST(${col} AS VARCHAR) ${t.classes.map((c, i) => `WHEN ${literal(c)} THEN ${i}`).join(' ')} END::DOUBLE`;
}

function bucketExpr(c: Column, table: string): string {
  const col = ident(c.name);
  if (isNumericType(c.type)) return `CASE WHEN ${col} IS NULL THEN '(missing)' ELSE CAST(ntile(10) OVER (PARTITION BY ${col} IS NULL ORDER BY ${col}) AS VARCHAR) END`;
  const text = `coalesce(CAST(${col} AS VARCHAR), '(missing)')`;
  return `CASE WHEN ${text} IN (SELECT ${text} FROM ${ident(table)} GROUP BY 1 ORDER BY count(*) DESC LIMIT 100) THEN ${text} ELSE '(other)' END`;
}

/**
 * Scores features on `table` (a sample is fine) against the target, all features in one query:
 * the buckets of every feature are unpivoted into (feature, bucket, y, fold) rows.
 */
export async function scoreFeatures(ctx: CompileContext, table: string, features: Column[], target: TargetInfo): Promise<FeatureScore[]> {
  if (features.length === 0) return [];
  const t = ident(table);
  const multi = target.problemType === 'classification' && target.classes.length > 2;
  const metric: FeatureScore['metric'] = target.problemType === 'regression' ? 'r2' : multi ? 'accuracy' : 'auc';
  const wide = `SELECT ${features.map((f, i) => `${bucketExpr(f, table)} AS b${i}`).join(', ')}, ${targetExpr(target)} AS y, hash(rowid, ${ctx.seed}) % 2 AS fold FROM ${t} WHERE ${ident(target.column.name)} IS NOT NULL`;
  const long = `WITH w AS (${wide}), d AS (UNPIVOT w ON ${features.map((_, i) => `b${i}`).join(', ')} INTO NAME feature VALUE b)`;
  let sql: string;
  if (multi) {
    // Predicted class: the most frequent class of the bucket in the other fold (else of the fold).
    sql = `${long}, s AS (SELECT feature, fold, b, y, count(*) AS n FROM d GROUP BY ALL),
      best AS (SELECT feature, fold, b, arg_max(y, n) AS pred FROM s GROUP BY ALL),
      g AS (SELECT fold, arg_max(y, n) AS pred FROM (SELECT fold, y, count(*) AS n FROM w GROUP BY ALL) GROUP BY fold)
      SELECT d.feature, avg(CASE WHEN coalesce(best.pred, g.pred) = d.y THEN 1.0 ELSE 0.0 END) AS score
      FROM d LEFT JOIN best ON best.feature = d.feature AND best.fold = 1 - d.fold AND best.b = d.b JOIN g ON g.fold = 1 - d.fold GROUP BY d.feature`;
  } else {
    const scored = `${long}, s AS (SELECT feature, fold, b, count(*) AS n, sum(y) AS sy FROM d GROUP BY ALL),
      prior AS (SELECT fold, avg(y) AS m FROM w GROUP BY fold),
      p AS (SELECT d.feature, d.y, (coalesce(s.sy, 0) + ${SMOOTHING} * prior.m) / (coalesce(s.n, 0) + ${SMOOTHING}) AS pred
            FROM d JOIN prior ON prior.fold = 1 - d.fold LEFT JOIN s ON s.feature = d.feature AND s.fold = 1 - d.fold AND s.b = d.b)`;
    sql = target.problemType === 'regression'
      ? `${scored}, mean AS (SELECT avg(y) AS m FROM w) SELECT feature, 1 - sum((y - pred) ^ 2) / nullif(sum((y - (SELECT m FROM mean)) ^ 2), 0) AS score FROM p GROUP BY feature`
      : `${scored}, r AS (SELECT feature, y, rank() OVER (PARTITION BY feature ORDER BY pred) + (count(*) OVER (PARTITION BY feature, pred) - 1) / 2.0 AS rk FROM p)
         SELECT feature, (sum(rk) FILTER (WHERE y = 1) - count(*) FILTER (WHERE y = 1) * (count(*) FILTER (WHERE y = 1) + 1) / 2.0)
                / nullif(count(*) FILTER (WHERE y = 1) * count(*) FILTER (WHERE y = 0), 0) AS score FROM r GROUP BY feature`;
  }
  const byFeature = new Map((await ctx.query(sql)).map((r) => [String(r.feature), r.score]));
  const scores = features.map((f, i): FeatureScore => {
    const raw = byFeature.get(`b${i}`);
    const score = raw === null || raw === undefined ? null : Math.round(Number(raw) * 1e4) / 1e4;
    const strength = score === null ? 0 : metric === 'auc' ? Math.max(score, 1 - score) : score;
    return { feature: f.name, score, metric, leakage: strength >= LEAKAGE_LIKELY ? 'likely' : strength >= LEAKAGE_POSSIBLE ? 'possible' : 'none' };
  });
  return scores.sort((a, b) => (b.score ?? -Infinity) - (a.score ?? -Infinity));
}

/** A table of at most `max` rows of `table`, sampled reproducibly; `table` itself when small enough. */
export async function sampleTable(ctx: CompileContext, table: string, max: number, name: string): Promise<{ table: string; rows: number; sampled: boolean }> {
  const rows = Number((await ctx.query(`SELECT count(*) AS n FROM ${ident(table)}`))[0]!.n);
  if (rows <= max) return { table, rows, sampled: false };
  // A Bernoulli sample of about `max` rows in one pass, each row kept by a hash of its position and
  // the flow's seed: reproducible, and twice as fast as DuckDB's own bernoulli sampling (no
  // random number per row).
  const perMillion = Math.max(1, Math.round((max / rows) * 1_000_000));
  await ctx.duck.run(`CREATE OR REPLACE TEMP TABLE ${ident(name)} AS SELECT * FROM ${ident(table)} WHERE hash(rowid, ${Math.trunc(ctx.seed)}) % 1000000 < ${perMillion}`);
  const taken = Number((await ctx.query(`SELECT count(*) AS n FROM ${ident(name)}`))[0]!.n);
  return { table: name, rows: taken, sampled: true };
}

export const targetLeakage: AnalysisOperator = {
  async analyze(ctx: CompileContext) {
    const { params: p, input } = ctx;
    const target = await describeTarget(ctx, input.table, p.column('target'), p.optionalString('problemType'), p.optionalString('positiveLabel'));
    const features = p.columnList('columns', input.columns.filter((c) => c.name !== target.column.name));
    const maxRows = Math.trunc(p.number('sampleSize', 100_000));
    const sample = await sampleTable(ctx, input.table, maxRows, `__leakage_${ctx.node.id}`);
    const scores = await scoreFeatures(ctx, sample.table, features.filter((c) => c.name !== target.column.name).slice(0, Math.trunc(p.number('maxFeatures', 200))), target);
    return {
      data: { target: target.column.name, problemType: target.problemType, positiveLabel: target.positive, rowsScored: sample.rows, sampled: sample.sampled, features: scores },
      chart: {
        $schema: VEGA_LITE,
        title: `Predictive power of each feature for ${target.column.name}`,
        data: { values: scores },
        mark: 'bar',
        encoding: {
          y: { field: 'feature', type: 'nominal', sort: '-x' },
          x: { field: 'score', type: 'quantitative', title: scores[0]?.metric ?? 'score' },
          color: { field: 'leakage', type: 'nominal', scale: { domain: ['likely', 'possible', 'none'], range: ['#d62728', '#ff7f0e', '#1f77b4'] } },
        },
      },
    };
  },
};
