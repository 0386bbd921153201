/**
 * Histogram cut points, chosen exactly as XGBoost 1.7's `hist` method chooses them
 * (HostSketchContainer over WQuantileSketch<float, float>: an input queue flushed into
 * merge/prune summaries organised in levels, then pruned to max_bin·8 and to max_bin + 1
 * entries), and the binning of feature values against those cuts.
 *
 * Ranks are single precision as in XGBoost; summaries live in Float32Arrays (entries of
 * four floats: rmin, rmax, wmin, value) and every intermediate rank operation is rounded
 * with Math.fround.
 *
 * All functions here are kernels: self-contained function declarations (they only call each
 * other) that the worker pool also runs on its threads by shipping their source.
 */

/** A weighted quantile summary (XGBoost's WQSummary): `size` entries of [rmin, rmax, wmin, value]. */
export interface QSummary {
  e: Float32Array;
  size: number;
}

/** One feature's streaming sketch (XGBoost's WQuantileSketch). */
export interface QSketch {
  f: number;
  limit: number;
  qv: Float32Array;
  qw: Float32Array;
  qtail: number;
  temp: QSummary;
  levels: QSummary[];
  scratch: QSortScratch;
}

export interface QSortScratch {
  packed: Float64Array;
  keyA: Uint32Array;
  keyB: Uint32Array;
  wA: Float32Array;
  wB: Float32Array;
  counts: Int32Array;
}

export function qsNew(cap: number): QSummary {
  return { e: new Float32Array(Math.max(cap, 1) * 4), size: 0 };
}

export function qsCopy(dst: QSummary, src: QSummary): void {
  dst.e.set(src.e.subarray(0, src.size * 4));
  dst.size = src.size;
}

/** WQSummary::SetPrune */
export function qsPrune(dst: QSummary, src: QSummary, maxsize: number): void {
  if (src.size <= maxsize) {
    qsCopy(dst, src);
    return;
  }
  const fr = Math.fround;
  const s = src.e;
  const d = dst.e;
  const last = src.size - 1;
  const begin = s[1]!;
  const range = fr(s[4 * last]! - begin);
  const n1 = maxsize - 1;
  d[0] = s[0]!;
  d[1] = s[1]!;
  d[2] = s[2]!;
  d[3] = s[3]!;
  let size = 1;
  let i = 1;
  let lastidx = 0;
  for (let k = 1; k < n1; k++) {
    const dx2 = fr(2 * fr(fr(fr(k * range) / n1) + begin));
    while (i < last && dx2 >= fr(s[4 * i + 5]! + s[4 * i + 4]!)) i++;
    if (i === last) break;
    // RMinNext(i) + RMaxPrev(i + 1)
    const mid = fr(fr(s[4 * i]! + s[4 * i + 2]!) + fr(s[4 * i + 5]! - s[4 * i + 6]!));
    let pick = -1;
    if (dx2 < mid) {
      if (i !== lastidx) pick = i;
    } else if (i + 1 !== lastidx) {
      pick = i + 1;
    }
    if (pick >= 0) {
      const o = 4 * size;
      const p = 4 * pick;
      d[o] = s[p]!;
      d[o + 1] = s[p + 1]!;
      d[o + 2] = s[p + 2]!;
      d[o + 3] = s[p + 3]!;
      size++;
      lastidx = pick;
    }
  }
  if (lastidx !== last) {
    const o = 4 * size;
    const p = 4 * last;
    d[o] = s[p]!;
    d[o + 1] = s[p + 1]!;
    d[o + 2] = s[p + 2]!;
    d[o + 3] = s[p + 3]!;
    size++;
  }
  dst.size = size;
}

