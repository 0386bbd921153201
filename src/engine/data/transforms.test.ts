import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FsObjectStore } from '../../store/objects/fs-store.ts';
import { validateFlow, type FlowNode } from './flow.ts';
import { operatorCatalog } from './operators.ts';
import { FlowSession } from './session.ts';
import { writeOutputs } from './flow-outputs.ts';

const CSV = `id,city,score,size,label
1,Oslo,10.5,3,yes
2,Rome,,4,no
3,Oslo,12.0,,yes
4,Lima,9.0,5,no
5,Rome,100.0,4,no
6,Oslo,11.0,3,yes
`;

let dir: string;
let objects: FsObjectStore;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-transforms-'));
  objects = new FsObjectStore(path.join(dir, 'objects'));
  await objects.createBucket('tests', 'us-east-1');
  await objects.putObject({ bucket: 'tests', key: 'data.csv', body: Readable.from([CSV]) });
  await objects.putObject({ bucket: 'tests', key: 'more.jsonl', body: Readable.from(['{"id": 7, "city": "Kyiv", "score": 8.5}\n{"id": 8, "city": "Oslo", "score": 13}\n']) });
});
after(async () => {
  await objects.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `nodes` after a CSV source `src` and returns the rows of `ref` (default: the last node). */
async function rowsAfter(nodes: Omit<FlowNode, 'type'>[], ref?: string) {
  const flow = validateFlow({ version: 1, nodes: [
    { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://tests/data.csv' } },
    { id: 'more', type: 'source', operator: 'jsonl', parameters: { uri: 's3://tests/more.jsonl' } },
    ...nodes.map((n) => ({ type: 'transform', ...n })),
  ] }, operatorCatalog);
  const session = await FlowSession.open(flow, { objects, scratchDir: path.join(dir, `s-${Math.random()}`) });
  try {
    return (await session.preview(ref ?? nodes[nodes.length - 1]!.id, 100)).rows;
  } finally {
    await session.close();
  }
}
const t = (id: string, operator: string, parameters: Record<string, unknown>, inputs = ['src']) => ({ id, operator, inputs, parameters });

test('manage columns: rename, move, duplicate, cast', async () => {
  const [row] = await rowsAfter([
    t('r', 'manage_columns', { operator: 'rename', renames: { city: 'town' } }),
    t('m', 'manage_columns', { operator: 'move', columns: ['label'], position: 'start' }, ['r']),
    t('d', 'manage_columns', { operator: 'duplicate', column: 'score', newName: 'score2' }, ['m']),
    t('c', 'manage_columns', { operator: 'cast', types: { id: 'string' } }, ['d']),
  ]);
  assert.deepEqual(Object.keys(row!), ['label', 'id', 'town', 'score', 'size', 'score2']);
  assert.equal(row!.id, '1');
});

test('manage rows: sort, filter, shuffle keeps every row', async () => {
  assert.deepEqual((await rowsAfter([t('s', 'manage_rows', { operator: 'sort', columns: ['score'], order: 'descending' })])).map((r) => r.id), [5, 3, 6, 1, 4, 2]);
  assert.deepEqual((await rowsAfter([t('f', 'manage_rows', { operator: 'filter', expression: "city = 'Oslo' AND score > 10.6" })])).map((r) => r.id), [3, 6]);
  const shuffled = (await rowsAfter([t('x', 'manage_rows', { operator: 'shuffle', seed: 3 })])).map((r) => r.id);
  assert.deepEqual([...shuffled].sort(), [1, 2, 3, 4, 5, 6]);
});

test('handle missing: drop, fill, impute mean / median / mode into an output column', async () => {
  assert.equal((await rowsAfter([t('d', 'handle_missing', { operator: 'drop' })])).length, 4);
  assert.equal((await rowsAfter([t('f', 'handle_missing', { operator: 'fill', columns: ['size'], value: 0 })]))[2]!.size, 0);
  assert.equal((await rowsAfter([t('i', 'handle_missing', { operator: 'impute', columns: ['score'], strategy: 'mean' })]))[1]!.score, 28.5);
  assert.equal((await rowsAfter([t('i', 'handle_missing', { operator: 'impute', columns: ['score'], strategy: 'median' })]))[1]!.score, 11);
  const mode = await rowsAfter([t('i', 'handle_missing', { operator: 'impute', columns: ['size'], strategy: 'mode', outputColumn: 'size_filled' })]);
  assert.equal(mode[2]!.size, null);
  assert.equal(mode[2]!.size_filled, 3);
});

test('encode categorical: one-hot columns, vector, drop last, ordinal by frequency', async () => {
  const [row] = await rowsAfter([t('o', 'encode_categorical', { operator: 'one_hot', columns: ['city'] })]);
  assert.deepEqual([row!.city_Lima, row!.city_Oslo, row!.city_Rome], [0, 1, 0]);
  assert.equal('city' in row!, false);
  const [vec] = await rowsAfter([t('v', 'encode_categorical', { operator: 'one_hot', columns: ['city'], outputStyle: 'vector', dropLast: true })]);
  assert.deepEqual(vec!.city, [0, 1]);
  const ordinal = await rowsAfter([t('n', 'encode_categorical', { operator: 'ordinal', columns: ['city'] })]);
  assert.deepEqual(ordinal.map((r) => r.city), [0, 1, 0, 2, 1, 0]);
  await assert.rejects(rowsAfter([t('o', 'encode_categorical', { operator: 'one_hot', columns: ['city'], maxCategories: 2 })]), /more than 2 categories/);
  const both = await rowsAfter([t('o', 'encode_categorical', { operator: 'one_hot', columns: ['size', 'city'] })]);
  assert.deepEqual(Object.keys(both[0]!), ['id', 'city_Lima', 'city_Oslo', 'city_Rome', 'score', 'size_3', 'size_4', 'size_5', 'label']);
  assert.deepEqual(both.map((r) => [r.size_3, r.size_4, r.size_5]), [[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]);
  await assert.rejects(rowsAfter([t('o', 'encode_categorical', { operator: 'one_hot', columns: ['city', 'size'], invalidHandling: 'error' })]), /column 'size' has 1 missing values/);
});

test('handle outliers: quantile clip, min-max invalidate, robust remove', async () => {
  const clipped = await rowsAfter([t('c', 'handle_outliers', { method: 'min_max', lowerThreshold: 9.5, upperThreshold: 20, columns: ['score'], fix: 'clip' })]);
  assert.deepEqual(clipped.map((r) => r.score), [10.5, null, 12, 9.5, 20, 11]);
  const invalid = await rowsAfter([t('c', 'handle_outliers', { method: 'min_max', lowerThreshold: 9.5, upperThreshold: 20, columns: ['score'], fix: 'invalidate' })]);
  assert.deepEqual(invalid.map((r) => r.score), [10.5, null, 12, null, null, 11]);
  const robust = await rowsAfter([t('r', 'handle_outliers', { method: 'robust', columns: ['score'] })]);
  assert.deepEqual(robust.map((r) => r.id), [1, 2, 3, 4, 6]);
});

test('scale values: standard and min-max', async () => {
  const minmax = await rowsAfter([t('m', 'scale_values', { scaler: 'min_max', columns: ['size'] })]);
  assert.deepEqual(minmax.map((r) => r.size), [0, 0.5, null, 1, 0.5, 0]);
  const std = await rowsAfter([t('s', 'scale_values', { scaler: 'standard', columns: ['size'], outputSuffix: '_z' })]);
  const z = std.map((r) => r.size_z as number | null).filter((v): v is number => v !== null);
  assert.ok(Math.abs(z.reduce((a, b) => a + b, 0)) < 1e-9);
});

test('record id, event time, concatenation and splits', async () => {
  const ids = await rowsAfter([t('r', 'add_record_id', { column: 'rid' }), t('e', 'add_event_time', { time: 1700000000 }, ['r'])]);
  assert.deepEqual(ids.map((r) => r.rid), [1, 2, 3, 4, 5, 6]);
  assert.equal(ids[0]!.event_time, 1700000000);
  const concat = await rowsAfter([t('c', 'concatenate', { indicatorColumn: 'from' }, ['src', 'more'])]);
  assert.equal(concat.length, 8);
  assert.deepEqual(concat.slice(5).map((r) => [r.city, r.from, r.label]), [['Oslo', 'src', 'yes'], ['Kyiv', 'more', null], ['Oslo', 'more', null]]);
  const splits = [{ name: 'a', fraction: 0.5 }, { name: 'b', fraction: 0.5 }];
  const ordered = await rowsAfter([t('s', 'split', { method: 'ordered', splits })], 's.b');
  assert.deepEqual(ordered.map((r) => r.id), [4, 5, 6]);
  const keyed = [...await rowsAfter([t('s', 'split', { method: 'key', columns: ['city'], splits })], 's.a'), ...await rowsAfter([t('s', 'split', { method: 'key', columns: ['city'], splits })], 's.b')];
  assert.equal(keyed.length, 6);
  const stratA = await rowsAfter([t('s', 'split', { method: 'stratified', column: 'label', splits })], 's.a');
  assert.deepEqual(stratA.map((r) => r.label).sort(), ['no', 'no', 'yes', 'yes'].slice(0, stratA.length).sort());
  const random = await rowsAfter([t('s', 'split', { method: 'random', splits, seed: 9 })], 's.a');
  assert.equal(random.length, 3);
});

test('custom JavaScript transforms see rows and return new ones', async () => {
  const rows = await rowsAfter([t('js', 'custom_javascript', { code: 'return rows.filter((r) => r.city === "Rome").map((r) => ({ ...r, big: r.size > 3 }));' })]);
  assert.deepEqual(rows.map((r) => [r.id, r.big]), [[2, true], [5, true]]);
  await assert.rejects(rowsAfter([t('js', 'custom_javascript', { code: 'return 42;' })]), /must return an array of row objects/);
});

test('a malformed CSV read through a later node still names its line', async () => {
  await objects.putObject({ bucket: 'tests', key: 'bad.csv', body: Readable.from(['a,b\n1,2\n3\n']) });
  const flow = validateFlow({ version: 1, nodes: [
    { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://tests/bad.csv' } },
    { id: 'keep', type: 'transform', operator: 'manage_columns', inputs: ['src'], parameters: { operator: 'keep', columns: ['a'] } },
  ] }, operatorCatalog);
  const session = await FlowSession.open(flow, { objects, scratchDir: path.join(dir, 'bad') });
  try {
    await assert.rejects(session.preview('keep'), /malformed CSV in s3:\/\/tests\/bad.csv at line 3: expected 2 fields/);
  } finally {
    await session.close();
  }
});

test('a split over a view assigns the rows it would assign over the same rows as a table', async () => {
  const lines = ['id,group,value'];
  for (let i = 0; i < 400; i++) lines.push(`${i},${i % 3 === 0 ? 'x' : 'y'},${i === 7 ? 1e6 : (i * 37) % 101}`);
  await objects.putObject({ bucket: 'tests', key: 'many.csv', body: Readable.from([`${lines.join('\n')}\n`]) });
  const splits = [{ name: 'a', fraction: 0.6 }, { name: 'b', fraction: 0.25 }, { name: 'c', fraction: 0.15 }];
  for (const method of ['random', 'stratified', 'ordered'] as const) {
    const flow = validateFlow({ version: 1, nodes: [
      { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://tests/many.csv' } },
      { id: 'f', type: 'transform', operator: 'manage_rows', inputs: ['src'], parameters: { operator: 'filter', expression: 'id % 5 <> 1' } },
      { id: 'o', type: 'transform', operator: 'handle_outliers', inputs: ['f'], parameters: { method: 'standard_deviation', standardDeviations: 3, columns: ['value'], fix: 'remove' } },
      { id: 's', type: 'transform', operator: 'split', inputs: ['o'], parameters: { method, column: 'group', splits } },
    ] }, operatorCatalog);
    const outputs = async (pinInput: boolean) => {
      const session = await FlowSession.open(flow, { objects, scratchDir: path.join(dir, `split-${method}-${pinInput}`) });
      try {
        if (pinInput) await session.preview('o');
        assert.equal((await session.relation('o')).kind, pinInput ? 'table' : 'view');
        return await Promise.all(['s.a', 's.b', 's.c'].map(async (ref) => (await session.preview(ref, 1000)).rows.map((r) => r.id)));
      } finally {
        await session.close();
      }
    };
    const overView = await outputs(false);
    assert.deepEqual(overView, await outputs(true), method);
    assert.equal(overView.flat().length, 319, `${method}: 320 rows pass the filter and one outlier is removed`);
    assert.equal(new Set(overView.flat()).size, 319);
  }
});

test('sessions open at once keep their own tables and fits, and one closing leaves the other working', async () => {
  await objects.putObject({ bucket: 'tests', key: 'other.csv', body: Readable.from(['id,score\n1,\n2,100\n3,300\n']) });
  const flowOf = (key: string) => validateFlow({ version: 1, nodes: [
    { id: 'src', type: 'source', operator: 'csv', parameters: { uri: `s3://tests/${key}` } },
    { id: 'imputed', type: 'transform', operator: 'handle_missing', inputs: ['src'], parameters: { operator: 'impute', columns: ['score'], strategy: 'mean' } },
  ] }, operatorCatalog);
  const [a, b] = await Promise.all([
    FlowSession.open(flowOf('data.csv'), { objects, scratchDir: path.join(dir, 'iso-a') }),
    FlowSession.open(flowOf('other.csv'), { objects, scratchDir: path.join(dir, 'iso-b') }),
  ]);
  try {
    const [rowsA, rowsB] = await Promise.all([a.preview('imputed'), b.preview('imputed')]);
    assert.equal(rowsA.rowCount, 6);
    assert.equal(rowsA.rows[1]!.score, (10.5 + 12 + 9 + 100 + 11) / 5);
    assert.deepEqual(rowsB.rows.map((r) => r.score), [200, 100, 300]);
    await a.close();
    assert.equal((await b.preview('src')).rowCount, 3);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a join with suffixes renames a column both sides have on each side, as pandas and Data Wrangler do', async () => {
  const rows = await rowsAfter([t('j', 'join', { type: 'left', leftColumns: ['id'], rightColumns: ['id'], suffixes: ['_0', '_1'] }, ['src', 'more'])]);
  assert.deepEqual(Object.keys(rows[0]!), ['id_0', 'city_0', 'score_0', 'size', 'label', 'id_1', 'city_1', 'score_1']);
  assert.equal(rows.length, 6);
  await assert.rejects(rowsAfter([t('j', 'join', { leftColumns: ['id'], suffixes: ['_x', '_x'] }, ['src', 'more'])]), /'suffixes' must be two different strings/);
});

test('manage columns: a formula replaces the column it names, or adds it last', async () => {
  const added = await rowsAfter([t('f', 'manage_columns', { operator: 'formula', expression: 'score * 2 + size', outputColumn: 'twice' })]);
  assert.deepEqual(Object.keys(added[0]!), ['id', 'city', 'score', 'size', 'label', 'twice']);
  assert.equal(added[0]!.twice, 24);
  const replaced = await rowsAfter([t('f', 'manage_columns', { operator: 'formula', expression: 'upper(city)', outputColumn: 'city' })]);
  assert.deepEqual(replaced.map((r) => r.city).slice(0, 2), ['OSLO', 'ROME']);
  await assert.rejects(rowsAfter([t('f', 'manage_columns', { operator: 'formula', expression: 'nope + 1', outputColumn: 'x' })]), /unknown column 'nope'/);
});

test('handle outliers: a robust standard deviation is fitted on the values between two quantiles', async () => {
  const values = [...Array.from({ length: 20 }, (_, i) => i + 1), 1000];
  await objects.putObject({ bucket: 'tests', key: 'values.csv', body: Readable.from([`v\n${values.join('\n')}\n`]) });
  const flow = validateFlow({ version: 1, nodes: [
    { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://tests/values.csv' } },
    { id: 'o', type: 'transform', operator: 'handle_outliers', inputs: ['src'], parameters: { method: 'robust_standard_deviation', standardDeviations: 2, columns: ['v'], fix: 'remove' } },
  ] }, operatorCatalog);
  const session = await FlowSession.open(flow, { objects, scratchDir: path.join(dir, 'robust-sd') });
  try {
    // Quartiles 6 and 16; the values 6..16 have mean 11 and sample standard deviation √11, so 11 ± 2√11 keeps 5..17.
    assert.deepEqual((await session.preview('o', 100)).rows.map((r) => r.v), Array.from({ length: 13 }, (_, i) => i + 5));
  } finally {
    await session.close();
  }
});

test('outputs written side by side: one that fails names its destination, and the session goes on working', async () => {
  const flow = validateFlow({ version: 1, nodes: [
    { id: 'src', type: 'source', operator: 'csv', parameters: { uri: 's3://tests/data.csv' } },
    { id: 'bad', type: 'transform', operator: 'manage_columns', inputs: ['src'], parameters: { operator: 'formula', expression: "CASE WHEN id > 3 THEN error('row ' || id || ' is not allowed') ELSE id END", outputColumn: 'checked' } },
    { id: 'good_out', type: 'destination', operator: 's3', inputs: ['src'], parameters: { uri: 's3://tests/side/good/' } },
    { id: 'bad_out', type: 'destination', operator: 's3', inputs: ['bad'], parameters: { uri: 's3://tests/side/bad/' } },
    { id: 'also_good', type: 'destination', operator: 's3', inputs: ['src'], parameters: { uri: 's3://tests/side/also/', format: 'parquet' } },
  ] }, operatorCatalog);
  const session = await FlowSession.open(flow, { objects, scratchDir: path.join(dir, 'side-by-side') });
  try {
    assert.equal((await session.relation('bad')).kind, 'view', 'the failing formula runs inside the write');
    await assert.rejects(writeOutputs(session, session.destinations().map((d) => ({ node: d.id }))), (e: Error & { code?: string }) => e.code === 'NodeFailed' && /^node 'bad_out' \(s3\): .*row 4 is not allowed/.test(e.message));
    const written = await writeOutputs(session, [{ node: 'good_out' }, { node: 'also_good' }]);
    assert.deepEqual(written.map((w) => [w.node, w.rows, w.format]), [['good_out', 6, 'csv'], ['also_good', 6, 'parquet']]);
    assert.equal((await session.preview('src')).rowCount, 6);
  } finally {
    await session.close();
  }
});
