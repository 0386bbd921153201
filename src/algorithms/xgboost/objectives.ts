/**
 * Learning objectives as XGBoost 1.7 defines them: gradients and hessians, the margin ↔
 * output transforms, base_score handling and label validation.
 *
 * Arithmetic follows XGBoost's single-precision code (`Math.fround` after every float
 * operation) so gradients match the library bit for bit where the C library's expf/logf
 * are correctly rounded.
 *
 * `computeGradients` and `transformRow` are kernels: self-contained function declarations
 * (no references to module scope) that the worker pool also ships to its threads as source.
 */
import type { ObjectiveName } from './model.ts';

/** Numeric ids used by the kernels; keep in step with `computeGradients`/`transformRow`. */
export const OBJECTIVE_IDS: Record<ObjectiveName, number> = {
  'reg:squarederror': 0,
  'reg:logistic': 1,
  'binary:logistic': 2,
  'binary:logitraw': 3,
  'binary:hinge': 4,
  'multi:softmax': 5,
  'multi:softprob': 6,
  'count:poisson': 7,
  'reg:tweedie': 8,
  'reg:gamma': 9,
  'reg:absoluteerror': 10,
};

export interface ObjectiveConfig {
  name: ObjectiveName;
  numClass: number;
  scalePosWeight: number;
  /** The objective's own max_delta_step (count:poisson: 0.7 unless set). */
  maxDeltaStep: number;
  tweedieVariancePower: number;
}

export class LabelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelError';
  }
}

export function isMultiClass(name: ObjectiveName): boolean {
  return name === 'multi:softmax' || name === 'multi:softprob';
}

/** Number of margin outputs per row (XGBoost's num_output_group). */
export function outputGroups(cfg: ObjectiveConfig): number {
  return isMultiClass(cfg.name) ? cfg.numClass : 1;
}

function formatFloatLikeOstream(v: number): string {
  // std::ostream default formatting of a float: %g with 6 significant digits.
  const s = v.toPrecision(6);
  if (s.includes('e')) {
    const [m, e] = s.split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const exp = Number(e);
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export { formatFloatLikeOstream };

/** XGBoost's ObjFunction::DefaultEvalMetric. */
export function defaultMetric(cfg: ObjectiveConfig): string {
  switch (cfg.name) {
    case 'reg:squarederror':
    case 'reg:logistic':
      return 'rmse';
    case 'binary:logistic':
    case 'binary:logitraw':
      return 'logloss';
    case 'binary:hinge':
      return 'error';
    case 'multi:softmax':
    case 'multi:softprob':
      return 'mlogloss';
    case 'count:poisson':
      return 'poisson-nloglik';
    case 'reg:gamma':
      return 'gamma-nloglik';
    case 'reg:tweedie':
      return `tweedie-nloglik@${formatFloatLikeOstream(Math.fround(cfg.tweedieVariancePower))}`;
    case 'reg:absoluteerror':
      return 'mae';
  }
}

/**
 * base_score (in output space) → initial margin, as ObjFunction::ProbToMargin.
 * Throws for logistic objectives when base_score is outside (0, 1), like XGBoost.
 */
export function baseScoreToMargin(name: ObjectiveName, baseScore: number): number {
  const b = Math.fround(baseScore);
  switch (name) {
    case 'reg:logistic':
    case 'binary:logistic':
      if (!(b > 0 && b < 1)) {
        throw new LabelError(`base_score must be in (0,1) for logistic loss, got: ${formatFloatLikeOstream(b)}`);
      }
      return Math.fround(-Math.fround(Math.log(Math.fround(Math.fround(1 / b) - 1))));
    case 'count:poisson':
    case 'reg:gamma':
    case 'reg:tweedie':
      return Math.fround(Math.log(b));
    default:
      return b;
  }
}

/**
 * Label checks XGBoost performs while computing gradients (plus the finite-label check it
 * performs when labels are set). Throws a LabelError with XGBoost's wording.
 */
export function validateLabels(cfg: ObjectiveConfig, labels: Float32Array, weights: Float32Array | undefined, channel: string): void {
  const where = (i: number) => `${channel} channel, row ${i + 1}`;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isFinite(y)) throw new LabelError(`Label contains NaN, infinity or a value too large (${where(i)}).`);
    switch (cfg.name) {
      case 'reg:logistic':
      case 'binary:logistic':
      case 'binary:logitraw':
        if (!(y >= 0 && y <= 1)) throw new LabelError(`label must be in [0,1] for logistic regression, got ${y} (${where(i)})`);
        break;
      case 'multi:softmax':
      case 'multi:softprob':
        if (!(y >= 0 && y < cfg.numClass) || !Number.isInteger(y)) {
          throw new LabelError(`SoftmaxMultiClassObj: label must be in [0, num_class), num_class=${cfg.numClass} but found ${y} in label (${where(i)}); labels must be integers 0..${cfg.numClass - 1}`);
        }
        break;
      case 'count:poisson':
        if (y < 0) throw new LabelError(`PoissonRegression: label must be nonnegative, got ${y} (${where(i)})`);
        break;
      case 'reg:tweedie':
        if (y < 0) throw new LabelError(`TweedieRegression: label must be nonnegative, got ${y} (${where(i)})`);
        break;
      case 'reg:gamma':
        if (y <= 0) throw new LabelError(`GammaRegression: label must be positive, got ${y} (${where(i)})`);
        break;
      default:
        break;
    }
  }
  if (weights) {
    if (weights.length !== labels.length) throw new LabelError(`${channel} channel: ${weights.length} weights for ${labels.length} rows`);
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]!;
      if (!(w >= 0) || !Number.isFinite(w)) throw new LabelError(`Weights must be positive values (${where(i)}: ${w})`);
    }
  }
}

