/**
 * Kernels of the hist tree method: gradient histograms, row partitioning, split search and
 * prediction updates. They follow XGBoost 1.7's updater_quantile_hist (double-precision
 * histograms of single-precision gradients, forward and backward enumeration for learned
 * missing-value directions, single-precision gains).
 *
 * Every exported function here is a kernel: a self-contained function declaration (no
 * references to module scope) that the worker pool also ships to its threads as source.
 */

/** Signature of a generated histogram kernel. */
export type HistKernel = (
  rowIdx: Uint32Array,
  begin: number,
  end: number,
  bins: Uint8Array | Uint16Array,
  gh: Float32Array,
  hist: Float64Array,
  csrPtr: Uint32Array,
  csrEnt: Uint16Array | Uint32Array,
  sums: Float64Array,
) => void;

/**
 * Kernel: builds a histogram accumulation function specialised for this dataset. Dense
 * features are read from the row-major bins with the feature loop unrolled and slot offsets
 * as constants (what lets V8 reach C-like throughput). Features where one bin holds most
 * rows ("sparse", `sparse[2f] === 1`, default slot `sparse[2f + 1]`) are read from a CSR of
 * their other bins (`csrPtr[2r] … csrPtr[2r + 1]` into `csrEnt`, global slot indices); their
 * default bin is filled afterwards as the histogram's total minus the feature's other bins.
 * The totals (Σg, Σh over the rows, in row order) are also written to `sums`.
 */
export function makeHistKernel(F: number, slotBase: Int32Array, sparse: Int32Array): HistKernel {
  const dense: number[] = [];
  const sparseF: number[] = [];
  for (let f = 0; f < F; f++) (sparse[2 * f] === 1 ? sparseF : dense).push(f);
  const hasSparse = sparseF.length > 0;
  const sLo = Int32Array.from(sparseF.map((f) => slotBase[f]!));
  const sHi = Int32Array.from(sparseF.map((f) => slotBase[f + 1]!));
  const sD = Int32Array.from(sparseF.map((f) => sparse[2 * f + 1]!));
  let src = '"use strict";\nreturn function histKernel(rowIdx, begin, end, bins, gh, hist, cp, ce, sums) {\n';
  src += '  let sg = 0;\n  let sh = 0;\n';
  src += '  for (let i = begin; i < end; i++) {\n';
  src += '    const r = rowIdx[i];\n    const g = gh[2 * r];\n    const h = gh[2 * r + 1];\n';
  src += '    sg += g;\n    sh += h;\n';
  src += `    const b = r * ${F};\n    let idx = 0;\n`;
  if (dense.length <= 256) {
    for (const f of dense) {
      const at = f === 0 ? 'b' : `b + ${f}`;
      src += `    idx = (${slotBase[f]!} + bins[${at}]) << 1; hist[idx] += g; hist[idx + 1] += h;\n`;
    }
  } else {
    src += '    for (let k = 0; k < dF.length; k++) { idx = (dOff[k] + bins[b + dF[k]]) << 1; hist[idx] += g; hist[idx + 1] += h; }\n';
  }
  if (hasSparse) {
    src += '    for (let e = cp[2 * r], ee = cp[2 * r + 1]; e < ee; e++) { idx = ce[e] << 1; hist[idx] += g; hist[idx + 1] += h; }\n';
  }
  src += '  }\n';
  if (hasSparse) {
    src += '  for (let k = 0; k < sD.length; k++) {\n';
    src += '    const d = sD[k];\n    let og = 0;\n    let oh = 0;\n';
    src += '    for (let q = sLo[k]; q < sHi[k]; q++) if (q !== d) { og += hist[2 * q]; oh += hist[2 * q + 1]; }\n';
    src += '    hist[2 * d] = sg - og;\n    hist[2 * d + 1] = sh - oh;\n  }\n';
  }
  src += '  sums[0] = sg;\n  sums[1] = sh;\n};\n';
  const dF = Int32Array.from(dense);
  const dOff = Int32Array.from(dense.map((f) => slotBase[f]!));
  return new Function('dF', 'dOff', 'sLo', 'sHi', 'sD', src)(dF, dOff, sLo, sHi, sD) as HistKernel;
}

/**
 * Kernel: the CSR of non-default bins of the sparse features for rows [start, end), written
 * to `ent` from `entStart` on (start/end pairs per row in `ptr`). Returns the entries written.
 */
export function buildSparseRows(
  bins: Uint8Array | Uint16Array,
  F: number,
  start: number,
  end: number,
  slotBase: Int32Array,
  sparse: Int32Array,
  ptr: Uint32Array,
  ent: Uint16Array | Uint32Array,
  entStart: number,
): number {
  const sf: number[] = [];
  for (let f = 0; f < F; f++) if (sparse[2 * f] === 1) sf.push(f);
  const feats = Int32Array.from(sf);
  const bases = Int32Array.from(sf.map((f) => slotBase[f]!));
  const defs = Int32Array.from(sf.map((f) => sparse[2 * f + 1]!));
  const ns = feats.length;
  let pos = entStart;
  for (let r = start; r < end; r++) {
    ptr[2 * r] = pos;
    const row = r * F;
    for (let k = 0; k < ns; k++) {
      const slot = bases[k]! + bins[row + feats[k]!]!;
      if (slot !== defs[k]) ent[pos++] = slot;
    }
    ptr[2 * r + 1] = pos;
  }
  return pos - entStart;
}