/** WQSummary::SetCombine, then FixError. `dst` must not alias `sa` or `sb`. */
export function qsCombine(dst: QSummary, sa: QSummary, sb: QSummary): void {
  if (sa.size === 0) {
    qsCopy(dst, sb);
    return;
  }
  if (sb.size === 0) {
    qsCopy(dst, sa);
    return;
  }
  const fr = Math.fround;
  const a = sa.e;
  const b = sb.e;
  const d = dst.e;
  const na = 4 * sa.size;
  const nb = 4 * sb.size;
  let ia = 0;
  let ib = 0;
  let k = 0;
  let aprevRmin = 0;
  let bprevRmin = 0;
  while (ia < na && ib < nb) {
    const av = a[ia + 3]!;
    const bv = b[ib + 3]!;
    if (av === bv) {
      d[k] = a[ia]! + b[ib]!;
      d[k + 1] = a[ia + 1]! + b[ib + 1]!;
      d[k + 2] = a[ia + 2]! + b[ib + 2]!;
      d[k + 3] = av;
      aprevRmin = fr(a[ia]! + a[ia + 2]!);
      bprevRmin = fr(b[ib]! + b[ib + 2]!);
      ia += 4;
      ib += 4;
    } else if (av < bv) {
      d[k] = a[ia]! + bprevRmin;
      d[k + 1] = a[ia + 1]! + fr(b[ib + 1]! - b[ib + 2]!);
      d[k + 2] = a[ia + 2]!;
      d[k + 3] = av;
      aprevRmin = fr(a[ia]! + a[ia + 2]!);
      ia += 4;
    } else {
      d[k] = b[ib]! + aprevRmin;
      d[k + 1] = b[ib + 1]! + fr(a[ia + 1]! - a[ia + 2]!);
      d[k + 2] = b[ib + 2]!;
      d[k + 3] = bv;
      bprevRmin = fr(b[ib]! + b[ib + 2]!);
      ib += 4;
    }
    k += 4;
  }
  if (ia < na) {
    const brmax = b[nb - 3]!;
    for (; ia < na; ia += 4, k += 4) {
      d[k] = a[ia]! + bprevRmin;
      d[k + 1] = a[ia + 1]! + brmax;
      d[k + 2] = a[ia + 2]!;
      d[k + 3] = a[ia + 3]!;
    }
  }
  if (ib < nb) {
    const armax = a[na - 3]!;
    for (; ib < nb; ib += 4, k += 4) {
      d[k] = b[ib]! + aprevRmin;
      d[k + 1] = b[ib + 1]! + armax;
      d[k + 2] = b[ib + 2]!;
      d[k + 3] = b[ib + 3]!;
    }
  }
  dst.size = k >> 2;
  // FixError
  let prevRmin = 0;
  let prevRmax = 0;
  for (let i = 0; i < k; i += 4) {
    if (d[i]! < prevRmin) d[i] = prevRmin;
    else prevRmin = d[i]!;
    if (d[i + 1]! < prevRmax) d[i + 1] = prevRmax;
    const rminNext = fr(d[i]! + d[i + 2]!);
    if (d[i + 1]! < rminNext) d[i + 1] = rminNext;
    prevRmax = d[i + 1]!;
  }
}

export function qsNewScratch(cap: number): QSortScratch {
  return {
    packed: new Float64Array(Math.min(cap, 16384)),
    keyA: new Uint32Array(cap),
    keyB: new Uint32Array(cap),
    wA: new Float32Array(cap),
    wB: new Float32Array(cap),
    counts: new Int32Array(4 * 2048),
  };
}

/**
 * Queue::MakeSummary: sorts the queue (LSD radix sort on the float bits, weights travelling
 * along) and merges equal values into summary entries.
 */
