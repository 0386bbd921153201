import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSearchExpression, sortRecords, valuesAt, type SearchExpression } from './search-expression.ts';

const runs = [
  {
    TrialComponentName: 'a',
    CreationTime: new Date('2026-01-01T00:00:00Z'),
    Parameters: { batch_size: { NumberValue: 10 }, optimizer: { StringValue: 'adam' } },
    Metrics: { 'val.loss': { Min: 0.4, Last: 0.45 }, accuracy: { Max: 0.83 } },
    Parents: [{ TrialName: 't1', ExperimentName: 'e1' }, { TrialName: 't2', ExperimentName: 'e2' }],
    Tags: { team: 'vision' },
  },
  {
    TrialComponentName: 'b',
    CreationTime: new Date('2026-02-01T00:00:00Z'),
    Parameters: { batch_size: { NumberValue: 20 }, optimizer: { StringValue: 'sgd' } },
    Metrics: { 'val.loss': { Min: 0.5, Last: 0.5 }, accuracy: { Max: 0.8 } },
    Parents: [{ TrialName: 't1', ExperimentName: 'e2' }],
  },
];
const names = (e: SearchExpression) => runs.filter(compileSearchExpression(e)).map((r) => r.TrialComponentName);

test('dotted names reach parameters, metrics with dots in their names, tags and list members', () => {
  assert.deepEqual(valuesAt(runs[0], ['Metrics', 'val', 'loss', 'Min']), [0.4]);
  assert.deepEqual(valuesAt(runs[0], ['Parents', 'ExperimentName']), ['e1', 'e2']);
  assert.deepEqual(valuesAt(runs[1], ['Tags', 'team']), []);
});

test('operators compare numbers as numbers, times as times, text as text', () => {
  assert.deepEqual(names({ Filters: [{ Name: 'Parameters.batch_size', Operator: 'GreaterThan', Value: '9.5' }] }), ['a', 'b']);
  assert.deepEqual(names({ Filters: [{ Name: 'Parameters.batch_size', Operator: 'LessThanOrEqualTo', Value: '10' }] }), ['a']);
  assert.deepEqual(names({ Filters: [{ Name: 'Parameters.optimizer', Value: 'sgd' }] }), ['b']);
  assert.deepEqual(names({ Filters: [{ Name: 'Parameters.optimizer', Operator: 'NotEquals', Value: 'sgd' }] }), ['a']);
  assert.deepEqual(names({ Filters: [{ Name: 'Metrics.val.loss.Min', Operator: 'LessThan', Value: '0.45' }] }), ['a']);
  assert.deepEqual(names({ Filters: [{ Name: 'CreationTime', Operator: 'GreaterThan', Value: '2026-01-15T00:00:00Z' }] }), ['b']);
  assert.deepEqual(names({ Filters: [{ Name: 'CreationTime', Operator: 'LessThan', Value: String(Date.parse('2026-01-15T00:00:00Z') / 1000) }] }), ['a']);
  assert.deepEqual(names({ Filters: [{ Name: 'Tags.team', Operator: 'Exists' }] }), ['a']);
  assert.deepEqual(names({ Filters: [{ Name: 'Tags.team', Operator: 'NotExists' }] }), ['b']);
  assert.deepEqual(names({ Filters: [{ Name: 'Parameters.optimizer', Operator: 'Contains', Value: 'da' }] }), ['a']);
  assert.deepEqual(names({ Filters: [{ Name: 'Parameters.optimizer', Operator: 'In', Value: 'rmsprop, sgd' }] }), ['b']);
});

test('a list matches when any member does; NestedFilters need one member to match them all', () => {
  assert.deepEqual(names({ Filters: [{ Name: 'Parents.ExperimentName', Value: 'e2' }, { Name: 'Parents.TrialName', Value: 't1' }] }), ['a', 'b']);
  assert.deepEqual(
    names({ NestedFilters: [{ NestedPropertyName: 'Parents', Filters: [{ Name: 'Parents.ExperimentName', Value: 'e2' }, { Name: 'Parents.TrialName', Value: 't1' }] }] }),
    ['b'],
  );
});

test('sub-expressions combine with And and Or', () => {
  const sgd = { Filters: [{ Name: 'Parameters.optimizer', Value: 'sgd' }] };
  const team = { Filters: [{ Name: 'Tags.team', Value: 'vision' }] };
  assert.deepEqual(names({ SubExpressions: [sgd, team], Operator: 'Or' }), ['a', 'b']);
  assert.deepEqual(names({ SubExpressions: [sgd, team], Operator: 'And' }), []);
  assert.deepEqual(names({}), ['a', 'b']);
});

test('mistakes are ValidationException', () => {
  const invalid = (e: SearchExpression) => assert.throws(() => names(e), (err: Error) => err.name === 'ValidationException');
  invalid({ Filters: [{ Name: 'Parameters.batch_size', Operator: 'GreaterThan', Value: 'ten' }] });
  invalid({ Filters: [{ Name: 'CreationTime', Operator: 'GreaterThan', Value: 'yesterday' }] });
  invalid({ Filters: [{ Name: 'Parameters.optimizer', Operator: 'Equals' }] });
  invalid({ Filters: [{ Name: 'a', Operator: 'Contains', Value: 'x' }, { Name: 'b', Operator: 'Contains', Value: 'y' }] });
  invalid({ NestedFilters: [{ NestedPropertyName: 'Parents', Filters: [{ Name: 'TrialName', Value: 't1' }] }] });
});

test('sorting by a metric, missing values last in both orders, ties by name', () => {
  const records = [...runs, { TrialComponentName: 'c', Metrics: {} }, { TrialComponentName: 'd', Metrics: { accuracy: { Max: 0.8 } } }];
  const by = (order: 'Ascending' | 'Descending') => sortRecords(records, (r) => r, 'Metrics.accuracy.Max', order, (r) => r.TrialComponentName).map((r) => r.TrialComponentName);
  assert.deepEqual(by('Descending'), ['a', 'd', 'b', 'c']);
  assert.deepEqual(by('Ascending'), ['b', 'd', 'a', 'c']);
});
