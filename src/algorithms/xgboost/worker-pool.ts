/**
 * Parallel execution of the training kernels on worker threads.
 *
 * The calling thread owns the tree logic; the heavy loops (sketching, binning, gradients,
 * row partitioning, histograms, split search, prediction updates, metric sums) run on `T`
 * executor threads (the calling thread and T−1 workers) that share typed arrays through
 * SharedArrayBuffers. Thread `w` owns a contiguous block of training rows (and of validation
 * rows), so row-wise steps need no coordination; histogram reduction and split search are
 * split by feature blocks instead.
 *
 * Commands are a bitmask of steps written to a shared control array; worker threads spin
 * briefly, then sleep in Atomics.wait, run the steps for their share and count themselves
 * done. The calling thread is executor thread 0: it runs its own share synchronously and
 * then waits for the others.
 *
 * Workers are `eval` workers built from the kernels' own source text (`Function#toString`),
 * so they start in ~40 ms without a TypeScript loader; the same kernels run in-process when
 * the data is small (`InlineExecutor`).
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  computeGradients,
  expRange,
  gradAbsoluteError,
  gradGamma,
  gradHinge,
  gradLogistic,
  gradPoisson,
  gradSoftmax,
  gradSquaredError,
  gradTweedie,
  sigmoidRange,
  softmaxRange,
  stepRange,
  transformRange,
} from './objectives.ts';
import {
  lgammaD,
  metricError,
  metricGammaDeviance,
  metricGammaNloglik,
  metricLogloss,
  metricMae,
  metricMape,
  metricMerror,
  metricMlogloss,
  metricPartials,
  metricPoissonNloglik,
  metricRmse,
  metricRmsle,
  metricTweedieNloglik,
} from './metrics.ts';
import {
  binRows,
  buildBinTable,
  qsCombine,
  qsCopy,
  qsExactColumn,
  qsFinishCuts,
  qsFlush,
  qsGetSummary,
  qsMakeSummary,
  qsMergeUnit,
  qsNew,
  qsNewScratch,
  qsNewSketch,
  qsPrune,
  qsPushTemp,
  sketchFeatureCuts,
} from './quantiles.ts';
import { buildSparseRows, evaluateFeatures, makeHistKernel, nodeGainClamped, partitionRows, predictBinnedRows, predictRawRows } from './histogram.ts';

/** Step bits of a command (must match the literals in `runSteps`). */
export const STEP = {
  COUNT: 1,
  SKETCH: 2,
  BIN: 4,
  APPLY: 8,
  UPDATE_PRED: 16,
  METRICS: 32,
  GRAD: 64,
  PREP_TREE: 128,
  REDUCE: 256,
  EVAL: 512,
  RELEASE_X: 1024,
  /** Re-attach shared buffers sent on the worker's port (handled by the worker loop). */
  ATTACH: 4096,
  /**
   * With UPDATE_PRED: the pending splits (N_APPLY) are not partitioned; their rows are routed
   * straight to the new leaves.
   */
  ROUTE_LAST: 8192,
} as const;

/** Control-array slots (must match the literals in `runSteps`/`workerLoop`). */
export const CTL = {
  SEQ: 0,
  MASK: 1,
  DONE: 2,
  ERROR: 3,
  K: 4, // class of the tree being prepared / updated
  SEED: 5, // subsample seed (uint32 bits)
  N_APPLY: 6,
  N_BUILD: 7,
  N_REDUCE: 8,
  N_EVAL: 9,
  ROOT_SLOT: 10,
  TREE_NODES: 11, // node count of the tree being applied to predictions
  ROUND_TREES: 12, // trees (classes) of the round for validation prediction
  SUBSAMPLE: 13, // 1 when row subsampling is on
  NEXT_K: 15, // class of the tree PREP_TREE prepares
  SIZE: 32,
} as const;

/** Floats passed with commands (descF header). */
export const CTLF = { SUBSAMPLE_P: 0, SIZE: 8 } as const;

/** Record layout of a split-search result. */
export const REC = 10;

export interface Meta {
  T: number;
  n: number;
  F: number;
  K: number;
  nv: number;
  rowStarts: number[];
  vStarts: number[];
  binsU16: boolean;
  nodeCap: number;
  poolSlots: number;
  scratchSlots: number;
  maxApply: number;
  maxEval: number;
  objective: number;
  spw: number;
  mds: number;
  rho: number;
  metricIds: number[];
  metricParams: number[];
  sketchBlocks: number[];
  maxBin: number;
  cutStride: number;
  hasWeights: boolean;
  hasWeightsV: boolean;
  hasValid: boolean;
  splitParams: number[]; // min_child_weight, lambda, alpha, max_delta_step
  /** Accumulate per-step times per worker into the `trace` buffer. */
  trace: boolean;
  /** CSR entries are 32-bit (more than 65535 histogram slots). */
  csrU32: boolean;
  /** Keep a column-major copy of the bins for partitioning (large data). */
  colMajor: boolean;
}

