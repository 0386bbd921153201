import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ColumnSampler, lcgSkip, Mt19937, shuffleLikeLibstdcxx } from './random.ts';

// Expected values were produced by a C++ program built with GCC 12 (Debian bookworm, the
// compiler of Debian's libxgboost): std::mt19937, std::shuffle, and the row-sampling
// engine std::linear_congruential_engine<uint64_t, 16807, 0, 1 << 63> with
// std::bernoulli_distribution(0.8f).
describe('random streams', () => {
  it('mt19937 matches std::mt19937', () => {
    const g = new Mt19937(0);
    assert.deepEqual([g.next(), g.next(), g.next()], [2357136044, 2546248239, 3071714933]);
    const d = new Mt19937(5489);
    assert.equal(d.next(), 3499211612);
  });

  it('shuffle matches libstdc++ std::shuffle', () => {
    const rng = new Mt19937(12345);
    const expected = [
      [0],
      [0, 1],
      [0, 4, 2, 1, 3],
      [23, 6, 25, 7, 17, 0, 27, 8, 14, 20, 28, 3, 13, 10, 15, 22, 16, 9, 18, 12, 26, 1, 21, 24, 4, 29, 2, 19, 5, 11],
      [13, 26, 0, 6, 15, 2, 21, 19, 1, 30, 4, 16, 5, 22, 8, 12, 28, 27, 14, 23, 20, 10, 11, 7, 29, 18, 17, 25, 3, 9, 24],
    ];
    for (const e of expected) {
      const v = Array.from({ length: e.length }, (_, i) => i);
      shuffleLikeLibstdcxx(v, rng);
      assert.deepEqual(v, e);
    }
  });

  it('row sampling draws match XGBoost\'s RandomReplace engine', () => {
    let s = lcgSkip(3499211612n, 0);
    let bits = '';
    for (let i = 0; i < 40; i++) {
      s = (s * 16807n) & ((1n << 63n) - 1n);
      bits += Number(s - 1n) / 2 ** 63 < Math.fround(0.8) ? '1' : '0';
    }
    assert.equal(bits, '1111001101111011111000101111111001101011');
    // skipping ahead equals stepping
    let t = lcgSkip(77n, 0);
    for (let i = 0; i < 1000; i++) t = (t * 16807n) & ((1n << 63n) - 1n);
    assert.equal(lcgSkip(77n, 1000), t);
  });

  it('column sampler keeps sorted subsets of the right size', () => {
    const cs = new ColumnSampler(42);
    cs.initTree(30, 0.5, 0.5, 0.5);
    const tree = cs.featureSet(0);
    const again = cs.featureSet(0);
    assert.ok(tree.length >= 1 && tree.length <= 7);
    for (const set of [tree, again]) for (let i = 1; i < set.length; i++) assert.ok(set[i]! > set[i - 1]!);
    const all = new ColumnSampler(1);
    all.initTree(5, 1, 1, 1);
    assert.deepEqual(Array.from(all.featureSet(3)), [0, 1, 2, 3, 4]);
  });
});