export function qsMakeSummary(sk: QSketch, out: QSummary): void {
  const m = sk.qtail;
  const qv = sk.qv;
  const qw = sk.qw;
  const o = out.e;
  const fr = Math.fround;
  if (m === 0) {
    out.size = 0;
    return;
  }
  if (sk.scratch.keyA.length < m) sk.scratch = qsNewScratch(m);
  const sc = sk.scratch;
  let keys = sc.keyA;
  let ws = sc.wA;
  const qbits = new Uint32Array(qv.buffer, qv.byteOffset, m);
  if (m <= 16384) {
    // Short queues: the engine's native sort on (key, index) packed into doubles starts fast
    // (no warm-up), which matters for small datasets.
    const packed = sc.packed.length >= m ? sc.packed.subarray(0, m) : (sc.packed = new Float64Array(m));
    for (let i = 0; i < m; i++) {
      const b = qbits[i]!;
      packed[i] = ((b ^ ((b >> 31) | 0x80000000)) >>> 0) * 16384 + i;
    }
    packed.sort();
    for (let i = 0; i < m; i++) {
      const v = packed[i]!;
      const idx = v % 16384;
      keys[i] = (v - idx) / 16384;
      ws[i] = qw[idx]!;
    }
  } else {
    // LSD radix sort, 11-bit digits, one counting pass for all three digits. Unweighted
    // queues (every weight 1, the usual case) sort the keys alone.
    const counts = sc.counts;
    counts.fill(0, 0, 3 * 2048);
    let unit = true;
    for (let i = 0; i < m; i++) {
      const b = qbits[i]!;
      const key = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
      keys[i] = key;
      counts[key & 2047]!++;
      counts[2048 + ((key >>> 11) & 2047)]!++;
      counts[4096 + (key >>> 22)]!++;
      if (qw[i] !== 1) unit = false;
    }
    if (!unit) for (let i = 0; i < m; i++) ws[i] = qw[i]!;
    let other = sc.keyB;
    let otherW = sc.wB;
    for (let pass = 0; pass < 3; pass++) {
      const shift = pass * 11;
      const base = pass * 2048;
      // skip a pass whose digit is the same for every key
      if (counts[base + ((keys[0]! >>> shift) & 2047)] === m) continue;
      let sum = 0;
      for (let b = 0; b < 2048; b++) {
        const c = counts[base + b]!;
        counts[base + b] = sum;
        sum += c;
      }
      if (unit) {
        for (let i = 0; i < m; i++) {
          const key = keys[i]!;
          other[counts[base + ((key >>> shift) & 2047)]!++] = key;
        }
      } else {
        for (let i = 0; i < m; i++) {
          const key = keys[i]!;
          const p = counts[base + ((key >>> shift) & 2047)]!++;
          other[p] = key;
          otherW[p] = ws[i]!;
        }
        const tw = ws;
        ws = otherW;
        otherW = tw;
      }
      const tk = keys;
      keys = other;
      other = tk;
    }
    if (unit) return qsMergeUnit(keys, m, out);
  }
  // merge equal values; entry = (wsum, wsum + w, w, value)
  const cvt = new Uint32Array(1);
  const cvtF = new Float32Array(cvt.buffer);
  let size = 0;
  let wsum = 0;
  let i = 0;
  while (i < m) {
    const key = keys[i]!;
    let w = ws[i]!;
    let j = i + 1;
    while (j < m && keys[j] === key) {
      w = fr(w + ws[j]!);
      j++;
    }
    cvt[0] = key & 0x80000000 ? key ^ 0x80000000 : ~key;
    const value = cvtF[0]!;
    // -0 and +0 are distinct keys but equal values: merge them like XGBoost does
    if (value === 0 && size > 0 && o[4 * (size - 1) + 3] === 0) {
      const p = 4 * (size - 1);
      const wPrev = o[p + 2]!;
      const wNew = fr(wPrev + w);
      o[p + 1] = o[p]! + wNew;
      o[p + 2] = wNew;
      wsum = fr(wsum + w);
      i = j;
      continue;
    }
    const p = 4 * size;
    o[p] = wsum;
    o[p + 1] = wsum + w;
    o[p + 2] = w;
    o[p + 3] = value;
    size++;
    wsum = fr(wsum + w);
    i = j;
  }
  out.size = size;
}

/** The merge of qsMakeSummary for sorted keys whose weights are all 1 (run lengths). */
export function qsMergeUnit(keys: Uint32Array, m: number, out: QSummary): void {
  const o = out.e;
  const cvt = new Uint32Array(1);
  const cvtF = new Float32Array(cvt.buffer);
  let size = 0;
  let wsum = 0; // an integer below 2^24 here, so exact in float
  let i = 0;
  while (i < m) {
    const key = keys[i]!;
    let j = i + 1;
    while (j < m && keys[j] === key) j++;
    const w = j - i;
    cvt[0] = key & 0x80000000 ? key ^ 0x80000000 : ~key;
    const value = cvtF[0]!;
    if (value === 0 && size > 0 && o[4 * (size - 1) + 3] === 0) {
      // -0 then +0: one entry, as XGBoost merges equal values
      const p = 4 * (size - 1);
      const wNew = o[p + 2]! + w;
      o[p + 1] = o[p]! + wNew;
      o[p + 2] = wNew;
    } else {
      const p = 4 * size;
      o[p] = wsum;
      o[p + 1] = wsum + w;
      o[p + 2] = w;
      o[p + 3] = value;
      size++;
    }
    wsum += w;
    i = j;
  }
  out.size = size;
}