export interface Buffers {
  ctl: SharedArrayBuffer;
  /** Histogram geometry, known after sketching: [doubles per slot, feature block starts (T + 1)]. */
  geom: SharedArrayBuffer;
  err: SharedArrayBuffer;
  X: SharedArrayBuffer | null;
  Xv: SharedArrayBuffer | null;
  labels: SharedArrayBuffer;
  weights: SharedArrayBuffer | null;
  labelsV: SharedArrayBuffer | null;
  weightsV: SharedArrayBuffer | null;
  bins: SharedArrayBuffer;
  /** Column-major copy of the bins (feature f's column at f·n), for row partitioning. */
  binsT: SharedArrayBuffer;
  preds: SharedArrayBuffer;
  predsV: SharedArrayBuffer | null;
  gradAll: SharedArrayBuffer | null;
  gpair: SharedArrayBuffer;
  rowIdx: SharedArrayBuffer;
  tmpIdx: SharedArrayBuffer;
  nodeRange: SharedArrayBuffer;
  unsampled: SharedArrayBuffer;
  pool: SharedArrayBuffer;
  scratch: SharedArrayBuffer | null;
  colCount: SharedArrayBuffer;
  cutsOut: SharedArrayBuffer;
  cutCounts: SharedArrayBuffer;
  minVals: SharedArrayBuffer;
  /** Per feature, the heaviest value of its sketch and that value's weight. */
  heavy: SharedArrayBuffer;
  cuts: SharedArrayBuffer;
  cutPtr: SharedArrayBuffer;
  /** Per feature [1 if its most frequent bin is elided, that bin's global slot]. */
  sparse: SharedArrayBuffer;
  /** CSR of non-default bins of sparse features: start/end per row, global slot entries. */
  csrPtr: SharedArrayBuffer;
  csrEnt: SharedArrayBuffer;
  /** Binning lookup tables (131072 uint16 per feature), or null for wide data. */
  binTables: SharedArrayBuffer | null;
  slotBase: SharedArrayBuffer;
  nbins: SharedArrayBuffer;
  treeI: SharedArrayBuffer;
  treeF: SharedArrayBuffer;
  desc: SharedArrayBuffer;
  descF: SharedArrayBuffer;
  featSets: SharedArrayBuffer;
  evalOut: SharedArrayBuffer;
  metricOut: SharedArrayBuffer;
  rootSum: SharedArrayBuffer;
  trace: SharedArrayBuffer;
}

/** Descriptor regions inside `desc` (Int32) and `descF` (Float64). */
export function descLayout(meta: Pick<Meta, 'maxApply' | 'maxEval'>) {
  const A = meta.maxApply;
  const E = meta.maxEval;
  return {
    apply: 0, // 6 ints per applied split
    build: 6 * A, // 3 ints per histogram to build
    reduce: 9 * A, // 4 ints per histogram to finish
    evalI: 13 * A, // 2 ints per node to evaluate
    descInts: 13 * A + 2 * E,
    evalF: 8, // 3 doubles per node to evaluate, after the CTLF header
    descFloats: 8 + 3 * E,
  };
}

/** Tree arrays layout inside treeI (Int32) / treeF (Float32): per class, nodeCap entries each. */
export function treeLayout(meta: Pick<Meta, 'K' | 'nodeCap'>) {
  const size = meta.K * meta.nodeCap;
  return { left: 0, right: size, feat: 2 * size, splitBin: 3 * size, defLeft: 4 * size, intSize: 5 * size, leaf: 0, splitValue: size, floatSize: 2 * size };
}

/** Views over the shared buffers, as every executor thread sees them. */
export interface KState {
  meta: Meta;
  w: number;
  ctl: Int32Array;
  geom: Int32Array;
  err: Uint8Array;
  X: Float32Array | null;
  Xv: Float32Array | null;
  labels: Float32Array;
  weights: Float32Array | null;
  labelsV: Float32Array | null;
  weightsV: Float32Array | null;
  bins: Uint8Array | Uint16Array;
  binsT: Uint8Array | Uint16Array;
  preds: Float32Array;
  predsV: Float32Array | null;
  gradAll: Float32Array | null;
  gpair: Float32Array;
  rowIdx: Uint32Array;
  tmpIdx: Uint32Array;
  nodeRange: Int32Array;
  unsampled: Int32Array;
  pool: Float64Array;
  scratch: Float64Array | null;
  colCount: Int32Array;
  cutsOut: Float32Array;
  cutCounts: Int32Array;
  minVals: Float32Array;
  heavy: Float64Array;
  cuts: Float32Array;
  cutPtr: Int32Array;
  binTables: Uint16Array | null;
  sparse: Int32Array;
  csrPtr: Uint32Array;
  csrEnt: Uint16Array | Uint32Array;
  slotBase: Int32Array;
  nbins: Int32Array;
  treeI: Int32Array;
  treeF: Float32Array;
  desc: Int32Array;
  descF: Float64Array;
  featSets: Int32Array;
  evalOut: Float64Array;
  metricOut: Float64Array;
  rootSum: Float64Array;
  trace: Float64Array;
  hist: ((rowIdx: Uint32Array, begin: number, end: number, bins: Uint8Array | Uint16Array, gh: Float32Array, hist: Float64Array, csrPtr: Uint32Array, csrEnt: Uint16Array | Uint32Array, sums: Float64Array) => void) | null;
  /** Σg, Σh of the last histogram built. */
  sums: Float64Array;
  allFeatures: Int32Array;
  /** Transformed predictions of this worker's training / validation rows (metrics, gradients). */
  ptTrain: Float32Array;
  ptValid: Float32Array;
  best: Float64Array;
  splitParams: Float64Array;
}

