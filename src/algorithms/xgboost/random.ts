/**
 * Random number generation that reproduces XGBoost 1.7's CPU training streams exactly, so
 * that row and column sampling pick the same rows and features as the real library:
 *
 * - `Mt19937`: std::mt19937, XGBoost's global engine (seeded with `seed`) and the column
 *   sampler's engine.
 * - `shuffleLikeLibstdcxx`: std::shuffle as GCC 12's libstdc++ implements it (two swap
 *   positions per draw, Lemire's nearly-divisionless uniform_int_distribution).
 * - `lcgSkip` / the row sampler in histogram kernels: XGBoost's `RandomReplace`
 *   (x ← 16807·x mod 2^63, one std::bernoulli_distribution draw per row).
 */

export class Mt19937 {
  private readonly mt = new Uint32Array(624);
  private index = 625;

  constructor(seed: number | bigint = 5489) {
    this.seed(seed);
  }

  seed(seed: number | bigint): void {
    // std::mt19937::seed takes the value modulo 2^32.
    const s = typeof seed === 'bigint' ? Number(BigInt.asUintN(32, seed)) : Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // 1812433253 * prev + i, modulo 2^32
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = 624;
  }

  /** Next 32-bit output, as an unsigned number. */
  next(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let i = 0; i < 624; i++) {
        const y = (mt[i]! & 0x80000000) | (mt[(i + 1) % 624]! & 0x7fffffff);
        let v = mt[(i + 397) % 624]! ^ (y >>> 1);
        if (y & 1) v ^= 0x9908b0df;
        mt[i] = v >>> 0;
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}

/**
 * std::uniform_int_distribution<unsigned long>{0, b}(mt19937) in libstdc++ (GCC 11+): the
 * engine's range is exactly 32 bits, so it uses Lemire's method with a 64-bit product.
 */
export function uniformIntLibstdcxx(rng: Mt19937, b: number): number {
  if (b === 0) return 0;
  if (b >= 0xffffffff) {
    // Not reached for the sizes XGBoost samples (feature counts); keep it total anyway.
    return rng.next() % (b + 1);
  }
  const range = BigInt(b + 1);
  let product = BigInt(rng.next()) * range;
  let low = product & 0xffffffffn;
  if (low < range) {
    const threshold = (0x100000000n - range) % range;
    while (low < threshold) {
      product = BigInt(rng.next()) * range;
      low = product & 0xffffffffn;
    }
  }
  return Number(product >> 32n);
}

/** std::shuffle(first, last, mt19937&) as libstdc++ (GCC 9+) implements it. */
export function shuffleLikeLibstdcxx(a: Int32Array | number[], rng: Mt19937): void {
  const n = a.length;
  if (n === 0) return;
  const swap = (i: number, j: number) => {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  };
  // urngrange / urange >= urange holds for any feature count below 65536.
  if (Math.floor(0xffffffff / n) >= n) {
    let i = 1;
    if (n % 2 === 0) {
      swap(i, uniformIntLibstdcxx(rng, 1));
      i++;
    }
    while (i !== n) {
      const swapRange = i + 1;
      const x = uniformIntLibstdcxx(rng, swapRange * (swapRange + 1) - 1);
      const p1 = Math.floor(x / (swapRange + 1));
      const p2 = x % (swapRange + 1);
      swap(i, p1);
      i++;
      swap(i, p2);
      i++;
    }
    return;
  }
  for (let i = 1; i < n; i++) swap(i, uniformIntLibstdcxx(rng, i));
}

const MOD63 = (1n << 63n) - 1n;

/** XGBoost's RandomReplace::SimpleSkip: seed · 16807^exponent mod 2^63, as the engine state. */
export function lcgSkip(seed: bigint, exponent: number): bigint {
  let result = 1n;
  let base = 16807n;
  let e = BigInt(exponent);
  while (e > 0n) {
    if (e & 1n) result = (result * base) & MOD63;
    base = (base * base) & MOD63;
    e >>= 1n;
  }
  let state = (result * seed) & MOD63;
  // linear_congruential_engine::seed: a zero state with c == 0 becomes 1.
  if (state === 0n) state = 1n;
  return state;
}

/**
 * The per-tree column sampler of XGBoost's hist updater (common::ColumnSampler): feature
 * sets per tree, per level and per node, drawn from its own mt19937.
 */
export class ColumnSampler {
  private readonly rng: Mt19937;
  private treeSet: Int32Array = new Int32Array(0);
  private readonly levelSets = new Map<number, Int32Array>();
  private bylevel = 1;
  private bynode = 1;

  constructor(seed: number) {
    this.rng = new Mt19937(seed);
  }

  /** Called at the start of every tree (HistEvaluator's constructor). */
  initTree(numFeatures: number, bytree: number, bylevel: number, bynode: number): void {
    this.bylevel = bylevel;
    this.bynode = bynode;
    this.levelSets.clear();
    const all = new Int32Array(numFeatures);
    for (let i = 0; i < numFeatures; i++) all[i] = i;
    this.treeSet = this.colSample(all, bytree);
  }

  featureSet(depth: number): Int32Array {
    if (this.bylevel === 1 && this.bynode === 1) return this.treeSet;
    let level = this.levelSets.get(depth);
    if (!level) {
      level = this.colSample(this.treeSet, this.bylevel);
      this.levelSets.set(depth, level);
    }
    if (this.bynode === 1) return level;
    return this.colSample(level, this.bynode);
  }

  private colSample(features: Int32Array, colsample: number): Int32Array {
    if (colsample === 1) return features;
    if (features.length === 0) throw new Error('column sampling from an empty feature set');
    // static_cast<int>(colsample * features.size()) with colsample a float.
    const n = Math.max(1, Math.trunc(Math.fround(Math.fround(colsample) * features.length)));
    const copy = Int32Array.from(features);
    shuffleLikeLibstdcxx(copy, this.rng);
    const out = copy.slice(0, n);
    out.sort();
    return out;
  }
}
