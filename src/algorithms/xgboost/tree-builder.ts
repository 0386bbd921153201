/**
 * Growth of one regression tree with the hist method, on the main thread: XGBoost 1.7's
 * Driver (depthwise or lossguide expansion in batches), HistEvaluator::ApplyTreeSplit
 * (weights, leaf values scaled by eta, node statistics) and the bookkeeping of histogram
 * slots (build the child with the smaller hessian, subtract for its sibling). The row-wise
 * and histogram work runs on the executor's threads (see worker-pool.ts).
 */
import type { Tree } from './model.ts';
import type { ColumnSampler } from './random.ts';
import { CTL, descLayout, REC, STEP, treeLayout, type Executor, type KState, type Meta } from './worker-pool.ts';

const fr = Math.fround;
const RT_EPS = fr(1e-6);

export interface SplitParams {
  eta: number;
  gamma: number;
  minChildWeight: number;
  lambda: number;
  alpha: number;
  maxDeltaStep: number;
  maxDepth: number;
  maxLeaves: number;
  lossguide: boolean;
  colsampleBytree: number;
  colsampleBylevel: number;
  colsampleBynode: number;
}

interface Split {
  loss: number;
  feat: number;
  defaultLeft: boolean;
  splitBin: number;
  splitValue: number;
  lg: number;
  lh: number;
  rg: number;
  rh: number;
}

interface Entry {
  nid: number;
  depth: number;
  split: Split;
}

const emptySplit = (): Split => ({ loss: 0, feat: 0, defaultLeft: false, splitBin: 0, splitValue: 0, lg: 0, lh: 0, rg: 0, rh: 0 });

/** TrainParam-based weight of a node (tree::CalcWeight), as float32. */
export function calcWeight(p: SplitParams, g: number, h: number): number {
  if (h < p.minChildWeight || h <= 0) return 0;
  let tg = 0;
  if (g > p.alpha) tg = g - p.alpha;
  else if (g < -p.alpha) tg = g + p.alpha;
  let dw = -tg / (h + p.lambda);
  if (p.maxDeltaStep !== 0 && Math.abs(dw) > p.maxDeltaStep) dw = dw < 0 ? -p.maxDeltaStep : p.maxDeltaStep;
  return fr(dw);
}

/** SplitEvaluator::CalcGain of a node, as float32. */
export function calcGain(p: SplitParams, g: number, h: number): number {
  if (h <= 0) return 0;
  if (p.maxDeltaStep === 0) {
    let tg = 0;
    if (g > p.alpha) tg = g - p.alpha;
    else if (g < -p.alpha) tg = g + p.alpha;
    return fr(fr(tg * tg) / fr(h + p.lambda));
  }
  const w = calcWeight(p, g, h);
  return fr(-fr(fr(fr(2 * fr(g)) * w) + fr(fr(fr(h) + p.lambda) * fr(w * w))));
}

class Driver {
  private queue: Entry[] = [];
  numLeaves = 1;

  constructor(private readonly p: SplitParams) {}

  private before(a: Entry, b: Entry): boolean {
    // true when a comes out of the priority queue before b
    if (!this.p.lossguide) return a.nid < b.nid;
    if (a.split.loss === b.split.loss) return a.nid < b.nid;
    return a.split.loss > b.split.loss;
  }