/** Kernel: typed-array views over the shared buffers for worker `w`. */
export function attachState(meta: Meta, b: Buffers, w: number): KState {
  const all = new Int32Array(meta.F);
  for (let i = 0; i < meta.F; i++) all[i] = i;
  return {
    meta,
    w,
    ctl: new Int32Array(b.ctl),
    geom: new Int32Array(b.geom),
    err: new Uint8Array(b.err),
    X: b.X ? new Float32Array(b.X) : null,
    Xv: b.Xv ? new Float32Array(b.Xv) : null,
    labels: new Float32Array(b.labels),
    weights: b.weights ? new Float32Array(b.weights) : null,
    labelsV: b.labelsV ? new Float32Array(b.labelsV) : null,
    weightsV: b.weightsV ? new Float32Array(b.weightsV) : null,
    bins: meta.binsU16 ? new Uint16Array(b.bins) : new Uint8Array(b.bins),
    binsT: meta.binsU16 ? new Uint16Array(b.binsT) : new Uint8Array(b.binsT),
    preds: new Float32Array(b.preds),
    predsV: b.predsV ? new Float32Array(b.predsV) : null,
    gradAll: b.gradAll ? new Float32Array(b.gradAll) : null,
    gpair: new Float32Array(b.gpair),
    rowIdx: new Uint32Array(b.rowIdx),
    tmpIdx: new Uint32Array(b.tmpIdx),
    nodeRange: new Int32Array(b.nodeRange),
    unsampled: new Int32Array(b.unsampled),
    pool: new Float64Array(b.pool),
    scratch: b.scratch ? new Float64Array(b.scratch) : null,
    colCount: new Int32Array(b.colCount),
    cutsOut: new Float32Array(b.cutsOut),
    cutCounts: new Int32Array(b.cutCounts),
    minVals: new Float32Array(b.minVals),
    heavy: new Float64Array(b.heavy),
    cuts: new Float32Array(b.cuts),
    cutPtr: new Int32Array(b.cutPtr),
    binTables: b.binTables ? new Uint16Array(b.binTables) : null,
    sparse: new Int32Array(b.sparse),
    csrPtr: new Uint32Array(b.csrPtr),
    csrEnt: meta.csrU32 ? new Uint32Array(b.csrEnt) : new Uint16Array(b.csrEnt),
    slotBase: new Int32Array(b.slotBase),
    nbins: new Int32Array(b.nbins),
    treeI: new Int32Array(b.treeI),
    treeF: new Float32Array(b.treeF),
    desc: new Int32Array(b.desc),
    descF: new Float64Array(b.descF),
    featSets: new Int32Array(b.featSets),
    evalOut: new Float64Array(b.evalOut),
    metricOut: new Float64Array(b.metricOut),
    rootSum: new Float64Array(b.rootSum),
    trace: new Float64Array(b.trace),
    hist: null,
    sums: new Float64Array(2),
    allFeatures: all,
    ptTrain: new Float32Array(Math.max(1, (meta.rowStarts[w + 1]! - meta.rowStarts[w]!) * meta.K)),
    ptValid: new Float32Array(Math.max(1, (meta.vStarts[w + 1]! - meta.vStarts[w]!) * meta.K)),
    best: new Float64Array(10),
    splitParams: Float64Array.from(meta.splitParams),
  };
}

/** Kernel step COUNT: non-missing values per feature of this worker's sketch block. */
export function stepCount(s: KState): void {
  const m = s.meta;
  const X = s.X!;
  const F = m.F;
  for (let f = m.sketchBlocks[s.w]!; f < m.sketchBlocks[s.w + 1]!; f++) {
    let c = 0;
    for (let p = f, r = 0; r < m.n; r++, p += F) if (X[p] === X[p]) c++;
    s.colCount[f] = c;
  }
}

/** Kernel step BIN: bins of this worker's rows, row-major and column-major. */
export function stepBin(s: KState): void {
  const m = s.meta;
  const F = m.F;
  const rowStart = m.rowStarts[s.w]!;
  const rowEnd = m.rowStarts[s.w + 1]!;
  binRows(s.X!, F, rowStart, rowEnd, s.cuts, s.cutPtr, s.binTables, s.bins);
  if (m.colMajor) {
    const bt = s.binsT;
    const bn = s.bins;
    const n = m.n;
    for (let f = 0; f < F; f++) {
      const o = f * n;
      for (let r = rowStart; r < rowEnd; r++) bt[o + r] = bn[r * F + f]!;
    }
  }
  let nSparse = 0;
  for (let f = 0; f < F; f++) nSparse += s.sparse[2 * f]!;
  if (nSparse > 0) buildSparseRows(s.bins, F, rowStart, rowEnd, s.slotBase, s.sparse, s.csrPtr, s.csrEnt, rowStart * nSparse);
}

