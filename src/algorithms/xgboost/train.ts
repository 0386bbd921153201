/**
 * XGBoost training (gbtree booster, hist tree method) with the behaviour of SageMaker's
 * XGBoost 1.7 container: one log line per round in the container's format, evaluation on
 * the train and validation channels, early stopping on the validation channel's last metric
 * with the best model kept, and final metrics keyed `train:<metric>` / `validation:<metric>`.
 *
 * The numerics follow XGBoost 1.7.4 closely enough that, without row or column sampling,
 * trees and per-round metrics match the library; with sampling, the same random streams
 * are used, so results match as well up to floating-point summation order.
 */
import type { BoosterModel, LabeledData, Tree } from './model.ts';
import type { XgbParams } from './hyperparameters.ts';
import { baseScoreToMargin, defaultMetric, isMultiClass, OBJECTIVE_IDS, outputGroups, validateLabels, type ObjectiveConfig } from './objectives.ts';
import { finalizeMetric, formatMetricValue, parseMetric, pythonFloatRepr, rankMetric, type MetricSpec } from './metrics.ts';
import { ColumnSampler, Mt19937 } from './random.ts';
import { buildBinTable } from './quantiles.ts';
import { TreeBuilder, type SplitParams } from './tree-builder.ts';
import {
  attachState,
  CTL,
  descLayout,
  InlineExecutor,
  STEP,
  treeLayout,
  WorkerExecutor,
  type Buffers,
  type Executor,
  type KState,
  type Meta,
} from './worker-pool.ts';

export interface TrainResult {
  model: BoosterModel;
  finalMetrics: Record<string, number>;
}

export class TrainingDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDataError';
  }
}

/**
 * Tuning knobs (exported for tests and benchmarks). Below `inlineThreshold` feature values
 * the kernels run on the calling thread instead of worker threads.
 */
export const trainTuning = { inlineThreshold: 400_000 };

const sab = (bytes: number) => new SharedArrayBuffer(Math.max(8, Math.ceil(bytes / 8) * 8));

function splitRange(n: number, parts: number): number[] {
  const out = [0];
  for (let i = 1; i <= parts; i++) out.push(Math.floor((n * i) / parts));
  return out;
}

/** Contiguous feature blocks with about equal weight each. */
function balancedBlocks(weights: number[], parts: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  const out = [0];
  let acc = 0;
  let f = 0;
  for (let p = 1; p < parts; p++) {
    const goal = (total * p) / parts;
    while (f < weights.length && acc + weights[f]! / 2 < goal) acc += weights[f++]!;
    out.push(f);
  }
  out.push(weights.length);
  return out;
}

function weightedMedian(labels: Float32Array, weights: Float32Array | undefined): number {
  const n = labels.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((a, b) => labels[a]! - labels[b]! || a - b);
  if (!weights) {
    // common::Quantile(0.5) with linear interpolation
    if (0.5 <= 1 / (n + 1)) return labels[idx[0]!]!;
    if (0.5 >= n / (n + 1)) return labels[idx[n - 1]!]!;
    const x = 0.5 * (n + 1);
    const k = Math.floor(x) - 1;
    const d = x - 1 - k;
    const v0 = labels[idx[k]!]!;
    const v1 = labels[idx[k + 1]!]!;
    return Math.fround(v0 + d * Math.fround(v1 - v0));
  }
  const cdf = new Float32Array(n);
  cdf[0] = weights[idx[0]!]!;
  for (let i = 1; i < n; i++) cdf[i] = cdf[i - 1]! + weights[idx[i]!]!;
  const thresh = Math.fround(cdf[n - 1]! * 0.5);
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! < thresh) lo = mid + 1;
    else hi = mid;
  }
  return labels[idx[Math.min(lo, n - 1)]!]!;
}