/**
 * The summary of an unweighted column that fits in its sketch's queue (it never flushes, so
 * XGBoost's summary is exact: every distinct value with its count, pruned to `limit`). Built
 * from a natively sorted copy of the column, which starts fast on small data.
 */
export function qsExactColumn(X: Float32Array, n: number, F: number, f: number, limit: number, col: Float32Array, out: QSummary, temp: QSummary): QSummary {
  let m = 0;
  // columns with at most two distinct values (flags, one-hot columns) need no sort
  let a = 0;
  let b = 0;
  let na = 0;
  let nb = 0;
  let two = true;
  for (let r = 0, p = f; r < n; r++, p += F) {
    const x = X[p]!;
    if (x !== x) continue;
    col[m++] = x;
    if (two) {
      if (na !== 0 && x === a) na++;
      else if (nb !== 0 && x === b) nb++;
      else if (na === 0) {
        a = x;
        na = 1;
      } else if (nb === 0) {
        b = x;
        nb = 1;
      } else two = false;
    }
  }
  const o = out.e;
  if (two) {
    if (nb !== 0 && b < a) {
      const t = a;
      a = b;
      b = t;
      const tn = na;
      na = nb;
      nb = tn;
    }
    o[0] = 0;
    o[1] = na;
    o[2] = na;
    o[3] = a;
    out.size = 1;
    if (nb !== 0) {
      o[4] = na;
      o[5] = na + nb;
      o[6] = nb;
      o[7] = b;
      out.size = 2;
    }
    if (out.size > limit) {
      qsPrune(temp, out, limit);
      return temp;
    }
    return out;
  }
  const c = col.subarray(0, m);
  c.sort();
  let size = 0;
  let wsum = 0;
  let i = 0;
  while (i < m) {
    const v = c[i]!;
    let j = i + 1;
    while (j < m && c[j] === v) j++;
    const w = j - i;
    const p = 4 * size;
    o[p] = wsum;
    o[p + 1] = wsum + w;
    o[p + 2] = w;
    o[p + 3] = v;
    size++;
    wsum += w;
    i = j;
  }
  out.size = size;
  if (size > limit) {
    qsPrune(temp, out, limit);
    return temp;
  }
  return out;
}

/** QuantileSketchTemplate::PushTemp: push the temp summary up the levels. */
export function qsPushTemp(sk: QSketch): void {
  for (let l = 1; ; l++) {
    while (sk.levels.length < l + 1) sk.levels.push(qsNew(sk.limit));
    const lv = sk.levels[l]!;
    if (lv.size === 0) {
      qsPrune(lv, sk.temp, sk.limit);
      break;
    }
    const l0 = sk.levels[0]!;
    qsPrune(l0, sk.temp, sk.limit);
    qsCombine(sk.temp, l0, lv);
    if (sk.temp.size > sk.limit) {
      lv.size = 0;
    } else {
      qsCopy(lv, sk.temp);
      break;
    }
  }
}

/** QuantileSketchTemplate::GetSummary */
export function qsGetSummary(sk: QSketch, out: QSummary): QSummary {
  if (out.e.length < Math.max(sk.qv.length, sk.qtail) * 4) out = qsNew(Math.max(sk.qv.length, sk.qtail));
  qsMakeSummary(sk, out);
  if (sk.levels.length !== 0) {
    const l0 = sk.levels[0]!;
    qsPrune(l0, out, sk.limit);
    for (let l = 1; l < sk.levels.length; l++) {
      const lv = sk.levels[l]!;
      if (lv.size === 0) continue;
      if (l0.size === 0) {
        qsCopy(l0, lv);
      } else {
        qsCombine(out, l0, lv);
        qsPrune(l0, out, sk.limit);
      }
    }
    qsCopy(out, l0);
  } else if (out.size > sk.limit) {
    if (sk.temp.e.length < sk.limit * 4) sk.temp = qsNew(sk.limit);
    qsPrune(sk.temp, out, sk.limit);
    qsCopy(out, sk.temp);
  }
  return out;
}

