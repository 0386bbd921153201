import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Logger } from '../../server/logger.ts';
import { JobRuns, type JobRun } from './job-runs.ts';

interface Run extends JobRun {
  halted: number;
  release?: () => void;
}

const newRun = (): Run => ({ stopRequested: false, done: Promise.resolve(), halted: 0 });

test('job runs: a stop marks and halts the run, close halts every run and waits for them, an escaping error is contained', async () => {
  const runs = new JobRuns<Run>('test job', new Logger('silent'));
  const ended: string[] = [];
  const waitForRelease = (name: string) => (run: Run) => new Promise<void>((resolve) => (run.release = resolve)).then(() => void ended.push(name));
  const halt = (run: Run) => {
    run.halted++;
    run.release?.();
  };
  const a = newRun();
  runs.start('a', a, waitForRelease('a'), () => ended.push('a cleaned up'));
  runs.stop('a', halt);
  assert.equal(a.stopRequested, true);
  await runs.settled('a');
  assert.deepEqual(ended, ['a', 'a cleaned up']);
  runs.stop('a', halt);
  assert.equal(a.halted, 1, 'an ended run is forgotten');

  runs.start('broken', newRun(), async () => {
    throw new Error('boom');
  });
  await runs.settled('broken');

  const b = newRun();
  const c = newRun();
  runs.start('b', b, waitForRelease('b'));
  runs.start('c', c, waitForRelease('c'));
  assert.equal(runs.closing, false);
  await runs.close(halt);
  assert.equal(runs.closing, true);
  assert.deepEqual([b.halted, c.halted, b.stopRequested], [1, 1, false]);
  assert.deepEqual(ended.slice(2).sort(), ['b', 'c']);
});