/**
 * Kernel: stable in-place partition of rowIdx[begin, end) by one split; returns the number
 * of rows going left. A row goes left when its bin is ≤ splitBin, or when the value is
 * missing (bin === missingBin) and the default direction is left. `col[colOffset + r·stride]`
 * is row r's bin of the split feature (stride 1 with column-major bins, like XGBoost's
 * ColumnMatrix, which keeps the reads sequential on large data).
 */
export function partitionRows(
  rowIdx: Uint32Array,
  tmp: Uint32Array,
  begin: number,
  end: number,
  col: Uint8Array | Uint16Array,
  colOffset: number,
  stride: number,
  splitBin: number,
  missingBin: number,
  defaultLeft: boolean,
): number {
  let nl = begin;
  let nr = 0;
  if (defaultLeft) {
    for (let i = begin; i < end; i++) {
      const r = rowIdx[i]!;
      const b = col[colOffset + r * stride]!;
      const left = b <= splitBin || b === missingBin ? 1 : 0;
      rowIdx[nl] = r;
      tmp[nr] = r;
      nl += left;
      nr += 1 - left;
    }
  } else {
    for (let i = begin; i < end; i++) {
      const r = rowIdx[i]!;
      const left = col[colOffset + r * stride]! <= splitBin ? 1 : 0;
      rowIdx[nl] = r;
      tmp[nr] = r;
      nl += left;
      nr += 1 - left;
    }
  }
  for (let j = 0; j < nr; j++) rowIdx[nl + j] = tmp[j]!;
  return nl - begin;
}

/**
 * Kernel: node gain as TreeEvaluator::SplitEvaluator::CalcGainGivenWeight with the weight of
 * CalcWeight (single precision), for the general case (max_delta_step ≠ 0).
 */
export function nodeGainClamped(g: number, h: number, mcw: number, lambda: number, alpha: number, mds: number): number {
  const fr = Math.fround;
  if (h <= 0) return 0;
  let w = 0;
  if (!(h < mcw)) {
    let tg = 0;
    if (g > alpha) tg = g - alpha;
    else if (g < -alpha) tg = g + alpha;
    let dw = -tg / (h + lambda);
    if (mds !== 0 && Math.abs(dw) > mds) dw = dw < 0 ? -mds : mds;
    w = fr(dw);
  }
  return fr(-fr(fr(fr(2 * fr(g)) * w) + fr(fr(fr(h) + lambda) * fr(w * w))));
}

/**
 * Kernel: best split of one node over the given features, as XGBoost's HistEvaluator
 * (EnumerateSplit forward, then backward when the node has missing values). Gains are
 * computed in single precision like TreeEvaluator::SplitEvaluator. The running best is kept
 * in `best` ([loss, feature, defaultLeft, splitBin, splitValue, lg, lh, rg, rh]) with
 * SplitEntry::NeedReplace's tie-breaking (lower feature index wins ties).
 *
 * Bins with no rows are skipped: their candidate has the same statistics as the previous
 * one, so it could never replace the best (ties keep the earlier candidate).
 *
 * @param params [min_child_weight, reg_lambda, reg_alpha, max_delta_step] as float32 values
 */