/** HostSketchContainer's per-feature sketch set-up (WQuantileSketch::Init + queue sizing). */
export function qsNewSketch(f: number, count: number, maxBin: number, scratch: QSortScratch, qv?: Float32Array, qw?: Float32Array): QSketch {
  let nBins = Math.min(maxBin, count);
  nBins = Math.max(nBins, 1);
  const eps = 1 / Math.fround(nBins * 8);
  let nlevel = 1;
  let limit = 0;
  for (;;) {
    limit = Math.ceil(nlevel / eps) + 1;
    limit = Math.min(count, limit);
    if (2 ** nlevel * limit >= count) break;
    nlevel++;
  }
  // A queue that can hold every value never flushes, exactly like the 2·limit queue when
  // count ≤ 2·limit; smaller allocations for small columns.
  const cap = Math.min(limit * 2, count);
  return {
    f,
    limit,
    qv: qv ?? new Float32Array(Math.max(cap, 1)),
    qw: qw ?? new Float32Array(Math.max(cap, 1)),
    qtail: 0,
    temp: qsNew(1), // grown on the first flush
    levels: [],
    scratch,
  };
}

/** Flush a full queue into the levels (the branch of QuantileSketchTemplate::Push). */
export function qsFlush(sk: QSketch): void {
  if (sk.temp.e.length < sk.qv.length * 4) sk.temp = qsNew(sk.qv.length);
  qsMakeSummary(sk, sk.temp);
  sk.qtail = 0;
  qsPushTemp(sk);
}

/** SketchContainerImpl::AllReduce + MakeCuts + AddCutPoint for one sketched feature. */
export function qsFinishCuts(
  sk: QSketch,
  count: number,
  maxBin: number,
  outCuts: Float32Array,
  outCounts: Int32Array,
  outMin: Float32Array,
  cutStride: number,
  work: { out: QSummary; reduced: QSummary; a: QSummary },
  outHeavy: Float64Array,
  prebuilt: QSummary | null = null,
): void {
  const fr = Math.fround;
  const f = sk.f;
  const base = f * cutStride;
  let nCuts = 0;
  if (count === 0) {
    outHeavy[3 * f] = NaN;
    outHeavy[3 * f + 1] = 0;
    outHeavy[3 * f + 2] = 0;
    const mval = fr(1e-5);
    outMin[f] = mval;
    outCuts[base + nCuts++] = fr(mval + fr(Math.abs(mval) + fr(1e-5)));
    outCounts[f] = nCuts;
    return;
  }
  let summary: QSummary;
  if (prebuilt) {
    summary = prebuilt;
  } else {
    summary = qsGetSummary(sk, work.out);
    work.out = summary;
  }
  // heaviest value (exact for columns that never flushed, a lower bound otherwise)
  {
    const e = summary.e;
    let bw = -1;
    let bv = 0;
    for (let i = 0; i < summary.size; i++) {
      if (e[4 * i + 2]! > bw) {
        bw = e[4 * i + 2]!;
        bv = e[4 * i + 3]!;
      }
    }
    outHeavy[3 * f] = bv;
    outHeavy[3 * f + 1] = bw;
    outHeavy[3 * f + 2] = summary.size > 0 ? e[4 * (summary.size - 1) + 1]! : 0;
  }
  const intermediate = Math.min(count, Math.trunc(fr(maxBin * 8)));
  const reduced = work.reduced;
  qsPrune(reduced, summary, intermediate);
  const maxNumBins = Math.min(intermediate, maxBin);
  const a = work.a;
  qsPrune(a, reduced, maxNumBins + 1);
  const e = a.e;
  const mval = e[3]!;
  outMin[f] = fr(fr(mval - Math.abs(mval)) - fr(1e-5));
  const required = Math.min(a.size, maxNumBins);
  for (let i = 1; i < required; i++) {
    const cpt = e[4 * i + 3]!;
    if (i === 1 || cpt > outCuts[base + nCuts - 1]!) outCuts[base + nCuts++] = cpt;
  }
  const cpt = a.size > 0 ? e[4 * (a.size - 1) + 3]! : outMin[f]!;
  outCuts[base + nCuts++] = fr(cpt + fr(Math.abs(cpt) + fr(1e-5)));
  outCounts[f] = nCuts;
}

