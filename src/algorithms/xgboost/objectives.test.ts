import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { baseScoreToMargin, computeGradients, defaultMetric, LabelError, validateLabels, type ObjectiveConfig } from './objectives.ts';
import type { ObjectiveName } from './model.ts';

const cfg = (name: ObjectiveName, extra: Partial<ObjectiveConfig> = {}): ObjectiveConfig => ({
  name,
  numClass: 0,
  scalePosWeight: 1,
  maxDeltaStep: name === 'count:poisson' ? Math.fround(0.7) : 0,
  tweedieVariancePower: Math.fround(1.5),
  ...extra,
});

describe('objectives', () => {
  it('default metrics per objective (XGBoost 1.7)', () => {
    const expected: Record<ObjectiveName, string> = {
      'reg:squarederror': 'rmse',
      'reg:logistic': 'rmse',
      'binary:logistic': 'logloss',
      'binary:logitraw': 'logloss',
      'binary:hinge': 'error',
      'multi:softmax': 'mlogloss',
      'multi:softprob': 'mlogloss',
      'count:poisson': 'poisson-nloglik',
      'reg:tweedie': 'tweedie-nloglik@1.5',
      'reg:gamma': 'gamma-nloglik',
      'reg:absoluteerror': 'mae',
    };
    for (const [name, metric] of Object.entries(expected)) assert.equal(defaultMetric(cfg(name as ObjectiveName)), metric, name);
    assert.equal(defaultMetric(cfg('reg:tweedie', { tweedieVariancePower: Math.fround(1.3) })), 'tweedie-nloglik@1.3');
  });

  it('base_score to margin', () => {
    assert.ok(baseScoreToMargin('binary:logistic', 0.5) === 0); // -0, as XGBoost's -logf(1)
    assert.ok(Math.abs(baseScoreToMargin('binary:logistic', 0.25) - Math.log(1 / 3)) < 1e-6);
    assert.ok(Math.abs(baseScoreToMargin('count:poisson', 0.5) - Math.log(0.5)) < 1e-7);
    assert.equal(baseScoreToMargin('reg:squarederror', 0.5), 0.5);
    assert.equal(baseScoreToMargin('binary:logitraw', 0.5), 0.5);
    assert.throws(() => baseScoreToMargin('binary:logistic', 1), /base_score must be in \(0,1\)/);
  });

  it('gradients', () => {
    const out = new Float32Array(4);
    computeGradients(2, 1, Float32Array.from([0, 0]), Float32Array.from([1, 0]), null, out, 0, 2, 1, 0, 1.5);
    assert.deepEqual(Array.from(out), [-0.5, 0.25, 0.5, 0.25]);
    computeGradients(2, 1, Float32Array.from([0, 0]), Float32Array.from([1, 0]), null, out, 0, 2, 3, 0, 1.5);
    assert.deepEqual(Array.from(out), [-1.5, 0.75, 0.5, 0.25], 'scale_pos_weight scales positive rows');
    computeGradients(0, 1, Float32Array.from([2, -1]), Float32Array.from([0.5, 1]), Float32Array.from([2, 1]), out, 0, 2, 1, 0, 1.5);
    assert.deepEqual(Array.from(out), [3, 2, -2, 1]);
    const multi = new Float32Array(6);
    computeGradients(6, 3, Float32Array.from([0, 0, 0]), Float32Array.from([2]), null, multi, 0, 1, 1, 0, 1.5);
    const p = Math.fround(1 / 3);
    assert.ok(Math.abs(multi[0]! - p) < 1e-7 && Math.abs(multi[4]! - (p - 1)) < 1e-7);
    assert.ok(Math.abs(multi[1]! - 2 * p * (1 - p)) < 1e-7);
    const pois = new Float32Array(2);
    computeGradients(7, 1, Float32Array.from([0]), Float32Array.from([3]), null, pois, 0, 1, 1, Math.fround(0.7), 1.5);
    assert.equal(pois[0], -2);
    assert.ok(Math.abs(pois[1]! - Math.exp(0.7)) < 1e-6);
  });

  it('validates labels with XGBoost\'s messages', () => {
    const y = (...v: number[]) => Float32Array.from(v);
    assert.throws(() => validateLabels(cfg('binary:logistic'), y(0, 1, 1.5), undefined, 'train'), (e: Error) => e instanceof LabelError && /label must be in \[0,1\]/.test(e.message));
    assert.throws(() => validateLabels(cfg('multi:softmax', { numClass: 3 }), y(0, 3), undefined, 'train'), /label must be in \[0, num_class\)/);
    assert.throws(() => validateLabels(cfg('reg:gamma'), y(1, 0), undefined, 'validation'), /GammaRegression: label must be positive.*validation channel, row 2/);
    assert.throws(() => validateLabels(cfg('reg:squarederror'), y(1, NaN), undefined, 'train'), /NaN/);
    assert.throws(() => validateLabels(cfg('reg:squarederror'), y(1, 2), y(1, -1), 'train'), /Weights must be positive/);
    validateLabels(cfg('binary:hinge'), y(0, 1), undefined, 'train');
    validateLabels(cfg('reg:tweedie'), y(0, 5), undefined, 'train');
  });
});
