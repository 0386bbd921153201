/**
 * Evaluation metrics computed as XGBoost 1.7 computes them: single-precision per-row terms,
 * weighted, summed in double; AUC/AUC-PR with XGBoost's handling of tied scores.
 *
 * Element-wise and multi-class metrics are reduced in two steps so they can run on worker
 * threads: `metricPartials` (a self-contained kernel) sums (residue, weight) over a row range,
 * `finalizeMetric` turns the summed pair into the value. AUC and AUC-PR need every row and
 * are computed whole by `rankMetric`.
 */
import type { ObjectiveName } from './model.ts';
import { formatFloatLikeOstream, isMultiClass, OBJECTIVE_IDS, transformRow } from './objectives.ts';

export interface MetricSpec {
  /** Name as printed in the log (`error@0.7`, `tweedie-nloglik@1.5`, …). */
  name: string;
  /** Kernel id, see `metricPartials`. 20 = auc, 21 = aucpr (whole-dataset metrics). */
  id: number;
  /** error threshold or tweedie rho (float32). */
  param: number;
  /** Larger is better (for early stopping). */
  maximize: boolean;
}

export class MetricError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricError';
  }
}

const SIMPLE: Record<string, number> = {
  rmse: 1,
  rmsle: 2,
  mae: 3,
  mape: 4,
  logloss: 5,
  'poisson-nloglik': 7,
  'gamma-nloglik': 8,
  'gamma-deviance': 9,
  merror: 11,
  mlogloss: 12,
  auc: 20,
  aucpr: 21,
};

/** Metric names SageMaker's container accepts but Kiln does not compute. */
const UNSUPPORTED = new Set([
  'accuracy', 'balanced_accuracy', 'f1', 'f1_binary', 'f1_macro', 'precision', 'precision_macro', 'precision_micro',
  'recall', 'recall_macro', 'recall_micro', 'r2', 'mse', 'map', 'ndcg', 'cox-nloglik', 'aft-nloglik',
  'interval-regression-accuracy', 'mphe',
]);

/** Parse one eval_metric entry for an objective; throws MetricError when unusable. */
export function parseMetric(raw: string, objective: ObjectiveName): MetricSpec {
  const text = raw.trim();
  const multi = isMultiClass(objective);
  const at = text.indexOf('@');
  const base = at >= 0 ? text.slice(0, at) : text;
  const arg = at >= 0 ? text.slice(at + 1) : undefined;
  let spec: MetricSpec;
  if (base === 'error') {
    let threshold = Math.fround(0.5);
    let name = 'error';
    if (arg !== undefined) {
      const t = Number(arg.trim());
      if (arg.trim() === '' || !Number.isFinite(t)) throw new MetricError(`Threshold value 't' in 'error@t' expects float input.`);
      threshold = Math.fround(t);
      if (threshold !== Math.fround(0.5)) name = `error@${formatFloatLikeOstream(threshold)}`;
    }
    spec = { name, id: 6, param: threshold, maximize: false };
  } else if (base === 'tweedie-nloglik') {
    if (arg === undefined) throw new MetricError('tweedie-nloglik must be in format tweedie-nloglik@rho');
    const rho = Math.fround(Number(arg.trim()));
    if (!(rho >= 1 && rho < 2)) throw new MetricError('tweedie variance power must be in interval [1, 2)');
    spec = { name: `tweedie-nloglik@${formatFloatLikeOstream(rho)}`, id: 10, param: rho, maximize: false };
  } else if (arg === undefined && SIMPLE[base] !== undefined) {
    spec = { name: base, id: SIMPLE[base]!, param: 0, maximize: base === 'auc' || base === 'aucpr' };
  } else if (UNSUPPORTED.has(base)) {
    throw new MetricError(`Metric '${text}' is not supported by Kiln's XGBoost.`);
  } else {
    throw new MetricError(`Metric '${text}' is not a valid XGBoost evaluation metric.`);
  }
  if (multi && spec.id < 11) {
    throw new MetricError(`Metric '${spec.name}' cannot be used with objective ${objective}; use merror, mlogloss, auc or aucpr for multi-class classification.`);
  }
  if (!multi && (spec.id === 11 || spec.id === 12)) {
    throw new MetricError(`Metric '${spec.name}' is only for multi-class classification (multi:softmax, multi:softprob); use logloss or error for binary classification.`);
  }
  return spec;
}

