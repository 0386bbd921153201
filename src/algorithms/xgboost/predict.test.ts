import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BoosterModel, DenseMatrix, Tree } from './model.ts';
import { loadBinaryModel, loadModel } from './model-binary.ts';
import { loadJsonModel } from './model-json.ts';
import { baseMargin, predict, sigmoid } from './predict.ts';
import {
  type ReferenceCase,
  maxAbsDiff,
  readF32,
  skipWithoutXgboost,
  tempDir,
  trainReferenceModels,
} from './python-reference.ts';

/** Largest difference relative to max(1, |expected|), so large outputs (exp) compare in float32 terms. */
function maxRelDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let m = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

const skip = skipWithoutXgboost();

describe('predict agrees with real XGBoost', { skip }, () => {
  let dir = '';
  let cleanup = () => {};
  let manifest: Record<string, ReferenceCase> = {};
  const matrices = new Map<string, DenseMatrix>();

  before(() => {
    ({ dir, cleanup } = tempDir('xgb-predict'));
    manifest = trainReferenceModels(dir);
  });
  after(() => cleanup());

  function features(c: ReferenceCase): DenseMatrix {
    let m = matrices.get(c.x);
    if (!m) {
      m = { rows: c.rows, cols: c.cols, values: readF32(path.join(dir, c.x)) };
      matrices.set(c.x, m);
    }
    return m;
  }

  const cases = [
    'binary_logistic',
    'binary_logistic_nan',
    'multi_softprob',
    'multi_softmax',
    'reg_squarederror',
    'count_poisson',
    'reg_logistic',
    'binary_logitraw',
    'binary_hinge',
    'reg_gamma',
    'reg_tweedie',
    'reg_absoluteerror',
    'base_score',
    'pruned',
    'hist',
    'forest',
    'dart',
  ];
  for (const name of cases) {
    test(`${name}: JSON, legacy binary and UBJSON models predict as XGBoost`, () => {
      const c = manifest[name]!;
      assert.ok(c, `reference case ${name} was trained`);
      const x = features(c);
      const expected = readF32(path.join(dir, `${name}.pred`));
      const expectedMargin = readF32(path.join(dir, `${name}.margin`));
      for (const ext of ['json', 'model', 'ubj']) {
        const model = loadModel(readFileSync(path.join(dir, `${name}.${ext}`)));
        const p = predict(model, x);
        assert.equal(p.length, expected.length, `${name}.${ext}: output length`);
        assert.ok(maxRelDiff(p, expected) <= 1e-6, `${name}.${ext}: predictions differ by ${maxRelDiff(p, expected)}`);
        const margin = predict(model, x, { outputMargin: true });
        assert.ok(
          maxRelDiff(margin, expectedMargin) <= 1e-6,
          `${name}.${ext}: margins differ by ${maxRelDiff(margin, expectedMargin)}`,
        );
        if (name !== 'dart') {
          const expectedRange = readF32(path.join(dir, `${name}.range`));
          const ranged = predict(model, x, { iterationRange: [1, 3] });
          assert.ok(maxRelDiff(ranged, expectedRange) <= 1e-6, `${name}.${ext}: iteration_range (1, 3) differs`);
        }
      }
    });
  }

  test('output shapes follow the objective', () => {
    const x = features(manifest['multi_softprob']!);
    const prob = predict(loadJsonModel(readFileSync(path.join(dir, 'multi_softprob.json'), 'utf8')), x);
    assert.equal(prob.length, x.rows * 3);
    for (let r = 0; r < x.rows; r++) {
      const s = prob[r * 3]! + prob[r * 3 + 1]! + prob[r * 3 + 2]!;
      assert.ok(Math.abs(s - 1) < 1e-5);
    }
    const cls = predict(loadBinaryModel(readFileSync(path.join(dir, 'multi_softmax.model'))), x);
    assert.equal(cls.length, x.rows);
    assert.ok(cls.every((v) => v === 0 || v === 1 || v === 2));
    const hinge = predict(loadModel(readFileSync(path.join(dir, 'binary_hinge.json'))), x);
    assert.ok(hinge.every((v) => v === 0 || v === 1));
  });

  test('data narrower than the model reads the absent features as missing; wider data is refused', () => {
    const c = manifest['binary_logistic_nan']!;
    const x = features(c);
    const model = loadModel(readFileSync(path.join(dir, 'binary_logistic_nan.json')));
    const keep = 40;
    const narrow = new Float32Array(x.rows * keep);
    const padded = new Float32Array(x.rows * x.cols).fill(NaN);
    for (let r = 0; r < x.rows; r++) {
      for (let k = 0; k < keep; k++) {
        narrow[r * keep + k] = x.values[r * x.cols + k]!;
        padded[r * x.cols + k] = x.values[r * x.cols + k]!;
      }
    }
    assert.deepEqual(
      predict(model, { rows: x.rows, cols: keep, values: narrow }),
      predict(model, { rows: x.rows, cols: x.cols, values: padded }),
    );
    assert.throws(
      () => predict(model, { rows: 1, cols: x.cols + 1, values: new Float32Array(x.cols + 1) }),
      /70 columns but the model was trained on 69 features/,
    );
    assert.throws(() => predict(model, x, { iterationRange: [0, 21] }), /exceeds the model's 20 boosting rounds/);
  });
});

function stump(feature: number, split: number, leftValue: number, rightValue: number, defaultLeft: boolean): Tree {
  return {
    leftChildren: Int32Array.from([1, -1, -1]),
    rightChildren: Int32Array.from([2, -1, -1]),
    parents: Int32Array.from([2147483647, 0, 0]),
    splitIndices: Int32Array.from([feature, 0, 0]),
    splitConditions: Float32Array.from([split, leftValue, rightValue]),
    defaultLeft: Uint8Array.from([defaultLeft ? 1 : 0, 0, 0]),
    baseWeights: new Float32Array(3),
    lossChanges: new Float32Array(3),
    sumHessian: new Float32Array(3),
  };
}

describe('predict on hand-built models', () => {
  const model: BoosterModel = {
    objective: 'reg:squarederror',
    objectiveParams: {},
    numFeature: 2,
    numClass: 0,
    baseScore: 0.5,
    trees: [stump(0, 1.5, -1, 1, true), stump(1, 0, 10, 20, false)],
    treeInfo: [0, 0],
    attributes: {},
  };

  test('x < split goes left, x >= split right, NaN the default way', () => {
    const x: DenseMatrix = {
      rows: 4,
      cols: 2,
      values: Float32Array.from([1, -1, 1.5, 0, NaN, NaN, 2, NaN]),
    };
    assert.deepEqual(Array.from(predict(model, x)), [0.5 - 1 + 10, 0.5 + 1 + 20, 0.5 - 1 + 20, 0.5 + 1 + 20]);
  });

  test('children need not be adjacent (right !== left + 1)', () => {
    const t: Tree = {
      leftChildren: Int32Array.from([2, -1, -1]),
      rightChildren: Int32Array.from([1, -1, -1]),
      parents: Int32Array.from([2147483647, 0, 0]),
      splitIndices: Int32Array.from([0, 0, 0]),
      splitConditions: Float32Array.from([0, 7, 3]),
      defaultLeft: Uint8Array.from([0, 0, 0]),
      baseWeights: new Float32Array(3),
      lossChanges: new Float32Array(3),
      sumHessian: new Float32Array(3),
    };
    const m = { ...model, baseScore: 0, trees: [t], treeInfo: [0] };
    assert.deepEqual(Array.from(predict(m, { rows: 2, cols: 2, values: Float32Array.from([-1, 0, 1, 0]) })), [3, 7]);
  });

  test('base_score goes to margin space as XGBoost: logit for logistic, log for count/gamma/tweedie', () => {
    assert.ok(baseMargin('binary:logistic', 0.5) === 0);
    assert.equal(baseMargin('reg:logistic', 0.2), Math.fround(-Math.log(Math.fround(1 / Math.fround(0.2)) - 1)));
    assert.equal(baseMargin('binary:logitraw', 0.2), Math.fround(0.2));
    assert.equal(baseMargin('count:poisson', 2), Math.fround(Math.log(2)));
    assert.equal(baseMargin('reg:squarederror', 3.25), 3.25);
    assert.equal(sigmoid(0), 0.5);
    // XGBoost clamps the exponent at 88.7f, so very negative margins give a tiny positive float32
    const f = Math.fround;
    assert.equal(sigmoid(-1000), f(1 / f(f(Math.exp(f(88.7))) + 1)));
    assert.ok(sigmoid(-1000) > 0);
    const m = { ...model, objective: 'binary:logistic' as const, baseScore: 0.5 };
    const margin = predict(m, { rows: 1, cols: 2, values: Float32Array.from([2, 1]) }, { outputMargin: true });
    assert.deepEqual(Array.from(margin), [21]);
  });
});
