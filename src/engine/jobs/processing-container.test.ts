import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JobFailure } from './failure.ts';
import { hostPath, processingCommand } from './processing-container.ts';
import { pythonInterpreter } from './runtimes.ts';

test('container paths map into the job folder and never out of it', () => {
  assert.equal(hostPath('/data/jobs/p', '/opt/ml/processing/input/code'), '/data/jobs/p/opt/ml/processing/input/code');
  assert.equal(hostPath('/data/jobs/p', '/opt/ml/processing/../processing/x/'), '/data/jobs/p/opt/ml/processing/x');
  assert.throws(() => hostPath('/data/jobs/p', '/opt/ml/../../etc/passwd'), JobFailure);
  assert.throws(() => hostPath('/data/jobs/p', '/etc/passwd'), JobFailure);
});

test('the entry point runs on the machine\'s runtime with container paths translated', () => {
  const py = processingCommand('/w', 'sklearn', ['python3', '/opt/ml/processing/input/code/run.py'], ['--in=/opt/ml/processing/input/data', '--ratio', '0.2', '/tmp/x']);
  assert.deepEqual(py, { command: pythonInterpreter(), args: ['/w/opt/ml/processing/input/code/run.py', '--in=/w/opt/ml/processing/input/data', '--ratio', '0.2', '/tmp/x'], python: true });
  assert.equal(processingCommand('/w', 'sklearn', ['/opt/conda/bin/python3.10', '-m', 'x']).command, pythonInterpreter());
  assert.deepEqual(processingCommand('/w', 'node', ['node', '/opt/ml/processing/input/code/run.mjs']), { command: process.execPath, args: ['/w/opt/ml/processing/input/code/run.mjs'], python: false });
  assert.deepEqual(processingCommand('/w', 'python', ['bash', '-c', 'ls /opt/ml/processing']), { command: 'bash', args: ['-c', 'ls /w/opt/ml/processing'], python: false });
  assert.throws(() => processingCommand('/w', 'sklearn', undefined), /ContainerEntrypoint is required/);
  assert.throws(() => processingCommand('/w', 'node', ['python3', 'x.py']), /kiln\/node image has no Python/);
});