  private insert(e: Entry): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.before(this.queue[mid]!, e)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, e);
  }

  pushOne(e: Entry): void {
    this.insert(e);
  }

  pushAll(entries: Entry[]): void {
    for (const e of entries) if (e.split.loss > RT_EPS) this.insert(e);
  }

  isChildValid(parent: Entry): boolean {
    if (this.p.maxDepth > 0 && parent.depth + 1 >= this.p.maxDepth) return false;
    if (this.p.maxLeaves > 0 && this.numLeaves >= this.p.maxLeaves) return false;
    return true;
  }

  private isValid(e: Entry): boolean {
    const s = e.split;
    if (s.loss <= RT_EPS) return false;
    if (s.lh === 0 || s.rh === 0) return false;
    if (s.loss < this.p.gamma) return false;
    if (this.p.maxDepth > 0 && e.depth === this.p.maxDepth) return false;
    if (this.p.maxLeaves > 0 && this.numLeaves === this.p.maxLeaves) return false;
    return true;
  }

  /** Driver::Pop: the next batch of valid entries, plus the entries it discarded. */
  pop(): { batch: Entry[]; discarded: Entry[] } {
    const batch: Entry[] = [];
    const discarded: Entry[] = [];
    if (this.queue.length === 0) return { batch, discarded };
    if (this.p.lossguide) {
      const e = this.queue.shift()!;
      if (this.isValid(e)) {
        this.numLeaves++;
        batch.push(e);
      } else {
        discarded.push(e);
      }
      return { batch, discarded };
    }
    let e = this.queue[0]!;
    const level = e.depth;
    while (e.depth === level && this.queue.length > 0 && batch.length < 256) {
      this.queue.shift();
      if (this.isValid(e)) {
        this.numLeaves++;
        batch.push(e);
      } else {
        discarded.push(e);
      }
      if (this.queue.length > 0) e = this.queue[0]!;
    }
    return { batch, discarded };
  }

  drain(): Entry[] {
    const rest = this.queue;
    this.queue = [];
    return rest;
  }
}

/** Histogram slots in the shared pool, reused through a free list. */
class SlotPool {
  private free: number[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  reset(): void {
    this.free = [];
    this.next = 0;
  }

  /** Slot 0 is reserved for the root, which PREP_TREE builds before the tree starts. */
  takeRoot(): number {
    this.reset();
    this.next = 1;
    return 0;
  }

  alloc(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if (this.next >= this.capacity) return -1;
    return this.next++;
  }

  release(slot: number): void {
    if (slot >= 0) this.free.push(slot);
  }
}

/** The growing tree, in XGBoost's array layout plus per-node training state. */
class GrowingTree {
  left: number[] = [-1];
  right: number[] = [-1];
  parent: number[] = [2147483647];
  feat: number[] = [0];
  splitBin: number[] = [0];
  splitValue: number[] = [0];
  defaultLeft: number[] = [0];
  baseWeight: number[] = [0];
  lossChg: number[] = [0];
  sumHess: number[] = [0];
  depth: number[] = [0];
  // training state
  sg: number[] = [0];
  sh: number[] = [0];
  rootGain: number[] = [0];
  slot: number[] = [-1];

  get size(): number {
    return this.left.length;
  }

  alloc(parent: number, depth: number): number {
    const id = this.left.length;
    this.left.push(-1);
    this.right.push(-1);
    this.parent.push(parent);
    this.feat.push(0);
    this.splitBin.push(0);
    this.splitValue.push(0);
    this.defaultLeft.push(0);
    this.baseWeight.push(0);
    this.lossChg.push(0);
    this.sumHess.push(0);
    this.depth.push(depth);
    this.sg.push(0);
    this.sh.push(0);
    this.rootGain.push(0);
    this.slot.push(-1);
    return id;
  }
}

export interface BuiltTree {
  tree: Tree;
  /** Number of nodes (for UPDATE_PRED). */
  nodes: number;
}

/**
 * Grows trees on the shared state. `grow` expects the root histogram of the tree (slot 0)
 * and the root gradient sums to be ready (PREP_TREE has run); on return, the final
 * partition of the last applied splits is described in the command area (N_APPLY) and the
 * tree's arrays are written to the shared tree buffers for class `k`, so the caller can
 * fuse APPLY with UPDATE_PRED and the next tree's preparation into one command.
 */
export class TreeBuilder {
  private readonly pool: SlotPool;
  private readonly layout: ReturnType<typeof descLayout>;
  private readonly tl: ReturnType<typeof treeLayout>;

  constructor(
    private readonly meta: Meta,
    private readonly views: KState,
    private readonly exec: Executor,
    private readonly p: SplitParams,
    private readonly sampler: ColumnSampler,
  ) {
    this.pool = new SlotPool(meta.poolSlots);
    this.layout = descLayout(meta);
    this.tl = treeLayout(meta);
  }