/** XGBoost's quantile of the residuals of a leaf (reg:absoluteerror leaf refresh). */
function leafQuantile(values: number[], weights: number[] | null): number {
  const n = values.length;
  if (n === 0) return NaN;
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => values[a]! - values[b]! || a - b);
  if (!weights) {
    if (0.5 <= 1 / (n + 1)) return values[order[0]!]!;
    if (0.5 >= n / (n + 1)) return values[order[n - 1]!]!;
    const x = 0.5 * (n + 1);
    const k = Math.floor(x) - 1;
    const d = x - 1 - k;
    const v0 = values[order[k]!]!;
    const v1 = values[order[k + 1]!]!;
    return Math.fround(v0 + d * Math.fround(v1 - v0));
  }
  const cdf = new Float32Array(n);
  cdf[0] = weights[order[0]!]!;
  for (let i = 1; i < n; i++) cdf[i] = cdf[i - 1]! + weights[order[i]!]!;
  const thresh = Math.fround(cdf[n - 1]! * 0.5);
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cdf[mid]! < thresh) lo = mid + 1;
    else hi = mid;
  }
  return values[order[Math.min(lo, n - 1)]!]!;
}

/**
 * Train a gbtree model with the hist tree method (whatever tree_method says, as Kiln has only
 * this one), logging one line per round through `log`:
 *
 *   [12]\ttrain-error:0.04886\tvalidation-error:0.07508
 *
 * With early_stopping_rounds and a validation channel, training stops when the last
 * eval_metric (or the objective's default) has not improved on the validation channel for
 * that many rounds; "Stopping. Best iteration:" and the best round's line are logged, the
 * model keeps the trees up to the best iteration (as SageMaker's container saves the best
 * model) with attributes best_iteration and best_score, and `finalMetrics` reports the best
 * round. Otherwise `finalMetrics` holds the last round's values.
 *
 * Throws LabelError for labels the objective cannot take, TrainingDataError for inconsistent
 * inputs, and Error for internal failures.
 */
