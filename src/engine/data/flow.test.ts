import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ancestorsOf, validateFlow } from './flow.ts';
import { operatorCatalog } from './operators.ts';

const src = { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://b/k.csv' } };
const valid = (nodes: unknown[]) => validateFlow({ version: 1, nodes }, operatorCatalog);

test('a flow is a DAG of known operators whose inputs exist', () => {
  const flow = valid([src, { id: 'a', type: 'transform', operator: 'manage_rows', inputs: ['src'], parameters: { operator: 'drop_duplicates' } }]);
  assert.equal(flow.nodes.length, 2);
  assert.throws(() => validateFlow({ version: 2, nodes: [] }, operatorCatalog), /unsupported flow version/);
  assert.throws(() => valid([src, src]), /duplicate node id 'src'/);
  assert.throws(() => valid([{ ...src, operator: 'excel' }]), /unknown source operator 'excel'/);
  assert.throws(() => valid([src, { id: 'a', type: 'transform', operator: 'manage_rows', inputs: ['ghost'] }]), /input 'ghost' is not a node/);
  assert.throws(() => valid([src, { id: 'j', type: 'transform', operator: 'join', inputs: ['src'] }]), /join takes 2 input/);
  assert.throws(() => valid([
    src,
    { id: 'a', type: 'transform', operator: 'manage_rows', inputs: ['b'] },
    { id: 'b', type: 'transform', operator: 'manage_rows', inputs: ['a'] },
  ]), /cycle: a → b → a/);
});

test("a split's outputs are addressed by name and analyses have no output", () => {
  const split = { id: 's', type: 'transform', operator: 'split', inputs: ['src'], parameters: { splits: [{ name: 'train', fraction: 0.8 }, { name: 'test', fraction: 0.2 }] } };
  valid([src, split, { id: 'o', type: 'destination', operator: 's3', inputs: ['s.train'] }]);
  assert.throws(() => valid([src, split, { id: 'o', type: 'destination', operator: 's3', inputs: ['s'] }]), /has named outputs; use one of s.train, s.test/);
  assert.throws(() => valid([src, split, { id: 'o', type: 'destination', operator: 's3', inputs: ['s.holdout'] }]), /has no output 'holdout'/);
  assert.throws(() => valid([src, { ...split, parameters: { splits: [{ name: 'a', fraction: 0.5 }, { name: 'b', fraction: 0.4 }] } }]), /add up to 0.9/);
  assert.throws(() => valid([src, { id: 'h', type: 'analysis', operator: 'histogram', inputs: ['src'] }, { id: 'x', type: 'transform', operator: 'manage_rows', inputs: ['h'] }]), /is an analysis and has no output table/);
});

test('ancestors come in execution order', () => {
  const flow = valid([
    { id: 'b', type: 'transform', operator: 'manage_rows', inputs: ['a'] },
    { id: 'a', type: 'transform', operator: 'manage_rows', inputs: ['src'] },
    src,
    { id: 'other', type: 'transform', operator: 'manage_rows', inputs: ['src'] },
  ]);
  assert.deepEqual(ancestorsOf(flow.nodes, 'b').map((n) => n.id), ['src', 'a', 'b']);
});