  private get sampling(): boolean {
    return this.p.colsampleBytree !== 1 || this.p.colsampleBylevel !== 1 || this.p.colsampleBynode !== 1;
  }

  async grow(k: number): Promise<BuiltTree> {
    const p = this.p;
    const T = this.meta.T;
    const v = this.views;
    this.pool.takeRoot();
    this.sampler.initTree(this.meta.F, p.colsampleBytree, p.colsampleBylevel, p.colsampleBynode);

    // InitRoot
    let sg = 0;
    let sh = 0;
    for (let w = 0; w < T; w++) {
      sg += v.rootSum[2 * w]!;
      sh += v.rootSum[2 * w + 1]!;
    }
    const t = new GrowingTree();
    const rootWeight = calcWeight(p, sg, sh);
    t.sg[0] = sg;
    t.sh[0] = sh;
    t.rootGain[0] = calcGain(p, sg, sh);
    t.sumHess[0] = fr(sh);
    t.baseWeight[0] = rootWeight;
    t.splitValue[0] = fr(p.eta * rootWeight); // leaf value
    t.slot[0] = 0;

    // Root histogram: reduce the workers' partial histograms, then search the root split.
    this.writeReduce([{ slot: 0, scratch: 0, parent: -1, sibling: -1 }]);
    const [rootSplit] = await this.evaluate(t, [0]);
    const driver = new Driver(p);
    driver.pushOne({ nid: 0, depth: 0, split: rootSplit! });

    const pendingApply: Entry[] = [];
    let { batch, discarded } = driver.pop();
    this.releaseEntries(t, discarded);
    while (batch.length > 0) {
      const valid: Entry[] = [];
      for (const c of batch) {
        this.applySplit(t, c);
        pendingApply.push(c);
        if (driver.isChildValid(c)) valid.push(c);
      }
      if (valid.length > 0) {
        // Which child to build: the one with the smaller hessian sum (right on ties loses).
        const builds: { nid: number; slot: number; scratch: number }[] = [];
        const reduces: { slot: number; scratch: number; parent: number; sibling: number }[] = [];
        const evalNodes: number[] = [];
        for (const c of valid) {
          const l = t.left[c.nid]!;
          const r = t.right[c.nid]!;
          const fewerRight = c.split.rh < c.split.lh;
          const build = fewerRight ? r : l;
          const sub = fewerRight ? l : r;
          const parentSlot = t.slot[c.nid]!;
          const bSlot = this.allocSlot();
          t.slot[build] = bSlot;
          builds.push({ nid: build, slot: bSlot, scratch: builds.length });
          if (parentSlot >= 0) {
            const sSlot = this.allocSlot();
            t.slot[sub] = sSlot;
            reduces.push({ slot: bSlot, scratch: builds.length - 1, parent: parentSlot, sibling: sSlot });
          } else {
            const sSlot = this.allocSlot();
            t.slot[sub] = sSlot;
            reduces.push({ slot: bSlot, scratch: builds.length - 1, parent: -1, sibling: -1 });
            builds.push({ nid: sub, slot: sSlot, scratch: builds.length });
            reduces.push({ slot: sSlot, scratch: builds.length - 1, parent: -1, sibling: -1 });
          }
          evalNodes.push(l, r);
        }
        this.writeApply(t, pendingApply, builds);
        pendingApply.length = 0;
        await this.exec.run(STEP.APPLY);
        this.writeReduce(reduces);
        const splits = await this.evaluate(t, evalNodes);
        for (const c of valid) {
          this.pool.release(t.slot[c.nid]!);
          t.slot[c.nid] = -1;
        }
        const children: Entry[] = evalNodes.map((nid, i) => ({ nid, depth: t.depth[nid]!, split: splits[i]! }));
        driver.pushAll(children);
        // Children whose split is not worth queueing keep no histogram.
        for (const ch of children) {
          if (!(ch.split.loss > RT_EPS)) {
            this.pool.release(t.slot[ch.nid]!);
            t.slot[ch.nid] = -1;
          }
        }
      }
      for (const c of batch) {
        if (t.slot[c.nid]! >= 0) {
          this.pool.release(t.slot[c.nid]!);
          t.slot[c.nid] = -1;
        }
      }
      ({ batch, discarded } = driver.pop());
      this.releaseEntries(t, discarded);
    }
    this.releaseEntries(t, driver.drain());

    // Leave the last partition for the caller's fused command.
    this.writeApply(t, pendingApply, []);
    this.writeTree(t, k);
    return { tree: this.toTree(t), nodes: t.size };
  }

