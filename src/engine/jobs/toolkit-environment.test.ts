import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHyperparameter, pyJson, pyStr, splitHyperparameters, toolkitArguments } from './toolkit-environment.ts';

const hps = (raw: Record<string, string>) => Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, decodeHyperparameter(v)]));

test('hyperparameters decode as the toolkit decodes the SDK\'s JSON strings, falling back to the string', () => {
  assert.deepEqual(decodeHyperparameter('20'), { value: 20, float: false });
  assert.deepEqual(decodeHyperparameter('1.0'), { value: 1, float: true });
  assert.deepEqual(decodeHyperparameter('"train.py"'), { value: 'train.py', float: false });
  assert.deepEqual(decodeHyperparameter('plain text'), { value: 'plain text', float: false });
  const split = splitHyperparameters({ epochs: '3', sagemaker_program: '"train.py"', sagemaker_submit_directory: '"s3://b/s.tar.gz"', sagemaker_container_log_level: '10', sagemaker_distribution: '{"x": 1}' });
  assert.equal(split.program, 'train.py');
  assert.equal(split.submitDirectory, 's3://b/s.tar.gz');
  assert.equal(split.logLevel, 10);
  assert.deepEqual(Object.keys(split.user), ['epochs']);
  assert.deepEqual(Object.keys(split.framework), ['sagemaker_distribution']);
});

test('arguments follow mapping.to_cmd_args: sorted, str() values, dicts as k=v, one dash for one letter', () => {
  assert.deepEqual(toolkitArguments(hps({ lr: '0.01', b: 'true', epochs: '10', tags: '["a", 1]', opt: '{"z": 2, "a": "x"}', none: 'null', big: '1e-07' })), [
    '-b', 'True', '--big', '1e-07', '--epochs', '10', '--lr', '0.01', '--none', '', '--opt', 'a=x,z=2', '--tags', "['a', 1]",
  ]);
});

test('values are formatted as Python prints them', () => {
  assert.equal(pyStr(3), '3');
  assert.equal(pyStr(3, true), '3.0');
  assert.equal(pyStr(0.1), '0.1');
  assert.equal(pyStr(false), 'False');
  assert.equal(pyStr({ a: [true, null, "it's", 'say "it\'s"', 'tab\t'] }), `{'a': [True, None, "it's", 'say "it\\'s"', 'tab\\t']}`);
  assert.equal(pyJson({ b: 1, a: [1.5, 'é'] }), '{"a":[1.5,"\\u00e9"],"b":1}');
  assert.equal(pyJson(2, true), '2.0');
});
