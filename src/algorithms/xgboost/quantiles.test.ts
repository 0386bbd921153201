import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { binRows, buildBinTable, sketchFeatureCuts } from './quantiles.ts';

function sketch(values: number[][], maxBin = 256, weights: Float32Array | null = null) {
  const n = values.length;
  const F = values[0]!.length;
  const X = Float32Array.from(values.flat());
  const colCount = new Int32Array(F);
  for (let f = 0; f < F; f++) for (let r = 0; r < n; r++) if (!Number.isNaN(X[r * F + f]!)) colCount[f]!++;
  const stride = maxBin + 1;
  const cuts = new Float32Array(F * stride);
  const counts = new Int32Array(F);
  const mins = new Float32Array(F);
  sketchFeatureCuts(X, n, F, weights, 0, F, colCount, maxBin, cuts, counts, mins, stride, new Float64Array(3 * F));
  return Array.from({ length: F }, (_, f) => ({ cuts: Array.from(cuts.subarray(f * stride, f * stride + counts[f]!)), min: mins[f]! }));
}

describe('hist cut points', () => {
  it('few distinct values: every value after the smallest, then a bound above the maximum', () => {
    const rows = Array.from({ length: 500 }, (_, i) => [(i * 7) % 10, i % 2]);
    const [a, b] = sketch(rows);
    const top = Math.fround(9 + Math.fround(9 + Math.fround(1e-5)));
    assert.deepEqual(a!.cuts, [1, 2, 3, 4, 5, 6, 7, 8, 9, top]);
    assert.equal(a!.min, Math.fround(Math.fround(0 - 0) - Math.fround(1e-5)));
    assert.deepEqual(b!.cuts, [1, Math.fround(1 + Math.fround(1 + Math.fround(1e-5)))]);
  });

  it('many values: at most max_bin increasing cuts covering the range', () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => [Math.fround(Math.sin(i) * 1000 + i / 7)]);
    for (const maxBin of [16, 256]) {
      const [c] = sketch(rows, maxBin);
      assert.ok(c!.cuts.length <= maxBin && c!.cuts.length >= maxBin - 2, `${c!.cuts.length} cuts for max_bin ${maxBin}`);
      for (let i = 1; i < c!.cuts.length; i++) assert.ok(c!.cuts[i]! > c!.cuts[i - 1]!);
      const max = Math.max(...rows.map((r) => r[0]!));
      const min = Math.min(...rows.map((r) => r[0]!));
      assert.ok(c!.cuts.at(-1)! > max && c!.min < min);
    }
  });

  it('missing and constant columns', () => {
    const [m, k] = sketch(Array.from({ length: 10 }, () => [NaN, 3]));
    assert.equal(m!.cuts.length, 1);
    assert.equal(m!.min, Math.fround(1e-5));
    assert.deepEqual(k!.cuts, [Math.fround(3 + Math.fround(3 + Math.fround(1e-5)))]);
  });
});

describe('binning', () => {
  it('lookup tables agree with binary search (upper_bound, clamped; NaN → missing bin)', () => {
    const F = 3;
    const n = 5000;
    const X = new Float32Array(n * F);
    for (let i = 0; i < X.length; i++) X[i] = i % 97 === 0 ? NaN : i % 89 === 0 ? -0 : Math.fround(Math.sin(i * 1.3) * (1 + (i % 3) * 100));
    const rows = Array.from({ length: n }, (_, r) => Array.from(X.subarray(r * F, r * F + F)));
    const cutsPer = sketch(rows, 32);
    const cuts = Float32Array.from(cutsPer.flatMap((c) => c.cuts));
    const cutPtr = new Int32Array(F + 1);
    cutsPer.forEach((c, f) => (cutPtr[f + 1] = cutPtr[f]! + c.cuts.length));
    const plain = new Uint8Array(n * F);
    const fast = new Uint8Array(n * F);
    binRows(X, F, 0, n, cuts, cutPtr, null, plain);
    const tables = new Uint16Array(F * 131072);
    for (let f = 0; f < F; f++) buildBinTable(cuts, cutPtr[f]!, cutPtr[f + 1]!, tables, f * 131072);
    binRows(X, F, 0, n, cuts, cutPtr, tables, fast);
    assert.deepEqual(fast, plain);
    for (let r = 0; r < n; r++) {
      for (let f = 0; f < F; f++) {
        const x = X[r * F + f]!;
        const nb = cutPtr[f + 1]! - cutPtr[f]!;
        const b = plain[r * F + f]!;
        if (Number.isNaN(x)) assert.equal(b, nb);
        else {
          let expected = 0;
          while (expected < nb && cuts[cutPtr[f]! + expected]! <= x) expected++;
          assert.equal(b, Math.min(expected, nb - 1));
        }
      }
    }
  });
});