/**
 * Kernel: sums of (weighted residue, weight) for metric `id` over rows [start, end), from
 * transformed predictions `pt` (row i at pt[(i − start)·K …], see transformRange). Writes them
 * to out[outOffset], out[outOffset + 1]. Each metric has its own small function.
 */
export function metricPartials(
  id: number,
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  switch (id) {
    case 1:
      return metricRmse(param, K, pt, labels, weights, start, end, out, outOffset);
    case 2:
      return metricRmsle(param, K, pt, labels, weights, start, end, out, outOffset);
    case 3:
      return metricMae(param, K, pt, labels, weights, start, end, out, outOffset);
    case 4:
      return metricMape(param, K, pt, labels, weights, start, end, out, outOffset);
    case 5:
      return metricLogloss(param, K, pt, labels, weights, start, end, out, outOffset);
    case 6:
      return metricError(param, K, pt, labels, weights, start, end, out, outOffset);
    case 7:
      return metricPoissonNloglik(param, K, pt, labels, weights, start, end, out, outOffset);
    case 8:
      return metricGammaNloglik(param, K, pt, labels, weights, start, end, out, outOffset);
    case 9:
      return metricGammaDeviance(param, K, pt, labels, weights, start, end, out, outOffset);
    case 10:
      return metricTweedieNloglik(param, K, pt, labels, weights, start, end, out, outOffset);
    case 11:
      return metricMerror(param, K, pt, labels, weights, start, end, out, outOffset);
    case 12:
      return metricMlogloss(param, K, pt, labels, weights, start, end, out, outOffset);
    default:
      throw new Error(`metric id ${id} is not element-wise`);
  }
}

