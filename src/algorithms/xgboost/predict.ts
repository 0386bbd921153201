/**
 * Prediction with a BoosterModel, reproducing XGBoost 1.7's CPU predictor bit for bit where it
 * matters: features and split conditions are float32 and compared as `x < split`, a missing value
 * (NaN) takes the node's default direction, each row's margin starts at base_score in margin space
 * (float32) and adds the leaves in tree order in float32, and the objective's transform uses
 * XGBoost's float formulas (sigmoid with its overflow clamp, softmax over a double sum, expf).
 */
import type { BoosterModel, DenseMatrix, ObjectiveName, Tree } from './model.ts';

export interface PredictOptions {
  /** Return the raw margin (sum of leaves + base margin) instead of the transformed prediction. */
  outputMargin?: boolean;
  /** Boosting rounds [begin, end) to use, as XGBoost's iteration_range; end 0 means all. */
  iterationRange?: [number, number];
}

const f32 = Math.fround;
const SIGMOID_CLAMP = f32(88.7);

/** base_score converted to margin space as XGBoost's ObjFunction::ProbToMargin does (float32). */
export function baseMargin(objective: ObjectiveName, baseScore: number): number {
  const b = f32(baseScore);
  switch (objective) {
    case 'binary:logistic':
    case 'reg:logistic':
      // -logf(1.0f / base_score - 1.0f)
      return f32(-f32(Math.log(f32(f32(1 / b) - 1))));
    case 'count:poisson':
    case 'reg:gamma':
    case 'reg:tweedie':
      return f32(Math.log(b));
    default:
      return b;
  }
}

/** XGBoost's common::Sigmoid in float32. */
export function sigmoid(x: number): number {
  const t = Math.min(-x, SIGMOID_CLAMP);
  return f32(1 / f32(f32(Math.exp(t)) + 1));
}

/** Number of prediction columns per row for a model (numClass for multi-class margins / softprob). */
export function outputGroups(model: BoosterModel): number {
  return Math.max(model.numClass, 1);
}

function treeRange(model: BoosterModel, range: [number, number] | undefined): [number, number] {
  const nTrees = model.trees.length;
  if (!range) return [0, nTrees];
  const [begin, end] = range;
  if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < 0) {
    throw new Error(`predict: invalid iterationRange [${begin}, ${end}]`);
  }
  const perIteration = Math.max(model.numParallelTree ?? 1, 1) * outputGroups(model);
  const treeBegin = begin * perIteration;
  const treeEnd = end === 0 ? nTrees : end * perIteration;
  if (treeEnd > nTrees) {
    throw new Error(
      `predict: iterationRange end ${end} exceeds the model's ${Math.floor(nTrees / perIteration)} boosting rounds`,
    );
  }
  if (end !== 0 && begin > end) throw new Error(`predict: iterationRange begin ${begin} > end ${end}`);
  return [Math.min(treeBegin, treeEnd), treeEnd];
}

/** Pads x with missing columns up to `cols` (XGBoost treats features absent from the data as missing). */
function padColumns(x: DenseMatrix, cols: number): DenseMatrix {
  const values = new Float32Array(x.rows * cols).fill(NaN);
  for (let r = 0; r < x.rows; r++) {
    values.set(x.values.subarray(r * x.cols, (r + 1) * x.cols), r * cols);
  }
  return { rows: x.rows, cols, values };
}

function maxSplitFeature(trees: Tree[], begin: number, end: number): number {
  let max = -1;
  for (let t = begin; t < end; t++) {
    const tree = trees[t]!;
    const left = tree.leftChildren;
    const idx = tree.splitIndices;
    for (let i = 0; i < left.length; i++) {
      if (left[i] !== -1 && idx[i]! > max) max = idx[i]!;
    }
  }
  return max;
}

const BLOCK_BYTES = 256 * 1024;