/**
 * Kernel: cut points for features [fBegin, fEnd) of row-major X (NaN = missing), pushing
 * rows in order into one sketch per feature (a single pass over the rows).
 *
 * @param colCount number of non-missing values of each feature
 * @param outCuts per feature f, cut values at outCuts[f·cutStride …], count in outCounts[f]
 * @param outMin per feature minimum bound (XGBoost's min_vals)
 */
export function sketchFeatureCuts(
  X: Float32Array,
  n: number,
  F: number,
  weights: Float32Array | null,
  fBegin: number,
  fEnd: number,
  colCount: Int32Array,
  maxBin: number,
  outCuts: Float32Array,
  outCounts: Int32Array,
  outMin: Float32Array,
  cutStride: number,
  outHeavy: Float64Array,
): void {
  const nf0 = fEnd - fBegin;
  if (nf0 <= 0) return;
  const EMPTY = new Float32Array(0);
  const all: QSketch[] = [];
  let scratch = qsNewScratch(1);
  for (let f = fBegin; f < fEnd; f++) all.push(qsNewSketch(f, colCount[f]!, maxBin, scratch, EMPTY, EMPTY));
  const work = { out: qsNew(1), reduced: qsNew(Math.trunc(Math.fround(maxBin * 8))), a: qsNew(maxBin + 1) };
  // Unweighted columns that fit in their queue have exact summaries: build them directly.
  const sketches: QSketch[] = [];
  if (weights === null) {
    const col = new Float32Array(n);
    const exact = qsNew(n);
    const temp = qsNew(1);
    for (const sk of all) {
      const count = colCount[sk.f]!;
      if (count > 0 && count <= 2 * sk.limit) {
        if (temp.e.length < sk.limit * 4) temp.e = new Float32Array(sk.limit * 4);
        const summary = qsExactColumn(X, n, F, sk.f, sk.limit, col, exact, temp);
        qsFinishCuts(sk, count, maxBin, outCuts, outCounts, outMin, cutStride, work, outHeavy, summary);
      } else {
        sketches.push(sk);
      }
    }
  } else {
    sketches.push(...all);
  }
  const nf = sketches.length;
  if (nf === 0) return;
  // one allocation for every queue (views into it), sized like the individual queues
  let total = 0;
  let maxCap = 1;
  for (const sk of sketches) {
    const cap = Math.max(1, Math.min(2 * sk.limit, colCount[sk.f]!));
    total += cap;
    maxCap = Math.max(maxCap, cap);
  }
  const qvAll = new Float32Array(total);
  const qwAll = new Float32Array(total);
  let off = 0;
  for (const sk of sketches) {
    const cap = Math.max(1, Math.min(2 * sk.limit, colCount[sk.f]!));
    sk.qv = qvAll.subarray(off, off + cap);
    sk.qw = qwAll.subarray(off, off + cap);
    off += cap;
  }
  scratch = qsNewScratch(maxCap);
  for (const sk of sketches) sk.scratch = scratch;
  const qvs = sketches.map((s) => s.qv);
  const qws = sketches.map((s) => s.qw);
  const tails = new Int32Array(nf);
  const cols = Int32Array.from(sketches.map((sk) => sk.f));
  for (let r = 0; r < n; r++) {
    const w = weights === null ? 1 : weights[r]!;
    if (w === 0) continue;
    const row = r * F;
    for (let j = 0; j < nf; j++) {
      const x = X[row + cols[j]!]!;
      if (x !== x) continue;
      const qv = qvs[j]!;
      let qtail = tails[j]!;
      if (qtail !== 0 && qv[qtail - 1] === x) {
        const qw = qws[j]!;
        qw[qtail - 1] = qw[qtail - 1]! + w;
        continue;
      }
      if (qtail === qv.length) {
        const sk = sketches[j]!;
        sk.qtail = qtail;
        qsFlush(sk);
        qtail = 0;
      }
      qv[qtail] = x;
      qws[j]![qtail] = w;
      tails[j] = qtail + 1;
    }
  }
  for (let j = 0; j < nf; j++) {
    const sk = sketches[j]!;
    sk.qtail = tails[j]!;
    qsFinishCuts(sk, colCount[sk.f]!, maxBin, outCuts, outCounts, outMin, cutStride, work, outHeavy);
    // release this feature's summaries early
    sk.levels = [];
    sk.temp = qsNew(1);
  }
}