/** Kernel: rmse partial sums. */
export function metricRmse(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const d = f(labels[start + j]! - pt[j]!);
    esum += f(f(d * d) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: rmsle partial sums. */
export function metricRmsle(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const d = f(f(Math.log1p(labels[start + j]!)) - f(Math.log1p(pt[j]!)));
    esum += f(f(d * d) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: mae partial sums. */
export function metricMae(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    esum += f(Math.abs(f(labels[start + j]! - pt[j]!)) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: mape partial sums. */
export function metricMape(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const y = labels[start + j]!;
    esum += f(Math.abs(f(f(y - pt[j]!) / y)) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: logloss partial sums. */
export function metricLogloss(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  const eps = f(1e-16);
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const y = labels[start + j]!;
    const py = pt[j]!;
    const pneg = f(1 - py);
    const x1 = -y;
    const x2 = -f(1 - y);
    const t1 = x1 === 0 ? 0 : f(x1 * f(log(py > eps ? py : eps)));
    const t2 = x2 === 0 ? 0 : f(x2 * f(log(pneg > eps ? pneg : eps)));
    esum += f(f(t1 + t2) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: error@threshold partial sums. */
export function metricError(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  if (weights === null) {
    for (let j = 0; j < n; j++) {
      const y = labels[start + j]!;
      esum += pt[j]! > param ? f(1 - y) : y;
    }
    wsum = n;
  } else {
    for (let j = 0; j < n; j++) {
      const wt = weights[start + j]!;
      const y = labels[start + j]!;
      esum += f((pt[j]! > param ? f(1 - y) : y) * wt);
      wsum += wt;
    }
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: poisson-nloglik partial sums. */
export function metricPoissonNloglik(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  const eps = f(1e-16);
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const y = labels[start + j]!;
    let py = pt[j]!;
    if (py < eps) py = eps;
    const v = f(f(f(lgammaD(f(y + 1))) + py) - f(f(log(py)) * y));
    esum += f(v * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: gamma-nloglik partial sums. */
export function metricGammaNloglik(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  const lo = f(1e-6);
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const y = labels[start + j]!;
    let py = pt[j]!;
    if (py < lo) py = lo;
    const theta = f(-1 / py);
    const b = f(-f(log(-theta)));
    esum += f(-f(f(y * theta) - b) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: gamma-deviance partial sums. */
export function metricGammaDeviance(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  const eps = f(1e-6);
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const p = f(pt[j]! + eps);
    const l = f(labels[start + j]! + eps);
    esum += f(f(f(f(log(f(p / l))) + f(l / p)) - 1) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: tweedie-nloglik@rho partial sums. */
export function metricTweedieNloglik(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  const a1 = f(1 - param);
  const a2 = f(2 - param);
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const y = labels[start + j]!;
    const lp = f(log(pt[j]!));
    const a = f(f(y * f(Math.exp(f(a1 * lp)))) / a1);
    const b = f(f(Math.exp(f(a2 * lp))) / a2);
    esum += f(f(-a + b) * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: merror partial sums. */
export function metricMerror(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const o = j * K;
    let best = 0;
    for (let k = 1; k < K; k++) if (pt[o + k]! > pt[o + best]!) best = k;
    esum += best !== (labels[start + j]! | 0) ? wt : 0;
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel: mlogloss partial sums. */
export function metricMlogloss(
  param: number,
  K: number,
  pt: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  start: number,
  end: number,
  out: Float64Array,
  outOffset: number,
): void {
  const f = Math.fround;
  const log = Math.log;
  const n = end - start;
  let esum = 0;
  let wsum = 0;
  const eps = f(1e-16);
  for (let j = 0; j < n; j++) {
    const wt = weights === null ? 1 : weights[start + j]!;
    const p = pt[j * K + (labels[start + j]! | 0)]!;
    const v = p > eps ? -f(log(p)) : -f(log(eps));
    esum += f(v * wt);
    wsum += wt;
  }
  out[outOffset] = esum;
  out[outOffset + 1] = wsum;
}

/** Kernel helper: log Γ(x) (Lanczos, g = 7, n = 9), good to ~1e-15 relative for x > 0. */
export function lgammaD(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgammaD(1 - x);
  const z = x - 1;
  const t = z + 7.5;
  const a = 0.99999999999980993 + 676.5203681218851 / (z + 1) - 1259.1392167224028 / (z + 2) +
    771.32342877765313 / (z + 3) - 176.61502916214059 / (z + 4) + 12.507343278686905 / (z + 5) -
    0.13857109526572012 / (z + 6) + 9.9843695780195716e-6 / (z + 7) + 1.5056327351493116e-7 / (z + 8);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Final value from summed (residue, weight), as each metric's GetFinal. */
export function finalizeMetric(spec: MetricSpec, esum: number, wsum: number): number {
  switch (spec.id) {
    case 1:
    case 2:
      return wsum === 0 ? Math.sqrt(esum) : Math.sqrt(esum / wsum);
    case 9: {
      const w = wsum <= 0 ? 1e-6 : wsum;
      return (2 * esum) / w;
    }
    case 11:
    case 12:
      return esum / wsum;
    default:
      return wsum === 0 ? esum : esum / wsum;
  }
}

function binaryCurve(
  scores: Float32Array,
  labels: ArrayLike<number>,
  weights: Float32Array | null,
  pr: boolean,
): { fp: number; tp: number; area: number } {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Stable sort, descending score (XGBoost's ArgSort with std::greater).
  const idx = Array.from(order);
  idx.sort((a, b) => (scores[b]! - scores[a]!) || a - b);
  let totalPos = 0;
  let totalNeg = 0;
  if (pr) {
    for (let i = 0; i < n; i++) {
      const w = weights === null ? 1 : weights[i]!;
      totalPos += Math.fround(w * labels[i]!);
      totalNeg += Math.fround(w * Math.fround(1 - labels[i]!));
    }
    if (totalPos <= 0 || totalNeg <= 0) return { fp: 1, tp: 1, area: NaN };
  }
  const area = (fpPrev: number, fp: number, tpPrev: number, tp: number): number => {
    if (!pr) return Math.abs(fpPrev - fp) * (tpPrev + tp) * 0.5;
    const prPrev = tpPrev / totalPos;
    const prc = tp / totalPos;
    let a: number;
    let b: number;
    if (tp === tpPrev) {
      a = 1;
      b = 0;
    } else {
      const h = (fp - fpPrev) / (tp - tpPrev);
      a = h + 1;
      b = (fpPrev - h * tpPrev) / totalPos;
    }
    if (b !== 0) return (prc - prPrev - (b / a) * (Math.log(a * prc + b) - Math.log(a * prPrev + b))) / a;
    return (prc - prPrev) / a;
  };
  let auc = 0;
  const first = idx[0]!;
  let label = labels[first]!;
  let w = weights === null ? 1 : weights[first]!;
  let fp = (1 - label) * w;
  let tp = Math.fround(label * w);
  let tpPrev = 0;
  let fpPrev = 0;
  for (let i = 1; i < n; i++) {
    const r = idx[i]!;
    if (scores[r] !== scores[idx[i - 1]!]) {
      auc += area(fpPrev, fp, tpPrev, tp);
      tpPrev = tp;
      fpPrev = fp;
    }
    label = labels[r]!;
    w = weights === null ? 1 : weights[r]!;
    fp += Math.fround(Math.fround(1 - label) * w);
    tp += Math.fround(label * w);
  }
  auc += area(fpPrev, fp, tpPrev, tp);
  if (pr) return { fp: 1, tp: 1, area: auc };
  if (fp <= 0 || tp <= 0) return { fp: 0, tp: 0, area: 0 };
  return { fp, tp, area: auc };
}

/**
 * AUC (id 20) or AUC-PR (id 21) over a whole channel, from margins. Binary objectives use
 * the transformed score; multi-class uses XGBoost's one-vs-rest weighted average.
 */
export function rankMetric(spec: MetricSpec, objective: ObjectiveName, K: number, margins: Float32Array, labels: Float32Array, weights: Float32Array | null): number {
  const n = labels.length;
  if (n === 0) return NaN;
  const obj = OBJECTIVE_IDS[objective];
  const tmp = new Float64Array(K);
  const pr = spec.id === 21;
  if (K === 1) {
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      transformRow(obj, margins, i, 1, tmp);
      scores[i] = tmp[0]!;
    }
    const { fp, tp, area } = binaryCurve(scores, labels, weights, pr);
    if (pr) return area;
    const local = fp * tp;
    return local <= 0 ? NaN : area / local;
  }
  const probs = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    transformRow(obj, margins, i * K, K, tmp);
    for (let k = 0; k < K; k++) probs[i * K + k] = tmp[k]!;
  }
  let aucSum = 0;
  let tpSum = 0;
  const scores = new Float32Array(n);
  const response = new Float32Array(n);
  for (let c = 0; c < K; c++) {
    for (let i = 0; i < n; i++) {
      scores[i] = probs[i * K + c]!;
      response[i] = labels[i] === c ? 1 : 0;
    }
    const { fp, tp, area } = binaryCurve(scores, response, weights, pr);
    const local = fp * tp;
    if (local !== 0) {
      aucSum += (area / local) * tp;
      tpSum += tp;
    } else {
      return NaN;
    }
  }
  return tpSum === 0 ? NaN : aucSum / tpSum;
}

/**
 * Format a metric value as XGBoost's Python EvaluationMonitor prints it (`{score:.5f}`):
 * round-half-even on exact ties like Python, "nan"/"inf" for non-finite values.
 */
export function formatMetricValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  const x64 = v * 64;
  if (Number.isInteger(x64) && x64 % 2 !== 0 && Math.abs(v) < 1e15) {
    // v has exactly six decimals ending in 5: a true tie at the fifth decimal.
    const scaled = v * 1e5; // exact: v = odd/64 with |v| small
    const lower = Math.floor(scaled);
    const chosen = lower % 2 === 0 ? lower : lower + 1;
    return (chosen / 1e5).toFixed(5);
  }
  const s = v.toFixed(5);
  return s === '-0.00000' ? '-0.00000' : s;
}

/** Python's repr() of a float (used for the best_score attribute). */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(v);
  const exp = Math.floor(Math.log10(abs));
  if (abs >= 1e16 || abs < 1e-4 || exp >= 16 || exp < -4) {
    const s = v.toExponential();
    const [m, e] = s.split('e') as [string, string];
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const s = String(v);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}