/**
 * Kernel: gradient pairs for rows [start, end). `preds` holds K margins per row, `out`
 * receives interleaved (grad, hess) float pairs, K per row for multi-class. `spw`, `mds` and
 * `rho` are scale_pos_weight, the objective's max_delta_step and tweedie_variance_power
 * (float32 values). For logistic objectives `probs` may carry the already computed sigmoid
 * of rows start… (the metrics' transform), saving the exponentials.
 *
 * Each objective has its own small function, so only the one in use gets compiled.
 */
export function computeGradients(
  obj: number,
  K: number,
  preds: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  out: Float32Array,
  start: number,
  end: number,
  spw: number,
  mds: number,
  rho: number,
  probs: Float32Array | null = null,
): void {
  switch (obj) {
    case 0:
      return gradSquaredError(preds, labels, weights, out, start, end, spw);
    case 1:
    case 2:
    case 3:
      return gradLogistic(preds, labels, weights, out, start, end, spw, probs);
    case 4:
      return gradHinge(preds, labels, weights, out, start, end);
    case 5:
    case 6:
      return gradSoftmax(K, preds, labels, weights, out, start, end);
    case 7:
      return gradPoisson(preds, labels, weights, out, start, end, mds);
    case 8:
      return gradTweedie(preds, labels, weights, out, start, end, rho);
    case 9:
      return gradGamma(preds, labels, weights, out, start, end);
    case 10:
      return gradAbsoluteError(preds, labels, weights, out, start, end);
    default:
      throw new Error(`unknown objective id ${obj}`);
  }
}

/** Kernel: reg:squarederror (XGBoost's RegLossObj applies scale_pos_weight to label 1). */
export function gradSquaredError(preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number, spw: number): void {
  const f = Math.fround;
  for (let i = start; i < end; i++) {
    const y = labels[i]!;
    let w = weights === null ? 1 : weights[i]!;
    if (y === 1) w = f(w * spw);
    out[2 * i] = f(f(preds[i]! - y) * w);
    out[2 * i + 1] = w;
  }
}

/** Kernel: reg:logistic, binary:logistic and binary:logitraw (same gradients). */
export function gradLogistic(
  preds: Float32Array,
  labels: Float32Array,
  weights: Float32Array | null,
  out: Float32Array,
  start: number,
  end: number,
  spw: number,
  probs: Float32Array | null,
): void {
  const f = Math.fround;
  const EPS = f(1e-16);
  for (let i = start; i < end; i++) {
    const y = labels[i]!;
    let w = weights === null ? 1 : weights[i]!;
    if (y === 1) w = f(w * spw);
    let p: number;
    if (probs !== null) {
      p = probs[i - start]!;
    } else {
      const x = preds[i]!;
      const xm = -x < 88.69999694824219 ? -x : 88.69999694824219;
      p = f(1 / f(f(f(Math.exp(xm)) + 1) + EPS));
    }
    let h = f(p * f(1 - p));
    if (h < EPS) h = EPS;
    out[2 * i] = f(f(p - y) * w);
    out[2 * i + 1] = f(h * w);
  }
}

