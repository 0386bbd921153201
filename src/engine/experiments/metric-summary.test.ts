import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeStats, metricSummary, statsOf, stdDev } from './metric-summary.ts';

const points = (values: number[], first = 0) => values.map((value, i) => ({ timestamp: first + i, step: first + i, value }));

test('statistics of one batch: count, mean, sample standard deviation, min, max, last', () => {
  const s = statsOf(points([2, 4, 4, 4, 5, 5, 7, 9]));
  assert.equal(s.count, 8);
  assert.equal(s.mean, 5);
  assert.equal(s.min, 2);
  assert.equal(s.max, 9);
  assert.equal(s.last, 9);
  assert.ok(Math.abs(stdDev(s) - Math.sqrt(32 / 7)) < 1e-12);
  assert.equal(stdDev(statsOf(points([3]))), 0);
});

test('merging batches gives the statistics of all points, whatever the split', () => {
  const all = [0.9, 0.61, 0.48, 0.3, 1.7, -2, 0.25];
  const whole = statsOf(points(all));
  for (let cut = 1; cut < all.length; cut++) {
    const merged = mergeStats(statsOf(points(all.slice(0, cut))), statsOf(points(all.slice(cut), cut)));
    assert.equal(merged.count, whole.count);
    assert.ok(Math.abs(merged.mean - whole.mean) < 1e-12);
    assert.ok(Math.abs(stdDev(merged) - stdDev(whole)) < 1e-12);
    assert.deepEqual([merged.min, merged.max, merged.last, merged.lastStep], [whole.min, whole.max, whole.last, whole.lastStep]);
  }
});

test('last is the value with the latest timestamp, not the latest arrival', () => {
  const late = statsOf([{ timestamp: 100, step: 5, value: 1 }]);
  const early = statsOf([{ timestamp: 50, step: 2, value: 7 }]);
  assert.equal(mergeStats(late, early).last, 1);
  assert.equal(mergeStats(early, late).last, 1);
  assert.equal(statsOf([{ timestamp: 1, step: null, value: 3 }, { timestamp: 1, step: null, value: 4 }]).last, 4);
});

test('the wire summary', () => {
  const s = statsOf([1, 3].map((value, i) => ({ timestamp: 1_700_000_000_000 + i, step: i, value })));
  assert.deepEqual(metricSummary('loss', s, 'arn:aws:sagemaker:us-east-1:000000000000:training-job/j'), {
    MetricName: 'loss',
    SourceArn: 'arn:aws:sagemaker:us-east-1:000000000000:training-job/j',
    TimeStamp: new Date(1_700_000_000_001),
    Max: 3,
    Min: 1,
    Last: 3,
    Count: 2,
    Avg: 2,
    StdDev: Math.SQRT2,
  });
});
