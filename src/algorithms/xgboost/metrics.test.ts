import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finalizeMetric, formatMetricValue, metricPartials, parseMetric, pythonFloatRepr, rankMetric } from './metrics.ts';
import { transformRange } from './objectives.ts';

describe('metric names and parsing', () => {
  it('names metrics as XGBoost prints them', () => {
    assert.equal(parseMetric('error', 'binary:logistic').name, 'error');
    assert.equal(parseMetric('error@0.5', 'binary:logistic').name, 'error');
    assert.equal(parseMetric('error@0.7', 'binary:logistic').name, 'error@0.7');
    assert.equal(parseMetric('error@0.7', 'binary:logistic').param, Math.fround(0.7));
    assert.equal(parseMetric('tweedie-nloglik@1.5', 'reg:tweedie').name, 'tweedie-nloglik@1.5');
    assert.equal(parseMetric('auc', 'binary:logistic').maximize, true);
    assert.equal(parseMetric('aucpr', 'multi:softprob').maximize, true);
    assert.equal(parseMetric('rmse', 'reg:squarederror').maximize, false);
    assert.throws(() => parseMetric('merror', 'binary:logistic'), /multi-class/);
    assert.throws(() => parseMetric('logloss', 'multi:softmax'), /cannot be used/);
    assert.throws(() => parseMetric('tweedie-nloglik', 'reg:tweedie'), /tweedie-nloglik@rho/);
  });
});

describe('metric values', () => {
  const labels = Float32Array.from([0, 1, 1, 0, 1]);
  const margins = Float32Array.from([-1, 2, -0.5, 0.3, 0]);

  it('error and logloss as XGBoost computes them', () => {
    const pt = new Float32Array(5);
    transformRange(2, margins, 0, 5, 1, pt);
    const out = new Float64Array(2);
    metricPartials(6, Math.fround(0.5), 1, pt, labels, null, 0, 5, out, 0);
    // p > 0.5 for margins 2 and 0.3; p(0) = 0.5 is not > 0.5
    assert.equal(finalizeMetric(parseMetric('error', 'binary:logistic'), out[0]!, out[1]!), 3 / 5);
    metricPartials(5, 0, 1, pt, labels, null, 0, 5, out, 0);
    let expected = 0;
    for (let i = 0; i < 5; i++) {
      const p = 1 / (1 + Math.exp(-margins[i]!));
      expected -= labels[i] ? Math.log(p) : Math.log(1 - p);
    }
    assert.ok(Math.abs(out[0]! / out[1]! - expected / 5) < 1e-6);
  });

  it('weighted rmse', () => {
    const pt = Float32Array.from([1, 2, 4]);
    const y = Float32Array.from([1, 3, 2]);
    const w = Float32Array.from([1, 2, 1]);
    const out = new Float64Array(2);
    metricPartials(1, 0, 1, pt, y, w, 0, 3, out, 0);
    assert.ok(Math.abs(finalizeMetric(parseMetric('rmse', 'reg:squarederror'), out[0]!, out[1]!) - Math.sqrt((0 + 2 * 1 + 4) / 4)) < 1e-12);
  });

  it('auc groups tied scores like XGBoost', () => {
    const spec = parseMetric('auc', 'binary:logistic');
    // identity objective: scores are the margins themselves
    assert.equal(rankMetric(spec, 'binary:logitraw', 1, Float32Array.from([0.1, 0.4, 0.35, 0.8]), Float32Array.from([0, 0, 1, 1]), null), 0.75);
    assert.equal(rankMetric(spec, 'binary:logitraw', 1, Float32Array.from([0.5, 0.5, 0.5, 0.9]), Float32Array.from([0, 1, 0, 1]), null), 0.75);
    assert.ok(Number.isNaN(rankMetric(spec, 'binary:logitraw', 1, Float32Array.from([0.5, 0.9]), Float32Array.from([1, 1]), null)));
  });
});

describe('number formatting', () => {
  it('formats metric values like Python f"{x:.5f}"', () => {
    assert.equal(formatMetricValue(0.04886), '0.04886');
    assert.equal(formatMetricValue(0.0488599), '0.04886');
    assert.equal(formatMetricValue(0.015625), '0.01562'); // exact tie: round half to even
    assert.equal(formatMetricValue(0.046875), '0.04688');
    assert.equal(formatMetricValue(123.456789), '123.45679');
    assert.equal(formatMetricValue(0), '0.00000');
    assert.equal(formatMetricValue(NaN), 'nan');
    assert.equal(formatMetricValue(Infinity), 'inf');
  });

  it('writes best_score like Python repr()', () => {
    assert.equal(pythonFloatRepr(0.0675675675675675), '0.0675675675675675');
    assert.equal(pythonFloatRepr(1), '1.0');
    assert.equal(pythonFloatRepr(1e-5), '1e-05');
    assert.equal(pythonFloatRepr(1.5e16), '1.5e+16');
    assert.equal(pythonFloatRepr(0.0001), '0.0001');
  });
});