/** Kernel: binary:hinge. */
export function gradHinge(preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number): void {
  const f = Math.fround;
  for (let i = start; i < end; i++) {
    const w = weights === null ? 1 : weights[i]!;
    const y = f(labels[i]! * 2 - 1);
    if (f(preds[i]! * y) < 1) {
      out[2 * i] = f(-y * w);
      out[2 * i + 1] = w;
    } else {
      out[2 * i] = 0;
      out[2 * i + 1] = 1.1754943508222875e-38; // FLT_MIN
    }
  }
}

/** Kernel: multi:softmax / multi:softprob (softmax from max(FLT_MIN, margins), as XGBoost). */
export function gradSoftmax(K: number, preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number): void {
  const f = Math.fround;
  const EPS = f(1e-16);
  for (let i = start; i < end; i++) {
    const o = i * K;
    let wmax = 1.1754943508222875e-38;
    for (let k = 0; k < K; k++) {
      const v = preds[o + k]!;
      if (v > wmax) wmax = v;
    }
    let wsum = 0;
    for (let k = 0; k < K; k++) wsum += f(Math.exp(f(preds[o + k]! - wmax)));
    const wsumF = f(wsum);
    const label = labels[i]!;
    const wt = weights === null ? 1 : weights[i]!;
    for (let k = 0; k < K; k++) {
      let p = f(f(Math.exp(f(preds[o + k]! - wmax))) / wsumF);
      let h = f(f(f(2 * p) * f(1 - p)) * wt);
      if (h < EPS) h = EPS;
      if (label === k) p = f(p - 1);
      out[2 * (o + k)] = f(p * wt);
      out[2 * (o + k) + 1] = h;
    }
  }
}

/** Kernel: count:poisson. */
export function gradPoisson(preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number, mds: number): void {
  const f = Math.fround;
  for (let i = start; i < end; i++) {
    const w = weights === null ? 1 : weights[i]!;
    const p = preds[i]!;
    out[2 * i] = f(f(f(Math.exp(p)) - labels[i]!) * w);
    out[2 * i + 1] = f(f(Math.exp(f(p + mds))) * w);
  }
}

/** Kernel: reg:tweedie. */
export function gradTweedie(preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number, rho: number): void {
  const f = Math.fround;
  const a = f(1 - rho);
  const b = f(2 - rho);
  for (let i = start; i < end; i++) {
    const w = weights === null ? 1 : weights[i]!;
    const p = preds[i]!;
    const y = labels[i]!;
    const ea = f(Math.exp(f(a * p)));
    const eb = f(Math.exp(f(b * p)));
    out[2 * i] = f(f(f(-y * ea) + eb) * w);
    out[2 * i + 1] = f(f(f(f(-y * a) * ea) + f(b * eb)) * w);
  }
}

/** Kernel: reg:gamma. */
export function gradGamma(preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number): void {
  const f = Math.fround;
  for (let i = start; i < end; i++) {
    const w = weights === null ? 1 : weights[i]!;
    const r = f(labels[i]! / f(Math.exp(preds[i]!)));
    out[2 * i] = f(f(1 - r) * w);
    out[2 * i + 1] = f(r * w);
  }
}

/** Kernel: reg:absoluteerror (gradient sign(pred − label)·w, hessian w). */
export function gradAbsoluteError(preds: Float32Array, labels: Float32Array, weights: Float32Array | null, out: Float32Array, start: number, end: number): void {
  const f = Math.fround;
  for (let i = start; i < end; i++) {
    const w = weights === null ? 1 : weights[i]!;
    const d = f(preds[i]! - labels[i]!);
    out[2 * i] = f((d > 0 ? 1 : d < 0 ? -1 : 0) * w);
    out[2 * i + 1] = w;
  }
}

/**
 * Kernel: XGBoost's EvalTransform for one row: margins `preds[o .. o+K)` → values the
 * metrics see, written to `dst[0 .. K)`. Multi-class always yields probabilities.
 */