export async function train(
  params: XgbParams,
  trainData: LabeledData,
  validation: LabeledData | undefined,
  log: (line: string) => void,
): Promise<TrainResult> {
  const X0 = trainData.features;
  const n = X0.rows;
  const F = X0.cols;
  if (n === 0) throw new TrainingDataError('The training channel has no rows.');
  if (F === 0) throw new TrainingDataError('The training channel has no feature columns.');
  if (X0.values.length !== n * F) throw new TrainingDataError(`training features: expected ${n * F} values for ${n}×${F}, got ${X0.values.length}`);
  if (trainData.labels.length !== n) throw new TrainingDataError(`training channel: ${trainData.labels.length} labels for ${n} rows`);
  const hasValid = validation !== undefined && validation.features.rows > 0;
  if (validation && validation.features.rows > 0) {
    // Fewer columns is fine (libsvm data whose last features never occur): they are missing.
    if (validation.features.cols > F) {
      throw new TrainingDataError(`feature_names mismatch: the validation channel has ${validation.features.cols} feature columns, the training channel ${F}`);
    }
    if (validation.labels.length !== validation.features.rows) throw new TrainingDataError('validation channel: label count differs from row count');
  }

  const objective: ObjectiveConfig = {
    name: params.objective,
    numClass: params.numClass ?? 0,
    scalePosWeight: params.scalePosWeight,
    maxDeltaStep: params.objective === 'count:poisson' ? (params.maxDeltaStep ?? Math.fround(0.7)) : (params.maxDeltaStep ?? 0),
    tweedieVariancePower: params.tweedieVariancePower,
  };
  validateLabels(objective, trainData.labels, trainData.weights, 'train');
  if (hasValid) validateLabels(objective, validation!.labels, validation!.weights, 'validation');
  const K = outputGroups(objective);

  // Metrics (deduplicated by name, as the learner does).
  const metricNames = params.evalMetric ?? [defaultMetric(objective)];
  const metrics: MetricSpec[] = [];
  for (const m of metricNames) {
    const spec = parseMetric(m, params.objective);
    if (!metrics.some((x) => x.name === spec.name)) metrics.push(spec);
  }

  // base_score
  let baseScore = params.baseScore;
  if (baseScore === undefined) {
    if (params.objective === 'reg:absoluteerror') {
      // MeanAbsoluteError::InitEstimation: median · Σw stored as float, then divided by Σw.
      let w = 0;
      if (trainData.weights) for (let i = 0; i < n; i++) w += trainData.weights[i]!;
      else w = n;
      baseScore = Math.fround(Math.fround(weightedMedian(trainData.labels, trainData.weights) * w) / w);
    } else {
      baseScore = 0.5;
    }
  }
  baseScore = Math.fround(baseScore);
  const baseMargin = baseScoreToMargin(params.objective, baseScore);

  // Threads
  const cores = Math.max(1, params.nthread);
  const useWorkers = n * F >= trainTuning.inlineThreshold;
  const T = useWorkers ? Math.max(1, Math.min(cores, Math.floor(n / 256) || 1)) : 1;

  // Sizes
  const nv = hasValid ? validation!.features.rows : 0;
  const maxDepth = params.maxDepth;
  const lossguide = params.growPolicy === 'lossguide';
  const depthCap = maxDepth > 0 ? maxDepth : 31;
  const leafCap = params.maxLeaves > 0 ? params.maxLeaves : Infinity;
  const nodeCap = Math.min(2 ** Math.min(depthCap + 1, 31) - 1, 2 * Math.min(leafCap, n) + 1, 2 * n + 1);
  const levelMax = lossguide ? Math.min(leafCap, n) : Math.min(2 ** Math.max(0, Math.min(depthCap, 30) - 1), n);
  const maxApply = lossguide ? 1 : Math.max(1, Math.min(256, levelMax));
  const scratchSlots = 2 * maxApply;
  const maxEval = Math.max(2, 2 * maxApply);
  const slotEstimate = Math.max(1, F * (Math.min(params.maxBin, n) + 1)) * 2;
  const poolBudget = Math.floor((6 * 2 ** 30) / (slotEstimate * 8));
  const poolSlots = Math.max(4, Math.min(levelMax + 2 * maxApply + 2, 3 * Math.min(levelMax, n) + 4, poolBudget));

  // Training values into shared memory; note missing values (needed to size bin indices).
  const Xs = sab(n * F * 4);
  const Xsv = new Float32Array(Xs);
  Xsv.set(X0.values);
  const anyMissing = X0.values.includes(NaN);
  const binsU16 = params.maxBin > 256 || (params.maxBin === 256 && anyMissing);

  const cutStride = params.maxBin + 1;
  const csrU32 = F * (params.maxBin + 1) > 65535;
  const colMajor = n >= 50_000;
  const totalCutCap = F * cutStride;
  const buffers: Buffers = {
    ctl: sab(CTL.SIZE * 4),
    geom: sab((T + 2) * 4),
    err: sab(8192),
    X: Xs,
    Xv: null,
    labels: sab(n * 4),
    weights: trainData.weights ? sab(n * 4) : null,
    labelsV: hasValid ? sab(nv * 4) : null,
    weightsV: hasValid && validation!.weights ? sab(nv * 4) : null,
    bins: sab(n * F * (binsU16 ? 2 : 1)),
    binsT: colMajor ? sab(n * F * (binsU16 ? 2 : 1)) : sab(8),
    preds: sab(n * K * 4),
    predsV: hasValid ? sab(nv * K * 4) : null,
    gradAll: K > 1 ? sab(n * K * 8) : null,
    gpair: sab(n * 8),
    rowIdx: sab(n * 4),
    tmpIdx: sab(n * 4),
    nodeRange: sab(T * nodeCap * 2 * 4),
    unsampled: sab(T * 2 * 4),
    pool: sab(8), // sized once the cuts are known
    scratch: null,
    colCount: sab(F * 4),
    cutsOut: sab(totalCutCap * 4),
    cutCounts: sab(F * 4),
    minVals: sab(F * 4),
    heavy: sab(3 * F * 8),
    cuts: sab(totalCutCap * 4),
    cutPtr: sab((F + 1) * 4),
    // Lookup tables pay off only when there are many values to bin.
    binTables: F <= 128 && n >= 65536 ? sab(F * 131072 * 2) : null,
    sparse: sab(2 * F * 4),
    csrPtr: sab(8), // sized once the sparse features are known
    csrEnt: sab(8),
    slotBase: sab((F + 1) * 4),
    nbins: sab(F * 4),
    treeI: sab(5 * K * nodeCap * 4),
    treeF: sab(2 * K * nodeCap * 4),
    desc: sab(descLayout({ maxApply, maxEval }).descInts * 4),
    descF: sab(descLayout({ maxApply, maxEval }).descFloats * 8),
    featSets: sab(maxEval * (F + 1) * 4),
    evalOut: sab(maxEval * T * 10 * 8),
    metricOut: sab(T * Math.max(1, metrics.length) * 4 * 8),
    rootSum: sab(T * 2 * 8),
    trace: sab(T * 16 * 8),
  };
  new Float32Array(buffers.labels).set(trainData.labels);
  if (trainData.weights) new Float32Array(buffers.weights!).set(trainData.weights);
  if (hasValid) {
    buffers.Xv = sab(nv * F * 4);
    const xv = new Float32Array(buffers.Xv);
    const vc = validation!.features.cols;
    if (vc === F) {
      xv.set(validation!.features.values);
    } else {
      xv.fill(NaN);
      const src = validation!.features.values;
      for (let r = 0; r < nv; r++) xv.set(src.subarray(r * vc, r * vc + vc), r * F);
    }
    new Float32Array(buffers.labelsV!).set(validation!.labels);
    if (validation!.weights) new Float32Array(buffers.weightsV!).set(validation!.weights);
  }

  const splitParams: SplitParams = {
    eta: params.eta,
    gamma: params.gamma,
    minChildWeight: params.minChildWeight,
    lambda: params.lambda,
    alpha: params.alpha,
    // XGBoost's learner sets max_delta_step=0.7 for count:poisson when unset, which the
    // tree updater sees as well.
    maxDeltaStep: objective.maxDeltaStep,
    maxDepth,
    maxLeaves: params.maxLeaves,
    lossguide,
    colsampleBytree: params.colsampleBytree,
    colsampleBylevel: params.colsampleBylevel,
    colsampleBynode: params.colsampleBynode,
  };
  const meta: Meta = {
    T,
    n,
    F,
    K,
    nv,
    rowStarts: splitRange(n, T),
    vStarts: splitRange(nv, T),
    binsU16,
    nodeCap,
    poolSlots,
    scratchSlots,
    maxApply,
    maxEval,
    objective: OBJECTIVE_IDS[params.objective],
    spw: objective.scalePosWeight,
    mds: objective.maxDeltaStep,
    rho: objective.tweedieVariancePower,
    metricIds: metrics.map((m) => m.id),
    metricParams: metrics.map((m) => m.param),
    sketchBlocks: splitRange(F, T),
    maxBin: params.maxBin,
    cutStride,
    hasWeights: trainData.weights !== undefined,
    hasWeightsV: hasValid && validation!.weights !== undefined,
    hasValid,
    splitParams: [splitParams.minChildWeight, splitParams.lambda, splitParams.alpha, splitParams.maxDeltaStep],
    trace: process.env.KILN_XGB_TRACE !== undefined,
    csrU32,
    colMajor,
  };

  const exec: Executor = useWorkers ? new WorkerExecutor(meta, buffers) : new InlineExecutor(meta, buffers);
  try {
    const v0 = attachState(meta, buffers, 0);
    if (anyMissing) {
      await exec.run(STEP.COUNT | STEP.SKETCH);
    } else {
      v0.colCount.fill(n);
      await exec.run(STEP.SKETCH);
    }
    // Assemble the cuts.
    let total = 0;
    let slot = 0;
    const binsPerFeature: number[] = [];
    for (let f = 0; f < F; f++) {
      const c = v0.cutCounts[f]!;
      v0.cutPtr[f] = total;
      v0.cuts.set(v0.cutsOut.subarray(f * cutStride, f * cutStride + c), total);
      v0.nbins[f] = c;
      v0.slotBase[f] = slot;
      total += c;
      slot += c + (anyMissing ? 1 : 0);
      binsPerFeature.push(c);
    }
    v0.cutPtr[F] = total;
    v0.slotBase[F] = slot;
    if (!binsU16 && (binsPerFeature.some((b) => b > 256) || (anyMissing && binsPerFeature.some((b) => b > 255)))) {
      throw new Error('internal error: bin index does not fit in 8 bits');
    }
    // Features dominated by one value (most rows in one bin) get sparse histograms.
    const nSparse = chooseSparseFeatures(v0, n, F);
    const late: Partial<Buffers> = {
      pool: sab(poolSlots * 2 * slot * 8),
      scratch: T > 1 ? sab((T - 1) * scratchSlots * 2 * slot * 8) : null,
    };
    if (nSparse > 0) {
      late.csrPtr = sab(2 * n * 4);
      late.csrEnt = sab(n * nSparse * (csrU32 ? 4 : 2));
    }
    await exec.attach(late);
    if (v0.binTables) for (let f = 0; f < F; f++) buildBinTable(v0.cuts, v0.cutPtr[f]!, v0.cutPtr[f + 1]!, v0.binTables, f * 131072);
    await exec.run(STEP.BIN | STEP.RELEASE_X);
    v0.X = null;
    buffers.X = null;
    // Histogram geometry is now known. Feature blocks for reduction and split search are
    // balanced by bins.
    v0.geom[0] = 2 * slot;
    v0.geom.set(balancedBlocks(binsPerFeature.map((b) => b + 1), T), 1);
    return await boost(params, meta, buffers, exec, objective, metrics, splitParams, baseScore, baseMargin, hasValid, validation, trainData, log);
  } finally {
    await exec.close();
    if (meta.trace) {
      const tr = new Float64Array(buffers.trace);
      const names = ['COUNT', 'SKETCH', 'BIN', 'APPLY', 'UPDATE_PRED', 'METRICS', 'GRAD', 'PREP_TREE', 'REDUCE', 'EVAL'];
      for (let w = 0; w < T; w++) {
        process.stderr.write(`worker ${w}: ${names.map((nm, i) => `${nm} ${tr[w * 16 + i]!.toFixed(0)}`).join(', ')}\n`);
      }
    }
  }
}

