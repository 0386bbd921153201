import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonPath } from './json-path.ts';

test('selects single values, unions, slices and wildcards as SageMaker filters do', () => {
  const row = ['id-7', '1', '2', '3', '0.25'];
  assert.deepEqual(parseJsonPath('$[1:]').select(row), ['1', '2', '3', '0.25']);
  assert.deepEqual(parseJsonPath('$[0,-1]').select(row), ['id-7', '0.25']);
  assert.deepEqual(parseJsonPath('$[:-1]').select(row), ['id-7', '1', '2', '3']);
  assert.equal(parseJsonPath('$[0]').select(row), 'id-7');
  const record = { id: 3, features: [1, 2], SageMakerOutput: { score: 0.5 } };
  assert.deepEqual(parseJsonPath('$.features').select(record), [1, 2]);
  assert.deepEqual(parseJsonPath("$['id','SageMakerOutput']").select(record), [3, { score: 0.5 }]);
  assert.equal(parseJsonPath('$.SageMakerOutput.score').select(record), 0.5);
  assert.deepEqual(parseJsonPath('$.features[*]').select(record), [1, 2]);
  assert.deepEqual(parseJsonPath('$').select(record), record);
});

test('refuses what it does not support, and says so', () => {
  assert.throws(() => parseJsonPath('features'), /starts with '\$'/);
  assert.throws(() => parseJsonPath('$..id'), /Recursive descent/);
  assert.throws(() => parseJsonPath('$[?(@.x)]'), /Unsupported JSONPath subscript/);
  assert.throws(() => parseJsonPath('$[1'), /Unclosed/);
  assert.throws(() => parseJsonPath('$.missing').select({ id: 1 }), /selects nothing/);
});