export function transformRow(obj: number, preds: Float32Array, o: number, K: number, dst: Float64Array): void {
  const f = Math.fround;
  switch (obj) {
    case 1:
    case 2: {
      const x = preds[o]!;
      const xm = -x < 88.69999694824219 ? -x : 88.69999694824219;
      dst[0] = f(1 / f(f(f(Math.exp(xm)) + 1) + 1.0000000180025095e-16));
      return;
    }
    case 4:
      dst[0] = preds[o]! > 0 ? 1 : 0;
      return;
    case 5:
    case 6: {
      let wmax = preds[o]!;
      for (let k = 1; k < K; k++) {
        const v = preds[o + k]!;
        if (v > wmax) wmax = v;
      }
      let wsum = 0;
      for (let k = 0; k < K; k++) {
        const e = f(Math.exp(f(preds[o + k]! - wmax)));
        dst[k] = e;
        wsum += e;
      }
      const ws = f(wsum);
      for (let k = 0; k < K; k++) dst[k] = f(dst[k]! / ws);
      return;
    }
    case 7:
    case 8:
    case 9:
      dst[0] = f(Math.exp(preds[o]!));
      return;
    default:
      dst[0] = preds[o]!;
  }
}

/**
 * Kernel: EvalTransform of rows [start, end) into out[(i − start)·K + k], one small function
 * per kind of transform.
 */
export function transformRange(obj: number, preds: Float32Array, start: number, end: number, K: number, out: Float32Array): void {
  switch (obj) {
    case 1:
    case 2:
      return sigmoidRange(preds, start, end, out);
    case 4:
      return stepRange(preds, start, end, out);
    case 5:
    case 6:
      return softmaxRange(preds, start, end, K, out);
    case 7:
    case 8:
    case 9:
      return expRange(preds, start, end, out);
    default:
      out.set(preds.subarray(start, end));
  }
}

/** Kernel: XGBoost's single-precision sigmoid of rows [start, end). */
export function sigmoidRange(preds: Float32Array, start: number, end: number, out: Float32Array): void {
  const f = Math.fround;
  const eps = f(1e-16);
  for (let i = start; i < end; i++) {
    const x = preds[i]!;
    const xm = -x < 88.69999694824219 ? -x : 88.69999694824219;
    out[i - start] = f(1 / f(f(f(Math.exp(xm)) + 1) + eps));
  }
}

/** Kernel: binary:hinge's 0/1 output. */
export function stepRange(preds: Float32Array, start: number, end: number, out: Float32Array): void {
  for (let i = start; i < end; i++) out[i - start] = preds[i]! > 0 ? 1 : 0;
}

/** Kernel: exp of rows [start, end) (count:poisson, reg:gamma, reg:tweedie). */
export function expRange(preds: Float32Array, start: number, end: number, out: Float32Array): void {
  for (let i = start; i < end; i++) out[i - start] = Math.exp(preds[i]!);
}

/** Kernel: common::Softmax of rows [start, end) (K margins each). */
export function softmaxRange(preds: Float32Array, start: number, end: number, K: number, out: Float32Array): void {
  const f = Math.fround;
  for (let i = start; i < end; i++) {
    const o = i * K;
    const d = (i - start) * K;
    let wmax = preds[o]!;
    for (let k = 1; k < K; k++) {
      const v = preds[o + k]!;
      if (v > wmax) wmax = v;
    }
    let wsum = 0;
    for (let k = 0; k < K; k++) {
      const e = f(Math.exp(f(preds[o + k]! - wmax)));
      out[d + k] = e;
      wsum += e;
    }
    const ws = f(wsum);
    for (let k = 0; k < K; k++) out[d + k] = out[d + k]! / ws;
  }
}

/** Output-space prediction (PredTransform) for one row; multi:softmax gives the class index. */
export function predTransform(name: ObjectiveName, margins: Float32Array, o: number, K: number, out: Float32Array, outOffset: number): void {
  const tmp = new Float64Array(K);
  const id = OBJECTIVE_IDS[name];
  if (name === 'multi:softmax') {
    let best = 0;
    for (let k = 1; k < K; k++) if (margins[o + k]! > margins[o + best]!) best = k;
    out[outOffset] = best;
    return;
  }
  transformRow(id, margins, o, K, tmp);
  for (let k = 0; k < K; k++) out[outOffset + k] = tmp[k]!;
}