/** Kernel step APPLY: partition the rows of applied splits, then build requested histograms. */
export function stepApply(s: KState): void {
  const m = s.meta;
  const w = s.w;
  const ctl = s.ctl;
  const d = s.desc;
  const rowStart = m.rowStarts[w]!;
  const rowEnd = m.rowStarts[w + 1]!;
  const nodeBase = w * m.nodeCap * 2;
  const nr = s.nodeRange;
  const ownTmp = s.tmpIdx.subarray(rowStart, rowEnd); // scratch under this worker's rows
  const nApply = ctl[6]!;
  for (let j = 0; j < nApply; j++) {
    const o = 6 * j;
    const nid = d[o]!;
    const feature = d[o + 1]!;
    const b = nr[nodeBase + 2 * nid]!;
    const e = nr[nodeBase + 2 * nid + 1]!;
    const nl = m.colMajor
      ? partitionRows(s.rowIdx, ownTmp, b, e, s.binsT, feature * m.n, 1, d[o + 2]!, s.nbins[feature]!, d[o + 3]! !== 0)
      : partitionRows(s.rowIdx, ownTmp, b, e, s.bins, feature, m.F, d[o + 2]!, s.nbins[feature]!, d[o + 3]! !== 0);
    const l = d[o + 4]!;
    const r = d[o + 5]!;
    nr[nodeBase + 2 * l] = b;
    nr[nodeBase + 2 * l + 1] = b + nl;
    nr[nodeBase + 2 * r] = b + nl;
    nr[nodeBase + 2 * r + 1] = e;
  }
  const sd = s.geom[0]!;
  const nBuild = ctl[7]!;
  const dBuild = 6 * m.maxApply;
  for (let j = 0; j < nBuild; j++) {
    const o = dBuild + 3 * j;
    const nid = d[o]!;
    const target = histTarget(s, d[o + 1]!, d[o + 2]!, sd);
    target.fill(0);
    s.hist!(s.rowIdx, nr[nodeBase + 2 * nid]!, nr[nodeBase + 2 * nid + 1]!, s.bins, s.gpair, target, s.csrPtr, s.csrEnt, s.sums);
  }
}

/** Kernel: where worker `s.w` accumulates a histogram: its slot (worker 0) or its scratch. */
export function histTarget(s: KState, slot: number, scratchIndex: number, sd: number): Float64Array {
  if (s.w === 0) return s.pool.subarray(slot * sd, (slot + 1) * sd);
  const base = ((s.w - 1) * s.meta.scratchSlots + scratchIndex) * sd;
  return s.scratch!.subarray(base, base + sd);
}

/** Kernel: adds `v` to preds[rows[i]·K + k] for i in [b, e). */
export function addLeafValue(rows: Uint32Array, b: number, e: number, preds: Float32Array, K: number, k: number, v: number): void {
  if (K === 1) {
    for (let i = b; i < e; i++) {
      const r = rows[i]!;
      preds[r] = preds[r]! + v;
    }
  } else {
    for (let i = b; i < e; i++) {
      const o = rows[i]! * K + k;
      preds[o] = preds[o]! + v;
    }
  }
}

/** Kernel: adds the leaf values of one split's children to the rows of its node. */
export function routeToLeaves(
  rows: Uint32Array,
  b: number,
  e: number,
  col: Uint8Array | Uint16Array,
  colOffset: number,
  stride: number,
  splitBin: number,
  missingBin: number,
  defaultLeft: boolean,
  preds: Float32Array,
  K: number,
  k: number,
  leftValue: number,
  rightValue: number,
): void {
  for (let i = b; i < e; i++) {
    const r = rows[i]!;
    const bin = col[colOffset + r * stride]!;
    const left = bin <= splitBin || (defaultLeft && bin === missingBin);
    const o = r * K + k;
    preds[o] = preds[o]! + (left ? leftValue : rightValue);
  }
}

/** Kernel step UPDATE_PRED: add the finished tree of class k to the training margins. */
export function stepUpdatePred(s: KState, routeLast: boolean): void {
  const m = s.meta;
  const w = s.w;
  const K = m.K;
  const k = s.ctl[4]!;
  const nNodes = s.ctl[11]!;
  const tsz = K * m.nodeCap;
  const tb = k * m.nodeCap;
  const ti = s.treeI;
  const leaf = s.treeF;
  const nodeBase = w * m.nodeCap * 2;
  const nr = s.nodeRange;
  // Leaves created by the last, unpartitioned splits have no row range of their own.
  let skipFrom = nNodes;
  if (routeLast) {
    const d = s.desc;
    const nApply = s.ctl[6]!;
    for (let j = 0; j < nApply; j++) {
      const o = 6 * j;
      const nid = d[o]!;
      const feature = d[o + 1]!;
      const l = d[o + 4]!;
      const r = d[o + 5]!;
      if (l < skipFrom) skipFrom = l;
      const b = nr[nodeBase + 2 * nid]!;
      const e = nr[nodeBase + 2 * nid + 1]!;
      if (m.colMajor) routeToLeaves(s.rowIdx, b, e, s.binsT, feature * m.n, 1, d[o + 2]!, s.nbins[feature]!, d[o + 3]! !== 0, s.preds, K, k, leaf[tb + l]!, leaf[tb + r]!);
      else routeToLeaves(s.rowIdx, b, e, s.bins, feature, m.F, d[o + 2]!, s.nbins[feature]!, d[o + 3]! !== 0, s.preds, K, k, leaf[tb + l]!, leaf[tb + r]!);
    }
  }
  for (let nid = 0; nid < skipFrom; nid++) {
    if (ti[tb + nid]! >= 0) continue;
    addLeafValue(s.rowIdx, nr[nodeBase + 2 * nid]!, nr[nodeBase + 2 * nid + 1]!, s.preds, K, k, leaf[tb + nid]!);
  }
  const ub = s.unsampled[2 * w]!;
  const ue = s.unsampled[2 * w + 1]!;
  if (ue > ub) {
    predictBinnedRows(s.rowIdx, ub, ue, s.bins, m.F, s.nbins, ti.subarray(0, tsz), ti.subarray(tsz, 2 * tsz), ti.subarray(2 * tsz, 3 * tsz), ti.subarray(3 * tsz, 4 * tsz), ti.subarray(4 * tsz, 5 * tsz), leaf.subarray(0, tsz), tb, s.preds, K, k);
  }
}