  private allocSlot(): number {
    const s = this.pool.alloc();
    if (s < 0) throw new Error(`histogram memory exhausted (${this.meta.poolSlots} node histograms); lower max_depth or max_bin`);
    return s;
  }

  private releaseEntries(t: GrowingTree, entries: Entry[]): void {
    for (const e of entries) {
      if (t.slot[e.nid]! >= 0) {
        this.pool.release(t.slot[e.nid]!);
        t.slot[e.nid] = -1;
      }
    }
  }

  /** HistEvaluator::ApplyTreeSplit. */
  private applySplit(t: GrowingTree, c: Entry): void {
    const p = this.p;
    const s = c.split;
    const pg = s.lg + s.rg;
    const ph = s.lh + s.rh;
    const baseWeight = calcWeight(p, pg, ph);
    const lw = calcWeight(p, s.lg, s.lh);
    const rw = calcWeight(p, s.rg, s.rh);
    const nid = c.nid;
    const l = t.alloc(nid, c.depth + 1);
    const r = t.alloc(nid, c.depth + 1);
    t.left[nid] = l;
    t.right[nid] = r;
    t.feat[nid] = s.feat;
    t.splitBin[nid] = s.splitBin;
    t.splitValue[nid] = fr(s.splitValue);
    t.defaultLeft[nid] = s.defaultLeft ? 1 : 0;
    t.lossChg[nid] = fr(s.loss);
    t.sumHess[nid] = fr(ph);
    t.baseWeight[nid] = baseWeight;
    const lv = fr(lw * p.eta);
    const rv = fr(rw * p.eta);
    t.splitValue[l] = lv;
    t.splitValue[r] = rv;
    t.baseWeight[l] = lv;
    t.baseWeight[r] = rv;
    t.sumHess[l] = fr(s.lh);
    t.sumHess[r] = fr(s.rh);
    t.sg[l] = s.lg;
    t.sh[l] = s.lh;
    t.rootGain[l] = calcGain(p, s.lg, s.lh);
    t.sg[r] = s.rg;
    t.sh[r] = s.rh;
    t.rootGain[r] = calcGain(p, s.rg, s.rh);
  }

  private writeApply(t: GrowingTree, applied: Entry[], builds: { nid: number; slot: number; scratch: number }[]): void {
    const d = this.views.desc;
    const L = this.layout;
    if (applied.length > this.meta.maxApply || builds.length > this.meta.scratchSlots) {
      throw new Error('internal error: expansion batch larger than the command area');
    }
    applied.forEach((c, j) => {
      const o = L.apply + 6 * j;
      d[o] = c.nid;
      d[o + 1] = c.split.feat;
      d[o + 2] = c.split.splitBin;
      d[o + 3] = c.split.defaultLeft ? 1 : 0;
      d[o + 4] = t.left[c.nid]!;
      d[o + 5] = t.right[c.nid]!;
    });
    builds.forEach((b, j) => {
      const o = L.build + 3 * j;
      d[o] = b.nid;
      d[o + 1] = b.slot;
      d[o + 2] = b.scratch;
    });
    this.views.ctl[CTL.N_APPLY] = applied.length;
    this.views.ctl[CTL.N_BUILD] = builds.length;
  }

