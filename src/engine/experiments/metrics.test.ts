import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openMetadataStore, type MetadataDb } from '../../store/metadata/database.ts';
import { MAX_METRICS_PER_COMPONENT, MetricStore } from './metrics.ts';

let dir: string;
let db: MetadataDb;
before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-metrics-'));
  db = await openMetadataStore(dir);
});
after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

const at = (ms: number) => new Date(1_800_000_000_000 + ms);

test('concurrent batches are committed together and summarised as one series', async () => {
  const store = new MetricStore(db);
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.put('run', [{ MetricName: 'loss', Timestamp: at(i), Step: i, Value: i }])));
  assert.ok(results.every((r) => r.errors.length === 0));
  const [summary] = (await store.summaries(['run'])).get('run')!;
  assert.equal(summary!.Count, 50);
  assert.equal(summary!.Avg, 24.5);
  assert.equal(summary!.Last, 49);
  const [series] = await store.series('run', 'loss');
  assert.deepEqual(series!.Points.map((p) => p.Step), Array.from({ length: 50 }, (_, i) => i));
  // A new store (a restarted server) merges onto what is stored.
  await new MetricStore(db).put('run', [{ MetricName: 'loss', Timestamp: at(100), Value: 100 }]);
  assert.equal((await store.summaries(['run'])).get('run')![0]!.Count, 51);
});

test('bad points and points past the limits are reported by index; the rest are kept', async () => {
  const store = new MetricStore(db);
  const names = Array.from({ length: MAX_METRICS_PER_COMPONENT }, (_, i) => `m${i}`);
  for (let i = 0; i < names.length; i += 10) {
    const { errors } = await store.put('wide', names.slice(i, i + 10).map((n) => ({ MetricName: n, Timestamp: at(0), Value: 1 })));
    assert.deepEqual(errors, []);
  }
  const { errors, summaries } = await store.put('wide', [
    { MetricName: 'm0', Timestamp: at(1), Value: 2 },
    { MetricName: 'one-too-many', Timestamp: at(1), Value: 2 },
    { MetricName: 'm1', Timestamp: at(1), Value: Number.NaN },
    { MetricName: 'm2', Timestamp: at(1), Step: 1.5, Value: 1 },
  ]);
  assert.deepEqual(errors, [
    { Code: 'METRIC_LIMIT_EXCEEDED', MetricIndex: 1 },
    { Code: 'VALIDATION_ERROR', MetricIndex: 2 },
    { Code: 'VALIDATION_ERROR', MetricIndex: 3 },
  ]);
  assert.deepEqual(summaries.map((s) => [s.MetricName, s.Count, s.Last]), [['m0', 2, 2]]);
});