/** Kernel step METRICS: predict the round's trees on validation rows, then metric sums. */
export function stepMetrics(s: KState): void {
  const m = s.meta;
  const w = s.w;
  const K = m.K;
  const F = m.F;
  const nM = m.metricIds.length;
  const rowStart = m.rowStarts[w]!;
  const rowEnd = m.rowStarts[w + 1]!;
  const vs = m.vStarts[w]!;
  const ve = m.vStarts[w + 1]!;
  const tsz = K * m.nodeCap;
  if (m.hasValid && ve > vs) {
    const nTrees = s.ctl[12]!;
    const ti = s.treeI;
    const tf = s.treeF;
    for (let k = 0; k < nTrees; k++) {
      predictRawRows(s.Xv!, F, vs, ve, ti.subarray(0, tsz), ti.subarray(tsz, 2 * tsz), ti.subarray(2 * tsz, 3 * tsz), tf.subarray(tsz, 2 * tsz), ti.subarray(4 * tsz, 5 * tsz), tf.subarray(0, tsz), k * m.nodeCap, s.predsV!, K, k);
    }
  }
  transformRange(m.objective, s.preds, rowStart, rowEnd, K, s.ptTrain);
  if (m.hasValid) transformRange(m.objective, s.predsV!, vs, ve, K, s.ptValid);
  for (let mi = 0; mi < nM; mi++) {
    const id = m.metricIds[mi]!;
    const o = (w * nM + mi) * 4;
    if (id >= 20) {
      s.metricOut.fill(0, o, o + 4);
      continue;
    }
    metricPartials(id, m.metricParams[mi]!, K, s.ptTrain, s.labels, s.weights, rowStart, rowEnd, s.metricOut, o);
    if (m.hasValid) metricPartials(id, m.metricParams[mi]!, K, s.ptValid, s.labelsV!, s.weightsV, vs, ve, s.metricOut, o + 2);
  }
}

/**
 * Kernel: XGBoost's RandomReplace row sampling for rows [start, end): x ← 16807·x mod 2^63
 * from seed·16807^start, one bernoulli(p) draw per row with a non-negative hessian. Kept rows
 * go to rows[start …) in order, the others after them; returns the end of the kept rows.
 */
export function sampleRows(gp: Float32Array, rows: Uint32Array, tmp: Uint32Array, start: number, end: number, seed: number, p: number): number {
  const M = (1n << 63n) - 1n;
  let base = 16807n;
  let ex = BigInt(start);
  let acc = 1n;
  while (ex > 0n) {
    if (ex & 1n) acc = (acc * base) & M;
    base = (base * base) & M;
    ex >>= 1n;
  }
  let st = (acc * BigInt(seed >>> 0)) & M;
  if (st === 0n) st = 1n;
  let hi = Number(st >> 32n);
  let lo = Number(st & 0xffffffffn);
  let ns = start;
  let nu = 0;
  for (let r = start; r < end; r++) {
    const h = gp[2 * r + 1]!;
    let keep = false;
    if (h >= 0) {
      // (hi·2^32 + lo)·16807 mod 2^63 with integer operations (lo split in 16-bit halves)
      const p0 = (lo & 0xffff) * 16807; // < 2^31
      const p1 = (lo >>> 16) * 16807; // < 2^31
      const t = p0 + (p1 & 0xffff) * 65536; // < 2^33
      const carry = (p1 >>> 16) + (t >= 4294967296 ? 1 : 0);
      lo = t >>> 0;
      hi = (Math.imul(hi, 16807) + carry) & 0x7fffffff;
      keep = (hi * 4294967296 + (lo - 1)) / 9223372036854775808 < p;
    }
    if (keep) rows[ns++] = r;
    else tmp[nu++] = r;
  }
  for (let j = 0; j < nu; j++) rows[ns + j] = tmp[j]!;
  return ns;
}