/**
 * Marks the features where one value holds at least half of the rows (judged from the
 * sketches' heaviest values): their histograms skip that value's bin and derive it from the
 * total. Returns how many features qualify.
 */
function chooseSparseFeatures(v: KState, n: number, F: number): number {
  let count = 0;
  for (let f = 0; f < F; f++) {
    const value = v.heavy[3 * f]!;
    const weight = v.heavy[3 * f + 1]!;
    const total = v.heavy[3 * f + 2]!;
    const present = v.colCount[f]!;
    const beg = v.cutPtr[f]!;
    const end = v.cutPtr[f + 1]!;
    const hasMissingSlot = v.slotBase[f + 1]! - v.slotBase[f]! > end - beg;
    // shares of all rows: the heaviest value's, and missing values'
    const valueShare = total > 0 ? (weight / total) * (present / n) : 0;
    const missingShare = (n - present) / n;
    let slot = -1;
    if (hasMissingSlot && missingShare >= 0.5 && missingShare >= valueShare) {
      slot = v.slotBase[f]! + (end - beg);
    } else if (valueShare >= 0.5) {
      let lo = beg;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (v.cuts[mid]! <= value) lo = mid + 1;
        else hi = mid;
      }
      if (lo === end) lo--;
      slot = v.slotBase[f]! + (lo - beg);
    }
    v.sparse[2 * f] = slot >= 0 ? 1 : 0;
    v.sparse[2 * f + 1] = Math.max(slot, 0);
    if (slot >= 0) count++;
  }
  return count;
}