export function evaluateFeatures(
  hist: Float64Array,
  histOffset: number,
  features: Int32Array,
  fBegin: number,
  fEnd: number,
  slotBase: Int32Array,
  nbins: Int32Array,
  cuts: Float32Array,
  cutPtr: Int32Array,
  minVals: Float32Array,
  pg: number,
  ph: number,
  rootGain: number,
  params: Float64Array,
  best: Float64Array,
): void {
  const fr = Math.fround;
  const mcw = params[0]!;
  const lambda = params[1]!;
  const alpha = params[2]!;
  const mds = params[3]!;
  const simple = mds === 0;
  let bestLoss = best[0]!;
  let bestIdx = best[1]!;

  for (let fi = fBegin; fi < fEnd; fi++) {
    const fidx = features[fi]!;
    const nb = nbins[fidx]!;
    const base = histOffset + 2 * slotBase[fidx]!;
    const cb = cutPtr[fidx]!;
    // forward enumeration: missing values go right
    let lg = 0;
    let lh = 0;
    for (let i = 0; i < nb; i++) {
      const bg = hist[base + 2 * i]!;
      const bh = hist[base + 2 * i + 1]!;
      lg += bg;
      lh += bh;
      if (bg === 0 && bh === 0 && i > 0) continue;
      const rg = pg - lg;
      const rh = ph - lh;
      if (!(lh >= mcw && rh >= mcw)) continue;
      let gl: number;
      let gr: number;
      if (simple) {
        let t = lg > alpha ? lg - alpha : lg < -alpha ? lg + alpha : 0;
        gl = lh <= 0 ? 0 : fr(fr(t * t) / fr(lh + lambda));
        t = rg > alpha ? rg - alpha : rg < -alpha ? rg + alpha : 0;
        gr = rh <= 0 ? 0 : fr(fr(t * t) / fr(rh + lambda));
      } else {
        gl = nodeGainClamped(lg, lh, mcw, lambda, alpha, mds);
        gr = nodeGainClamped(rg, rh, mcw, lambda, alpha, mds);
      }
      const loss = fr(fr(gl + gr) - rootGain);
      if (loss !== Infinity && loss !== -Infinity && (bestIdx <= fidx ? loss > bestLoss : !(bestLoss > loss))) {
        bestLoss = loss;
        bestIdx = fidx;
        best[0] = loss;
        best[1] = fidx;
        best[2] = 0;
        best[3] = i;
        best[4] = cuts[cb + i]!;
        best[5] = lg;
        best[6] = lh;
        best[7] = rg;
        best[8] = rh;
      }
    }
    if (lg === pg && lh === ph) continue;
    // backward enumeration: missing values go left
    let sg = 0;
    let sh = 0;
    for (let i = nb - 1; i >= 0; i--) {
      const bg = hist[base + 2 * i]!;
      const bh = hist[base + 2 * i + 1]!;
      sg += bg;
      sh += bh;
      if (bg === 0 && bh === 0 && i < nb - 1) continue;
      const og = pg - sg;
      const oh = ph - sh;
      if (!(sh >= mcw && oh >= mcw)) continue;
      let gl: number;
      let gr: number;
      if (simple) {
        let t = og > alpha ? og - alpha : og < -alpha ? og + alpha : 0;
        gl = oh <= 0 ? 0 : fr(fr(t * t) / fr(oh + lambda));
        t = sg > alpha ? sg - alpha : sg < -alpha ? sg + alpha : 0;
        gr = sh <= 0 ? 0 : fr(fr(t * t) / fr(sh + lambda));
      } else {
        gl = nodeGainClamped(og, oh, mcw, lambda, alpha, mds);
        gr = nodeGainClamped(sg, sh, mcw, lambda, alpha, mds);
      }
      const loss = fr(fr(gl + gr) - rootGain);
      if (loss !== Infinity && loss !== -Infinity && (bestIdx <= fidx ? loss > bestLoss : !(bestLoss > loss))) {
        bestLoss = loss;
        bestIdx = fidx;
        best[0] = loss;
        best[1] = fidx;
        best[2] = 1;
        best[3] = i - 1;
        best[4] = i === 0 ? minVals[fidx]! : cuts[cb + i - 1]!;
        best[5] = og;
        best[6] = oh;
        best[7] = sg;
        best[8] = sh;
      }
    }
  }
}

/**
 * Kernel: adds tree `t`'s leaf values to the margins of rows whose bins route them to each
 * leaf (used for rows left out by subsampling; equivalent to the row partition).
 */
export function predictBinnedRows(
  rowIdx: Uint32Array,
  begin: number,
  end: number,
  bins: Uint8Array | Uint16Array,
  F: number,
  nbins: Int32Array,
  left: Int32Array,
  right: Int32Array,
  feat: Int32Array,
  splitBin: Int32Array,
  defLeft: Int32Array,
  leaf: Float32Array,
  treeBase: number,
  preds: Float32Array,
  K: number,
  k: number,
): void {
  for (let i = begin; i < end; i++) {
    const r = rowIdx[i]!;
    let node = 0;
    for (;;) {
      const l = left[treeBase + node]!;
      if (l < 0) break;
      const f = feat[treeBase + node]!;
      const b = bins[r * F + f]!;
      if (b === nbins[f]) node = defLeft[treeBase + node] ? l : right[treeBase + node]!;
      else node = b <= splitBin[treeBase + node]! ? l : right[treeBase + node]!;
    }
    const o = r * K + k;
    preds[o] = preds[o]! + leaf[treeBase + node]!;
  }
}

/** Kernel: adds tree `t`'s output to the margins of rows [start, end) from raw values. */
export function predictRawRows(
  X: Float32Array,
  F: number,
  start: number,
  end: number,
  left: Int32Array,
  right: Int32Array,
  feat: Int32Array,
  splitValue: Float32Array,
  defLeft: Int32Array,
  leaf: Float32Array,
  treeBase: number,
  preds: Float32Array,
  K: number,
  k: number,
): void {
  for (let r = start; r < end; r++) {
    let node = 0;
    const row = r * F;
    for (;;) {
      const l = left[treeBase + node]!;
      if (l < 0) break;
      const x = X[row + feat[treeBase + node]!]!;
      if (x !== x) node = defLeft[treeBase + node] ? l : right[treeBase + node]!;
      else node = x < splitValue[treeBase + node]! ? l : right[treeBase + node]!;
    }
    const o = r * K + k;
    preds[o] = preds[o]! + leaf[treeBase + node]!;
  }
}