/** Kernel step PREP_TREE: class-k gradients, row sampling, fresh partition, root histogram. */
export function stepPrepTree(s: KState): void {
  const m = s.meta;
  const w = s.w;
  const K = m.K;
  const ctl = s.ctl;
  const rowStart = m.rowStarts[w]!;
  const rowEnd = m.rowStarts[w + 1]!;
  const k = ctl[15]!;
  const gp = s.gpair;
  if (K > 1) {
    const ga = s.gradAll!;
    for (let r = rowStart; r < rowEnd; r++) {
      gp[2 * r] = ga[2 * (r * K + k)]!;
      gp[2 * r + 1] = ga[2 * (r * K + k) + 1]!;
    }
  }
  const rows = s.rowIdx;
  let ns: number;
  if (ctl[13] === 1) {
    ns = sampleRows(gp, rows, s.tmpIdx.subarray(rowStart, rowEnd), rowStart, rowEnd, ctl[5]!, s.descF[0]!);
  } else {
    for (let r = rowStart; r < rowEnd; r++) rows[r] = r;
    ns = rowEnd;
  }
  const nodeBase = w * m.nodeCap * 2;
  s.nodeRange[nodeBase] = rowStart;
  s.nodeRange[nodeBase + 1] = ns;
  s.unsampled[2 * w] = ns;
  s.unsampled[2 * w + 1] = rowEnd;
  const target = histTarget(s, ctl[10]!, 0, s.geom[0]!);
  target.fill(0);
  s.hist!(rows, rowStart, ns, s.bins, gp, target, s.csrPtr, s.csrEnt, s.sums);
  // the root's gradient sums, accumulated in row order by the histogram kernel
  s.rootSum[2 * w] = s.sums[0]!;
  s.rootSum[2 * w + 1] = s.sums[1]!;
}

/** Kernel step REDUCE: complete histograms over this worker's feature block, and siblings. */
export function stepReduce(s: KState): void {
  const m = s.meta;
  const w = s.w;
  const T = m.T;
  const sd = s.geom[0]!;
  const lo = 2 * s.slotBase[s.geom[1 + w]!]!;
  const hi = 2 * s.slotBase[s.geom[2 + w]!]!;
  const pool = s.pool;
  const d = s.desc;
  const nR = s.ctl[8]!;
  const dReduce = 9 * m.maxApply;
  for (let j = 0; j < nR; j++) {
    const o = dReduce + 4 * j;
    const B = d[o]! * sd;
    const k = d[o + 1]!;
    const P = d[o + 2]!;
    const S = d[o + 3]!;
    for (let t = 1; t < T; t++) {
      const src = ((t - 1) * m.scratchSlots + k) * sd;
      const sc = s.scratch!;
      for (let i = lo; i < hi; i++) pool[B + i] += sc[src + i]!;
    }
    if (P >= 0) {
      const Pb = P * sd;
      const Sb = S * sd;
      for (let i = lo; i < hi; i++) pool[Sb + i] = pool[Pb + i]! - pool[B + i]!;
    }
  }
}

/** Kernel step EVAL: best split per node over this worker's feature block. */
export function stepEval(s: KState): void {
  const m = s.meta;
  const w = s.w;
  const T = m.T;
  const F = m.F;
  const f0 = s.geom[1 + w]!;
  const f1 = s.geom[2 + w]!;
  const d = s.desc;
  const df = s.descF;
  const best = s.best;
  const sd = s.geom[0]!;
  const dEvalI = 13 * m.maxApply;
  const nE = s.ctl[9]!;
  for (let j = 0; j < nE; j++) {
    const slot = d[dEvalI + 2 * j]!;
    const fs = d[dEvalI + 2 * j + 1]!;
    let list: Int32Array;
    let lb: number;
    let le: number;
    if (fs < 0) {
      list = s.allFeatures;
      lb = f0;
      le = f1;
    } else {
      const cnt = s.featSets[fs * (F + 1)]!;
      list = s.featSets.subarray(fs * (F + 1) + 1, fs * (F + 1) + 1 + cnt);
      lb = 0;
      while (lb < cnt && list[lb]! < f0) lb++;
      le = lb;
      while (le < cnt && list[le]! < f1) le++;
    }
    best.fill(0);
    evaluateFeatures(s.pool, slot * sd, list, lb, le, s.slotBase, s.nbins, s.cuts, s.cutPtr, s.minVals, df[8 + 3 * j]!, df[8 + 3 * j + 1]!, df[8 + 3 * j + 2]!, s.splitParams, best);
    s.evalOut.set(best, (j * T + w) * 10);
  }
}

/**
 * Kernel: runs the steps of `mask` for worker `s.w`, in a fixed order. The main thread only
 * combines steps whose inputs are this worker's own rows, or which follow a barrier.
 */