/** Raw margins, rows × groups (float32 sums as XGBoost). */
export function predictMargin(model: BoosterModel, x: DenseMatrix, iterationRange?: [number, number]): Float32Array {
  if (x.values.length < x.rows * x.cols) {
    throw new Error(`predict: matrix has ${x.values.length} values for ${x.rows}×${x.cols}`);
  }
  if (model.numFeature > 0 && x.cols > model.numFeature) {
    throw new Error(
      `predict: data has ${x.cols} columns but the model was trained on ${model.numFeature} features`,
    );
  }
  if (model.treeInfo.length !== model.trees.length) {
    throw new Error(`predict: model has ${model.trees.length} trees but ${model.treeInfo.length} tree_info entries`);
  }
  const groups = outputGroups(model);
  const [tBegin, tEnd] = treeRange(model, iterationRange);
  const needed = maxSplitFeature(model.trees, tBegin, tEnd) + 1;
  const data = needed > x.cols ? padColumns(x, needed) : x;
  const rows = data.rows;
  const cols = data.cols;
  const X = data.values;
  const out = new Float32Array(rows * groups).fill(baseMargin(model.objective, model.baseScore));
  const trees = model.trees;
  const treeInfo = model.treeInfo;
  // Rows are processed in blocks small enough to stay in cache while every tree walks them.
  const block = Math.max(64, Math.floor(BLOCK_BYTES / (cols * 4)));

  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    for (let t = tBegin; t < tEnd; t++) {
      const tree = trees[t]!;
      const left = tree.leftChildren;
      const right = tree.rightChildren;
      const split = tree.splitIndices;
      const cond = tree.splitConditions;
      const dleft = tree.defaultLeft;
      const g = treeInfo[t]!;
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        let n = 0;
        let l = left[0]!;
        while (l !== -1) {
          const v = X[base + split[n]!]!;
          // v < split: left; v >= split: right; NaN (missing): the default direction
          n = v < cond[n]! ? l : v === v ? right[n]! : dleft[n] ? l : right[n]!;
          l = left[n]!;
        }
        const o = r * groups + g;
        out[o] = out[o]! + cond[n]!;
      }
    }
  }
  return out;
}

/** Applies the objective's prediction transform (XGBoost's PredTransform) to margins, in place where possible. */
export function transformMargins(model: BoosterModel, margins: Float32Array, rows: number): Float32Array {
  const groups = outputGroups(model);
  switch (model.objective) {
    case 'binary:logistic':
    case 'reg:logistic':
      for (let i = 0; i < margins.length; i++) margins[i] = sigmoid(margins[i]!);
      return margins;
    case 'count:poisson':
    case 'reg:gamma':
    case 'reg:tweedie':
      for (let i = 0; i < margins.length; i++) margins[i] = Math.exp(margins[i]!);
      return margins;
    case 'binary:hinge':
      for (let i = 0; i < margins.length; i++) margins[i] = margins[i]! > 0 ? 1 : 0;
      return margins;
    case 'multi:softprob':
      for (let r = 0; r < rows; r++) {
        const o = r * groups;
        let wmax = margins[o]!;
        for (let k = 1; k < groups; k++) {
          const v = margins[o + k]!;
          if (v > wmax || wmax !== wmax) wmax = v; // fmaxf ignores NaN
        }
        let wsum = 0; // double, as XGBoost
        for (let k = 0; k < groups; k++) {
          const e = f32(Math.exp(f32(margins[o + k]! - wmax)));
          margins[o + k] = e;
          wsum += e;
        }
        const s = f32(wsum);
        for (let k = 0; k < groups; k++) margins[o + k] = margins[o + k]! / s;
      }
      return margins;
    case 'multi:softmax': {
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        const o = r * groups;
        let best = 0;
        let bestV = margins[o]!;
        for (let k = 1; k < groups; k++) {
          if (margins[o + k]! > bestV) {
            bestV = margins[o + k]!;
            best = k;
          }
        }
        out[r] = best;
      }
      return out;
    }
    default:
      // reg:squarederror, binary:logitraw, reg:absoluteerror: identity
      return margins;
  }
}

/**
 * Predicts x with the model as XGBoost 1.7's Booster.predict does: rows × numClass for
 * multi:softprob (and for margins of multi-class models), the class index for multi:softmax,
 * probabilities for logistic objectives, exp(margin) for poisson/gamma/tweedie, 0/1 for hinge.
 */
export function predict(model: BoosterModel, x: DenseMatrix, opts: PredictOptions = {}): Float32Array {
  const margins = predictMargin(model, x, opts.iterationRange);
  if (opts.outputMargin) return margins;
  return transformMargins(model, margins, x.rows);
}
