import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openMetadataStore } from '../../store/metadata/database.ts';
import type { LogSink } from '../jobs/job-logs.ts';
import { compileFilterPattern } from './filter-pattern.ts';
import { LogStore } from './log-store.ts';

const account = { region: 'us-east-1', accountId: '000000000000' };

async function withStore(fn: (logs: LogStore) => Promise<void>, now?: () => number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-logs-'));
  const db = await openMetadataStore(dir);
  try {
    await fn(new LogStore(db, account, { now }));
  } finally {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the log store is the sink job runners write to', () => {
  const sink: LogSink = null as unknown as LogStore;
  assert.equal(sink, null);
});

test('concurrent appends share transactions, keep every event, and order by timestamp then arrival', async () => {
  await withStore(async (logs) => {
    await logs.ensureStream('/aws/sagemaker/TrainingJobs', 'job/algo-1');
    const t0 = Date.now();
    const writers = Array.from({ length: 20 }, (_, w) =>
      Promise.all(Array.from({ length: 50 }, (_, i) => logs.put('/aws/sagemaker/TrainingJobs', 'job/algo-1', [{ timestamp: t0 + i, message: `w${w} line ${i}` }]))),
    );
    const results = (await Promise.all(writers)).flat();
    assert.equal(results.length, 1000);
    assert.equal(new Set(results.map((r) => r.sequenceToken)).size, 1000, 'every append gets its own sequence token');

    const page = await logs.readStream('/aws/sagemaker/TrainingJobs', 'job/algo-1', { startFromHead: true });
    assert.equal(page.events.length, 1000);
    const stamps = page.events.map((e) => e.timestamp);
    assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b));
    const stream = await logs.getStream('/aws/sagemaker/TrainingJobs', 'job/algo-1');
    assert.equal(stream.firstEventTimestamp, t0);
    assert.equal(stream.lastEventTimestamp, t0 + 49);
    assert.ok(stream.storedBytes > 0);
  });
});

test('a large batch is written fast, in one call', async () => {
  await withStore(async (logs) => {
    await logs.ensureStream('g', 's');
    const t0 = Date.now();
    const events = Array.from({ length: 50_000 }, (_, i) => ({ timestamp: t0 + i, message: `[${i}] train-rmse:0.${i}` }));
    const started = performance.now();
    await logs.append('g', 's', events);
    const ms = performance.now() - started;
    assert.ok(ms < 10_000, `50,000 events took ${ms.toFixed(0)} ms`);
    const tail = await logs.readStream('g', 's', { limit: 3 });
    assert.deepEqual(tail.events.map((e) => e.message), ['[49997] train-rmse:0.49997', '[49998] train-rmse:0.49998', '[49999] train-rmse:0.49999']);
  });
});

test('a GetLogEvents page stops at 1 MB, and paging still reaches every event', async () => {
  await withStore(async (logs) => {
    await logs.ensureStream('g', 'big');
    const body = 'x'.repeat(100_000);
    await logs.append('g', 'big', Array.from({ length: 25 }, (_, i) => ({ timestamp: 1000 + i, message: `${i} ${body}` })));
    let token: string | undefined;
    const sizes: number[] = [];
    for (;;) {
      const page = await logs.readStream('g', 'big', { startFromHead: true, nextToken: token });
      if (page.nextForwardToken === token) break;
      sizes.push(page.events.length);
      token = page.nextForwardToken;
    }
    assert.deepEqual(sizes, [10, 10, 5]);
  });
});

test('appending to a missing stream rejects only that append', async () => {
  await withStore(async (logs) => {
    await logs.ensureStream('g', 'ok');
    const [good, missingStream, missingGroup] = await Promise.allSettled([
      logs.append('g', 'ok', [{ timestamp: 1, message: 'a' }]),
      logs.append('g', 'nope', [{ timestamp: 1, message: 'b' }]),
      logs.append('nope', 'nope', [{ timestamp: 1, message: 'c' }]),
    ]);
    assert.equal(good.status, 'fulfilled');
    assert.equal(missingStream.status === 'rejected' && (missingStream.reason as Error).message, 'The specified log stream does not exist.');
    assert.equal(missingGroup.status === 'rejected' && (missingGroup.reason as Error).message, 'The specified log group does not exist.');
  });
});

test('retention hides and purges expired events', async () => {
  let now = Date.UTC(2026, 0, 31);
  await withStore(
    async (logs) => {
      await logs.ensureStream('g', 's');
      await logs.append('g', 's', [
        { timestamp: now - 10 * 86_400_000, message: 'old' },
        { timestamp: now - 1000, message: 'new' },
      ]);
      await logs.setRetention('g', 7);
      const page = await logs.readStream('g', 's', { startFromHead: true });
      assert.deepEqual(page.events.map((e) => e.message), ['new']);
      assert.equal((await logs.getGroup('g')).storedBytes, 3);
      now += 8 * 86_400_000;
      assert.equal(await logs.purgeExpired(), 1);
      assert.equal((await logs.getGroup('g')).storedBytes, 0);
    },
    () => now,
  );
});

test('filter patterns: terms, phrases, alternatives, exclusions, regexes', () => {
  const m = (pattern: string, message: string) => compileFilterPattern(pattern)(message);
  assert.ok(m('', 'anything'));
  assert.ok(m('ERROR', '[ERROR] disk full'));
  assert.ok(!m('ERROR', 'error: case matters'));
  assert.ok(m('ERROR disk', '[ERROR] disk full'));
  assert.ok(!m('ERROR memory', '[ERROR] disk full'));
  assert.ok(m('"disk full"', '[ERROR] disk full'));
  assert.ok(!m('"full disk"', '[ERROR] disk full'));
  assert.ok(m('?WARN ?ERROR', '[ERROR] disk full'));
  assert.ok(!m('?WARN ?INFO', '[ERROR] disk full'));
  assert.ok(m('ERROR -retrying', '[ERROR] disk full'));
  assert.ok(!m('ERROR -disk', '[ERROR] disk full'));
  assert.ok(m('?"disk full" ?nothing', '[ERROR] disk full'));
  assert.ok(m('%train-rmse:[0-9.]+%', '[3]#011train-rmse:0.25'));
  assert.ok(m('"say \\"hi\\""', 'they say "hi"'));
  assert.throws(() => compileFilterPattern('{ $.level = "ERROR" }'), /JSON/);
  assert.throws(() => compileFilterPattern('"unterminated'), /unterminated/);
});