export function runSteps(s: KState, mask: number): void {
  const m = s.meta;
  const trace = m.trace;
  let t = trace ? performance.now() : 0;
  const done = (step: number) => {
    if (!trace) return;
    const now = performance.now();
    s.trace[s.w * 16 + step] += now - t;
    t = now;
  };
  if (mask & 1) {
    stepCount(s);
    done(0);
  }
  if (mask & 2) {
    sketchFeatureCuts(s.X!, m.n, m.F, s.weights, m.sketchBlocks[s.w]!, m.sketchBlocks[s.w + 1]!, s.colCount, m.maxBin, s.cutsOut, s.cutCounts, s.minVals, m.cutStride, s.heavy);
    done(1);
  }
  if (mask & 4) {
    stepBin(s);
    done(2);
  }
  if (mask & 1024) s.X = null;
  if (mask & (8 | 128) && s.hist === null) s.hist = makeHistKernel(m.F, s.slotBase, s.sparse);
  if (mask & 8) {
    stepApply(s);
    done(3);
  }
  if (mask & 16) {
    stepUpdatePred(s, (mask & 8192) !== 0);
    done(4);
  }
  if (mask & 32) {
    stepMetrics(s);
    done(5);
  }
  if (mask & 64) {
    // with METRICS in the same command the logistic transform is already done
    const probs = mask & 32 && (m.objective === 1 || m.objective === 2) ? s.ptTrain : null;
    computeGradients(m.objective, m.K, s.preds, s.labels, s.weights, m.K > 1 ? s.gradAll! : s.gpair, m.rowStarts[s.w]!, m.rowStarts[s.w + 1]!, m.spw, m.mds, m.rho, probs);
    done(6);
  }
  if (mask & 128) {
    stepPrepTree(s);
    done(7);
  }
  if (mask & 256) {
    stepReduce(s);
    done(8);
  }
  if (mask & 512) {
    stepEval(s);
    done(9);
  }
}