/**
 * Kernel: a lookup table for binning feature f: for each 16-bit prefix of the order-preserving
 * integer key of a float, the range of cut indices it can fall in.
 */
export function buildBinTable(cuts: Float32Array, beg: number, end: number, table: Uint16Array, tableOffset: number): void {
  const nc = end - beg;
  const cvtF = new Float32Array(1);
  const cvt = new Uint32Array(cvtF.buffer);
  const keys = new Uint32Array(nc);
  for (let i = 0; i < nc; i++) {
    cvtF[0] = cuts[beg + i]!;
    const b = cvt[0]!;
    keys[i] = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
  }
  let lo = 0;
  for (let p = 0; p < 65536; p++) {
    const kmin = p * 65536;
    const kmax = kmin + 65535;
    // first cut whose key exceeds the smallest key of this prefix …
    while (lo < nc && keys[lo]! <= kmin) lo++;
    // … and the first cut above every key of this prefix
    let hi = lo;
    while (hi < nc && keys[hi]! <= kmax) hi++;
    table[tableOffset + 2 * p] = lo;
    table[tableOffset + 2 * p + 1] = hi;
  }
}

/**
 * Kernel: bin index of every value of rows [start, end): XGBoost's SearchBin (first cut
 * greater than the value, clamped to the last bin), local to the feature. Missing values get
 * `nbins[f]`, one past the feature's last bin. `tables` holds buildBinTable output per feature
 * (131072 entries each).
 */
export function binRows(
  X: Float32Array,
  F: number,
  start: number,
  end: number,
  cuts: Float32Array,
  cutPtr: Int32Array,
  tables: Uint16Array | null,
  out: Uint8Array | Uint16Array,
): void {
  if (tables === null) {
    for (let r = start; r < end; r++) {
      const row = r * F;
      for (let f = 0; f < F; f++) {
        const x = X[row + f]!;
        const beg = cutPtr[f]!;
        const endc = cutPtr[f + 1]!;
        if (x !== x) {
          out[row + f] = endc - beg;
          continue;
        }
        let lo = beg;
        let hi = endc;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (cuts[mid]! <= x) lo = mid + 1;
          else hi = mid;
        }
        if (lo === endc) lo--;
        out[row + f] = lo - beg;
      }
    }
    return;
  }
  const xb = new Uint32Array(X.buffer, X.byteOffset, X.length);
  for (let r = start; r < end; r++) {
    const row = r * F;
    for (let f = 0; f < F; f++) {
      const x = X[row + f]!;
      const beg = cutPtr[f]!;
      const nc = cutPtr[f + 1]! - beg;
      if (x !== x) {
        out[row + f] = nc;
        continue;
      }
      const b = xb[row + f]!;
      // -0 bins like +0 (it compares equal to every zero cut)
      const key = b === 0x80000000 ? 0x80000000 : (b ^ ((b >> 31) | 0x80000000)) >>> 0;
      const t = f * 131072 + 2 * (key >>> 16);
      let lo = tables[t]!;
      const hi = tables[t + 1]!;
      while (lo < hi && cuts[beg + lo]! <= x) lo++;
      out[row + f] = lo === nc ? nc - 1 : lo;
    }
  }
}
