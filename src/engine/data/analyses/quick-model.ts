/**
 * The quality report's quick model: Kiln's built-in XGBoost on a sample, scored with k-fold
 * cross-validation, with gain-based feature importance from a model fitted on the whole sample.
 * Categorical features enter as frequency-ordered codes (trees split them as ordinal values).
 */
import { parseHyperparameters } from '../../../algorithms/xgboost/hyperparameters.ts';
import { predict } from '../../../algorithms/xgboost/predict.ts';
import { train } from '../../../algorithms/xgboost/train.ts';
import type { BoosterModel } from '../../../algorithms/xgboost/model.ts';
import type { Column } from '../duck.ts';
import type { CompileContext } from '../operator.ts';
import { isNumericType } from '../sql.ts';
import { ident, literal } from './common.ts';
import { targetExpr, type TargetInfo } from './leakage.ts';

export interface QuickModelResult {
  model: 'xgboost';
  problemType: string;
  folds: number;
  rows: number;
  features: string[];
  scores: Record<string, number | null>;
  featureImportance: { feature: string; importance: number }[];
}

const MAX_LEVELS = 50;

export async function quickModel(ctx: CompileContext, table: string, features: Column[], target: TargetInfo, folds = 3): Promise<QuickModelResult | undefined> {
  const t = ident(table);
  const usable: { column: Column; expr: string }[] = [];
  for (const c of features) {
    if (isNumericType(c.type)) usable.push({ column: c, expr: `${ident(c.name)}::DOUBLE` });
    else if (/^(VARCHAR|BOOLEAN|DATE|TIMESTAMP.*)$/i.test(c.type)) {
      const levels = await ctx.query(`SELECT CAST(${ident(c.name)} AS VARCHAR) AS v FROM ${t} WHERE ${ident(c.name)} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${MAX_LEVELS + 1}`);
      if (levels.length > MAX_LEVELS || levels.length === 0) continue;
      usable.push({ column: c, expr: `CASE CAST(${ident(c.name)} AS VARCHAR) ${levels.map((l, i) => `WHEN ${literal(String(l.v))} THEN ${i}`).join(' ')} END::DOUBLE` });
    }
  }
  if (usable.length === 0) return undefined;
  const rows = await ctx.query(`SELECT ${targetExpr(target)} AS __y, hash(rowid, ${ctx.seed}) % ${folds} AS __fold, ${usable.map((u, i) => `${u.expr} AS f${i}`).join(', ')} FROM ${t} WHERE ${ident(target.column.name)} IS NOT NULL`);
  const n = rows.length;
  if (n < folds * 2) return undefined;
  const F = usable.length;
  const X = new Float32Array(n * F);
  const y = new Float32Array(n);
  const fold = new Int32Array(n);
  rows.forEach((r, i) => {
    y[i] = Number(r.__y);
    fold[i] = Number(r.__fold);
    for (let j = 0; j < F; j++) {
      const v = r[`f${j}`];
      X[i * F + j] = v === null || v === undefined ? NaN : Number(v);
    }
  });
  const binary = target.problemType === 'classification' && target.classes.length === 2;
  const multi = target.problemType === 'classification' && !binary;
  const hps: Record<string, string> = { num_round: '20', max_depth: '4', eta: '0.3', nthread: '2', objective: binary ? 'binary:logistic' : multi ? 'multi:softmax' : 'reg:squarederror' };
  if (multi) hps.num_class = String(target.classes.length);
  const params = parseHyperparameters(hps);
  const subset = (pick: (i: number) => boolean) => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (pick(i)) idx.push(i);
    const xs = new Float32Array(idx.length * F);
    const ys = new Float32Array(idx.length);
    idx.forEach((src, k) => {
      xs.set(X.subarray(src * F, src * F + F), k * F);
      ys[k] = y[src]!;
    });
    return { features: { rows: idx.length, cols: F, values: xs }, labels: ys };
  };
  const predictions = new Float32Array(n);
  for (let k = 0; k < folds; k++) {
    const trainSet = subset((i) => fold[i] !== k);
    const testIdx: number[] = [];
    for (let i = 0; i < n; i++) if (fold[i] === k) testIdx.push(i);
    if (trainSet.labels.length === 0 || testIdx.length === 0) continue;
    const { model } = await train(params, trainSet, undefined, () => undefined);
    const test = subset((i) => fold[i] === k);
    const p = predict(model, test.features);
    testIdx.forEach((src, j) => (predictions[src] = p[j]!));
  }
  const { model } = await train(params, { features: { rows: n, cols: F, values: X }, labels: y }, undefined, () => undefined);
  return {
    model: 'xgboost',
    problemType: target.problemType,
    folds,
    rows: n,
    features: usable.map((u) => u.column.name),
    scores: scoresOf(y, predictions, binary, multi),
    featureImportance: gainImportance(model, usable.map((u) => u.column.name)),
  };
}

function scoresOf(y: Float32Array, p: Float32Array, binary: boolean, multi: boolean): Record<string, number | null> {
  const n = y.length;
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  if (!binary && !multi) {
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i]! / n;
    let sse = 0;
    let sst = 0;
    for (let i = 0; i < n; i++) {
      sse += (y[i]! - p[i]!) ** 2;
      sst += (y[i]! - mean) ** 2;
    }
    return { mse: round(sse / n), r2: sst ? round(1 - sse / sst) : null };
  }
  let correct = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const pred = binary ? (p[i]! >= 0.5 ? 1 : 0) : p[i]!;
    if (pred === y[i]) correct++;
    if (binary) {
      if (pred === 1 && y[i] === 1) tp++;
      else if (pred === 1) fp++;
      else if (y[i] === 1) fn++;
    }
  }
  const out: Record<string, number | null> = { accuracy: round(correct / n) };
  if (binary) {
    out.f1 = tp ? round((2 * tp) / (2 * tp + fp + fn)) : 0;
    out.auc = round(auc(y, p));
  }
  return out;
}

function auc(y: Float32Array, p: Float32Array): number {
  const idx = Array.from(y.keys()).sort((a, b) => p[a]! - p[b]!);
  let rankSum = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && p[idx[j + 1]!] === p[idx[i]!]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (y[idx[k]!] === 1) {
      rankSum += avgRank;
      pos++;
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  return pos && neg ? (rankSum - (pos * (pos + 1)) / 2) / (pos * neg) : 0.5;
}

/** Total loss reduction of each feature's splits, normalised to sum to 1. */
function gainImportance(model: BoosterModel, names: string[]): { feature: string; importance: number }[] {
  const gain = new Float64Array(names.length);
  for (const tree of model.trees) {
    for (let i = 0; i < tree.leftChildren.length; i++) if (tree.leftChildren[i] !== -1) gain[tree.splitIndices[i]!] += tree.lossChanges[i]!;
  }
  const total = gain.reduce((a, b) => a + b, 0) || 1;
  return names.map((feature, i) => ({ feature, importance: Math.round((gain[i]! / total) * 1e4) / 1e4 })).sort((a, b) => b.importance - a.importance);
}