/** Kernel: a worker thread's command loop. */
export function workerLoop(
  meta: Meta,
  buffers: Buffers,
  w: number,
  threads: number,
  port: MessagePort,
  receive: (port: MessagePort) => { message: unknown } | undefined,
): void {
  let s = attachState(meta, buffers, w);
  const ctl = s.ctl;
  let seq = 0; // the control word starts at 0; a command may already be waiting
  for (;;) {
    // Commands follow each other within microseconds while a tree grows: spin briefly
    // before sleeping, which saves most of a futex wake-up per step.
    const until = performance.now() + 0.05;
    while (Atomics.load(ctl, 0) === seq && performance.now() < until);
    Atomics.wait(ctl, 0, seq);
    const next = Atomics.load(ctl, 0);
    if (next === seq) continue;
    seq = next;
    const mask = Atomics.load(ctl, 1);
    if (mask === -1) break;
    try {
      if (mask & 4096) {
        const msg = receive(port);
        if (msg) Object.assign(buffers, msg.message as Partial<Buffers>);
        if (mask & 1024) buffers.X = null;
        const trace = s.trace;
        s = attachState(meta, buffers, w);
        s.trace = trace;
      }
      runSteps(s, mask & ~4096);
      if (mask & 1024) buffers.X = null;
    } catch (e) {
      const msg = `worker ${w}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
      const bytes = new TextEncoder().encode(msg);
      s.err.set(bytes.subarray(0, s.err.length - 4), 4);
      new DataView(s.err.buffer).setInt32(0, Math.min(bytes.length, s.err.length - 4), true);
      Atomics.store(ctl, 3, 1);
    }
    if (Atomics.add(ctl, 2, 1) === threads - 1) Atomics.notify(ctl, 2);
  }
}

/** Source of everything a worker needs, in dependency-free form. */
function workerSource(): string {
  const kernels = [
    computeGradients,
    gradSquaredError,
    gradLogistic,
    gradHinge,
    gradSoftmax,
    gradPoisson,
    gradTweedie,
    gradGamma,
    gradAbsoluteError,
    transformRange,
    sigmoidRange,
    stepRange,
    expRange,
    softmaxRange,
    metricPartials,
    metricRmse,
    metricRmsle,
    metricMae,
    metricMape,
    metricLogloss,
    metricError,
    metricPoissonNloglik,
    metricGammaNloglik,
    metricGammaDeviance,
    metricTweedieNloglik,
    metricMerror,
    metricMlogloss,
    lgammaD,
    qsNew,
    qsCopy,
    qsPrune,
    qsCombine,
    qsNewScratch,
    qsMakeSummary,
    qsMergeUnit,
    qsPushTemp,
    qsGetSummary,
    qsNewSketch,
    qsFlush,
    qsFinishCuts,
    qsExactColumn,
    sketchFeatureCuts,
    buildBinTable,
    binRows,
    makeHistKernel,
    buildSparseRows,
    partitionRows,
    nodeGainClamped,
    evaluateFeatures,
    predictBinnedRows,
    predictRawRows,
    attachState,
    stepCount,
    stepBin,
    histTarget,
    stepApply,
    addLeafValue,
    routeToLeaves,
    stepUpdatePred,
    stepMetrics,
    sampleRows,
    stepPrepTree,
    stepReduce,
    stepEval,
    runSteps,
    workerLoop,
  ];
  // Function#toString gives the source as loaded; a TypeScript loader may have added
  // esbuild's `__name` helper calls, so provide a stand-in.
  return [
    '"use strict";',
    'var __name = (fn, name) => { try { Object.defineProperty(fn, "name", { value: name, configurable: true }); } catch {} return fn; };',
    ...kernels.map((k) => k.toString()),
    'const { workerData, receiveMessageOnPort } = require("node:worker_threads");',
    'workerLoop(workerData.meta, workerData.buffers, workerData.w, workerData.threads, workerData.port, receiveMessageOnPort);',
  ].join('\n');
}

let cachedSource: string | undefined;

const TRACE = process.env.KILN_XGB_TRACE !== undefined;
const traceTimes = new Map<number, { n: number; ms: number }>();
function traceAdd(mask: number, ms: number): void {
  const e = traceTimes.get(mask) ?? { n: 0, ms: 0 };
  e.n++;
  e.ms += ms;
  traceTimes.set(mask, e);
}
/** Per-command wall times collected when KILN_XGB_TRACE is set (for profiling). */
export function traceReport(): string {
  const names = Object.entries(STEP);
  return [...traceTimes.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .map(([mask, e]) => `${names.filter(([, bit]) => mask & bit).map(([k]) => k).join('|')}: ${e.n} runs, ${e.ms.toFixed(0)} ms`)
    .join('\n');
}


export interface Executor {
  readonly T: number;
  /** Run a command on every executor thread and wait for all of them. */
  run(mask: number): Promise<void>;
  /** Replace some shared buffers on every executor thread. */
  attach(buffers: Partial<Buffers>): Promise<void>;
  close(): Promise<void>;
}

/** Runs the kernels on the calling thread (T = 1). */
export class InlineExecutor implements Executor {
  readonly T = 1;
  private state: KState;

  constructor(
    private readonly meta: Meta,
    private readonly buffers: Buffers,
  ) {
    this.state = attachState(meta, buffers, 0);
  }

  async attach(b: Partial<Buffers>): Promise<void> {
    Object.assign(this.buffers, b);
    if (this.state.X === null) this.buffers.X = null;
    const trace = this.state.trace;
    this.state = attachState(this.meta, this.buffers, 0);
    this.state.trace = trace;
  }

  async run(mask: number): Promise<void> {
    const t0 = TRACE ? performance.now() : 0;
    runSteps(this.state, mask);
    if (TRACE) traceAdd(mask, performance.now() - t0);
  }

  async close(): Promise<void> {}
}

/**
 * Runs the kernels on `meta.T` threads: the calling thread is executor thread 0 and runs its
 * share of every step synchronously, worker threads 1 … T−1 run theirs in parallel. Blocking
 * the calling thread for the few milliseconds of a step saves the wake-up of an idle
 * coordinator at every barrier (training runs in its own process in Kiln).
 */
export class WorkerExecutor implements Executor {
  readonly T: number;
  private state: KState;
  private readonly ctl: Int32Array;
  private readonly err: Uint8Array;
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private closed = false;
  private exitError: Error | undefined;

  constructor(
    private readonly meta: Meta,
    private readonly buffers: Buffers,
  ) {
    this.T = meta.T;
    this.ctl = new Int32Array(buffers.ctl);
    this.err = new Uint8Array(buffers.err);
    this.state = attachState(meta, buffers, 0);
    cachedSource ??= workerSource();
    for (let w = 1; w < meta.T; w++) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      const worker = new Worker(cachedSource, { eval: true, workerData: { meta, buffers, w, threads: meta.T - 1, port: port2 }, transferList: [port2] });
      worker.on('error', (e) => {
        this.exitError = e instanceof Error ? e : new Error(String(e));
      });
      worker.on('exit', (code) => {
        if (!this.closed) this.exitError ??= new Error(`training worker ${w} exited unexpectedly (code ${code})`);
      });
      worker.unref();
      this.workers.push(worker);
    }
  }

  async run(mask: number): Promise<void> {
    const ctl = this.ctl;
    const others = this.T - 1;
    const t0 = TRACE ? performance.now() : 0;
    Atomics.store(ctl, 2, 0);
    Atomics.store(ctl, 1, mask);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    let mine: unknown;
    try {
      if (mask & STEP.ATTACH) {
        const trace = this.state.trace;
        this.state = attachState(this.meta, this.buffers, 0);
        this.state.trace = trace;
      }
      runSteps(this.state, mask & ~STEP.ATTACH);
      if (mask & STEP.RELEASE_X) this.buffers.X = null;
    } catch (e) {
      mine = e;
    }
    // Wait for the other threads: spin a little, then sleep. A timed-out sleep yields to the
    // event loop so that a worker's 'error' or 'exit' event can be noticed.
    const until = performance.now() + 0.2;
    while (Atomics.load(ctl, 2) < others && performance.now() < until);
    for (;;) {
      const done = Atomics.load(ctl, 2);
      if (done >= others) break;
      if (this.exitError) throw this.exitError;
      if (Atomics.wait(ctl, 2, done, 200) === 'timed-out') await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (TRACE) traceAdd(mask, performance.now() - t0);
    if (mine !== undefined) throw mine;
    if (Atomics.load(ctl, 3) !== 0) {
      const len = new DataView(this.err.buffer).getInt32(0, true);
      const msg = new TextDecoder().decode(this.err.slice(4, 4 + len));
      throw new Error(`XGBoost training kernel failed: ${msg}`);
    }
  }

  async attach(b: Partial<Buffers>): Promise<void> {
    const releasedX = this.buffers.X === null;
    Object.assign(this.buffers, b);
    if (releasedX) this.buffers.X = null;
    for (const port of this.ports) port.postMessage(b);
    await this.run(STEP.ATTACH);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, 1, -1);
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
    for (const port of this.ports) port.close();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