  private writeReduce(reduces: { slot: number; scratch: number; parent: number; sibling: number }[]): void {
    const d = this.views.desc;
    const L = this.layout;
    reduces.forEach((r, j) => {
      const o = L.reduce + 4 * j;
      d[o] = r.slot;
      d[o + 1] = r.scratch;
      d[o + 2] = r.parent;
      d[o + 3] = r.sibling;
    });
    this.views.ctl[CTL.N_REDUCE] = reduces.length;
  }

  /** Runs REDUCE + EVAL for `nodes` and merges the workers' candidates (SplitEntry::Update). */
  private async evaluate(t: GrowingTree, nodes: number[]): Promise<Split[]> {
    const v = this.views;
    const L = this.layout;
    const F = this.meta.F;
    const T = this.meta.T;
    if (nodes.length > this.meta.maxEval) throw new Error('internal error: too many nodes to evaluate at once');
    nodes.forEach((nid, j) => {
      v.desc[L.evalI + 2 * j] = t.slot[nid]!;
      if (this.sampling) {
        const set = this.sampler.featureSet(t.depth[nid]!);
        v.featSets[j * (F + 1)] = set.length;
        v.featSets.set(set, j * (F + 1) + 1);
        v.desc[L.evalI + 2 * j + 1] = j;
      } else {
        v.desc[L.evalI + 2 * j + 1] = -1;
      }
      v.descF[L.evalF + 3 * j] = t.sg[nid]!;
      v.descF[L.evalF + 3 * j + 1] = t.sh[nid]!;
      v.descF[L.evalF + 3 * j + 2] = t.rootGain[nid]!;
    });
    v.ctl[CTL.N_EVAL] = nodes.length;
    await this.exec.run(STEP.REDUCE | STEP.EVAL);
    const out: Split[] = [];
    const e = v.evalOut;
    for (let j = 0; j < nodes.length; j++) {
      const best = emptySplit();
      let bestIdx = 0;
      for (let w = 0; w < T; w++) {
        const o = (j * T + w) * REC;
        const loss = e[o]!;
        const idx = e[o + 1]!;
        if (loss === Infinity || loss === -Infinity) continue;
        const replace = bestIdx <= idx ? loss > best.loss : !(best.loss > loss);
        if (!replace) continue;
        bestIdx = idx;
        best.loss = loss;
        best.feat = idx;
        best.defaultLeft = e[o + 2]! !== 0;
        best.splitBin = e[o + 3]!;
        best.splitValue = e[o + 4]!;
        best.lg = e[o + 5]!;
        best.lh = e[o + 6]!;
        best.rg = e[o + 7]!;
        best.rh = e[o + 8]!;
      }
      out.push(best);
    }
    return out;
  }

  private writeTree(t: GrowingTree, k: number): void {
    const tl = this.tl;
    const base = k * this.meta.nodeCap;
    const ti = this.views.treeI;
    const tf = this.views.treeF;
    if (t.size > this.meta.nodeCap) throw new Error('internal error: tree larger than node capacity');
    for (let i = 0; i < t.size; i++) {
      ti[tl.left + base + i] = t.left[i]!;
      ti[tl.right + base + i] = t.right[i]!;
      ti[tl.feat + base + i] = t.feat[i]!;
      ti[tl.splitBin + base + i] = t.splitBin[i]!;
      ti[tl.defLeft + base + i] = t.defaultLeft[i]!;
      tf[tl.leaf + base + i] = t.left[i]! < 0 ? t.splitValue[i]! : 0;
      tf[tl.splitValue + base + i] = t.splitValue[i]!;
    }
    this.views.ctl[CTL.TREE_NODES] = t.size;
  }

  private toTree(t: GrowingTree): Tree {
    return {
      leftChildren: Int32Array.from(t.left),
      rightChildren: Int32Array.from(t.right),
      parents: Int32Array.from(t.parent),
      splitIndices: Int32Array.from(t.feat),
      splitConditions: Float32Array.from(t.splitValue),
      defaultLeft: Uint8Array.from(t.defaultLeft),
      baseWeights: Float32Array.from(t.baseWeight),
      lossChanges: Float32Array.from(t.lossChg),
      sumHessian: Float32Array.from(t.sumHess),
    };
  }
}