async function boost(
  params: XgbParams,
  meta: Meta,
  buffers: Buffers,
  exec: Executor,
  objective: ObjectiveConfig,
  metrics: MetricSpec[],
  splitParams: SplitParams,
  baseScore: number,
  baseMargin: number,
  hasValid: boolean,
  validation: LabeledData | undefined,
  trainData: LabeledData,
  log: (line: string) => void,
): Promise<TrainResult> {
  const K = meta.K;
  const T = meta.T;
  const v: KState = attachState(meta, buffers, 0);
  v.preds.fill(baseMargin);
  v.predsV?.fill(baseMargin);

  // XGBoost's global engine: the column sampler's seed first, then one draw per tree when
  // rows are subsampled.
  const globalRng = new Mt19937(params.seed);
  const sampler = new ColumnSampler(globalRng.next());
  const subsampling = params.subsample < 1;
  v.descF[0] = params.subsample;
  v.ctl[CTL.SUBSAMPLE] = subsampling ? 1 : 0;
  const builder = new TreeBuilder(meta, v, exec, splitParams, sampler);
  const tl = treeLayout(meta);
  const isMae = params.objective === 'reg:absoluteerror';

  const prepareTree = (k: number) => {
    v.ctl[CTL.NEXT_K] = k;
    v.ctl[CTL.ROOT_SLOT] = 0;
    v.ctl[CTL.SEED] = subsampling ? globalRng.next() | 0 : 0;
  };

  prepareTree(0);
  await exec.run(STEP.GRAD | STEP.PREP_TREE);

  const trees: Tree[] = [];
  const treeInfo: number[] = [];
  const history: Record<string, number>[] = [];
  const lines: string[] = [];
  const earlyStopping = hasValid && params.earlyStoppingRounds !== undefined ? params.earlyStoppingRounds : undefined;
  const esMetric = metrics[metrics.length - 1]!;
  let bestScore = NaN;
  let bestIteration = -1;
  let roundsSinceBest = 0;
  let lastYield = performance.now();

  for (let round = 0; round < params.numRound; round++) {
    for (let k = 0; k < K; k++) {
      const built = await builder.grow(k);
      const tree = built.tree;
      // The last splits need no partition: their rows go straight to the new leaves.
      let mask: number = STEP.UPDATE_PRED | STEP.ROUTE_LAST;
      if (isMae) {
        await exec.run(STEP.APPLY);
        refreshLeavesAbsoluteError(meta, v, tree, trainData, tl);
        v.ctl[CTL.N_APPLY] = 0;
        mask = STEP.UPDATE_PRED;
      }
      v.ctl[CTL.K] = k;
      trees.push(tree);
      treeInfo.push(k);
      if (k === K - 1) {
        mask |= STEP.METRICS;
        v.ctl[CTL.ROUND_TREES] = K;
      }
      if (k < K - 1) {
        prepareTree(k + 1);
        mask |= STEP.PREP_TREE;
      } else if (round + 1 < params.numRound) {
        prepareTree(0);
        mask |= STEP.GRAD | STEP.PREP_TREE;
      }
      await exec.run(mask);
    }

    // Evaluation, in the watchlist order [train, validation].
    const values: Record<string, number> = {};
    const nM = metrics.length;
    let line = `[${round}]`;
    const channels: ['train' | 'validation', number][] = [['train', 0]];
    if (hasValid) channels.push(['validation', 2]);
    for (const [channel, off] of channels) {
      for (let mi = 0; mi < nM; mi++) {
        const spec = metrics[mi]!;
        let value: number;
        if (spec.id >= 20) {
          value = channel === 'train'
            ? rankMetric(spec, params.objective, K, v.preds, trainData.labels, trainData.weights ?? null)
            : rankMetric(spec, params.objective, K, v.predsV!, validation!.labels, validation!.weights ?? null);
        } else {
          let esum = 0;
          let wsum = 0;
          for (let w = 0; w < T; w++) {
            esum += v.metricOut[(w * nM + mi) * 4 + off]!;
            wsum += v.metricOut[(w * nM + mi) * 4 + off + 1]!;
          }
          value = finalizeMetric(spec, esum, wsum);
        }
        // XGBoost prints the double with 17 decimals; Python parses that text back.
        const printed = Number.isFinite(value) ? Number(value.toFixed(17)) : value;
        values[`${channel}:${spec.name}`] = printed;
        line += `\t${channel}-${spec.name}:${formatMetricValue(printed)}`;
      }
    }
    history.push(values);
    lines.push(line);
    log(line);
    // The executors keep this thread busy during steps; let timers and I/O run now and then.
    if (performance.now() - lastYield > 100) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      lastYield = performance.now();
    }

    if (earlyStopping !== undefined) {
      const score = values[`validation:${esMetric.name}`]!;
      if (round === 0) {
        bestScore = score;
        bestIteration = 0;
      } else {
        const improved = esMetric.maximize ? score > bestScore : bestScore > score;
        if (improved) {
          bestScore = score;
          bestIteration = round;
          roundsSinceBest = 0;
        } else {
          roundsSinceBest++;
        }
      }
      if (roundsSinceBest >= earlyStopping) {
        log('Stopping. Best iteration:');
        log(lines[bestIteration]!);
        break;
      }
    }
  }

  const attributes: Record<string, string> = {};
  let finalMetrics = history[history.length - 1]!;
  let keptTrees = trees;
  let keptInfo = treeInfo;
  if (earlyStopping !== undefined && bestIteration >= 0) {
    attributes.best_iteration = String(bestIteration);
    attributes.best_score = pythonFloatRepr(bestScore);
    finalMetrics = history[bestIteration]!;
    // SageMaker keeps the best model (EarlyStopping with save_best).
    keptTrees = trees.slice(0, (bestIteration + 1) * K);
    keptInfo = treeInfo.slice(0, (bestIteration + 1) * K);
  }

  const objectiveParams: Record<string, number> = {};
  switch (params.objective) {
    case 'count:poisson':
      objectiveParams.max_delta_step = objective.maxDeltaStep;
      break;
    case 'reg:tweedie':
      objectiveParams.tweedie_variance_power = objective.tweedieVariancePower;
      break;
    case 'reg:squarederror':
    case 'reg:logistic':
    case 'binary:logistic':
    case 'binary:logitraw':
      objectiveParams.scale_pos_weight = objective.scalePosWeight;
      break;
    default:
      break;
  }
  const model: BoosterModel = {
    objective: params.objective,
    objectiveParams,
    numFeature: meta.F,
    numClass: isMultiClass(params.objective) ? K : 0,
    baseScore,
    trees: keptTrees,
    treeInfo: keptInfo,
    attributes,
  };
  return { model, finalMetrics: { ...finalMetrics } };
}

/** reg:absoluteerror: leaf values become the median residual of their rows (XGBoost 1.7). */
function refreshLeavesAbsoluteError(meta: Meta, v: KState, tree: Tree, data: LabeledData, tl: ReturnType<typeof treeLayout>): void {
  const nNodes = tree.leftChildren.length;
  const labels = data.labels;
  const weights = data.weights;
  for (let nid = 0; nid < nNodes; nid++) {
    if (tree.leftChildren[nid] !== -1) continue;
    const values: number[] = [];
    const ws: number[] = [];
    for (let w = 0; w < meta.T; w++) {
      const b = v.nodeRange[(w * meta.nodeCap + nid) * 2]!;
      const e = v.nodeRange[(w * meta.nodeCap + nid) * 2 + 1]!;
      for (let i = b; i < e; i++) {
        const r = v.rowIdx[i]!;
        if (v.gpair[2 * r + 1] === 0) continue;
        values.push(Math.fround(labels[r]! - v.preds[r]!));
        ws.push(weights ? weights[r]! : 1);
      }
    }
    const q = leafQuantile(values, weights ? ws : null);
    if (Number.isNaN(q)) continue;
    tree.splitConditions[nid] = q;
    v.treeF[tl.leaf + nid] = Math.fround(q);
  }
}

