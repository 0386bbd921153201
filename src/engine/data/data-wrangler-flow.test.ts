import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FsObjectStore } from '../../store/objects/fs-store.ts';
import { FlowSession } from './session.ts';
import { STUDIO_IDS as I, studioHotelFlow } from '../../../test/helpers/studio-hotel-flow.ts';
import { fromDataWranglerFlow, isDataWranglerFlow } from './data-wrangler-flow.ts';
import { readFlowDocument } from './flow-store.ts';

test('a Studio .flow becomes a Kiln flow node by node, reading only the parameters its display string selects', () => {
  const doc = studioHotelFlow('s3://hotels/raw/hotel_bookings.csv', 's3://hotels/studio/');
  assert.equal(isDataWranglerFlow(doc), true);
  assert.equal(isDataWranglerFlow({ version: 1, nodes: [] }), false);
  const { flow, notes } = readFlowDocument(doc);
  const node = (id: string) => flow.nodes.find((n) => n.id === id)!;
  assert.deepEqual(node(I.source), { id: I.source, type: 'source', operator: 'csv', parameters: { uri: 's3://hotels/raw/hotel_bookings.csv', header: true, delimiter: ',', encoding: 'utf-8' }, name: 'hotel_bookings.csv' });
  assert.deepEqual(node(I.types).parameters, { operator: 'cast', types: { hotel: 'string', is_canceled: 'long', lead_time: 'long', children: 'float', agent: 'float', reservation_status_date: 'date' } });
  assert.deepEqual(node(I.dropColumns).parameters, { operator: 'drop', columns: ['reservation_status', 'reservation_status_date', 'company', 'arrival_date_year', 'arrival_date_week_number', 'days_in_waiting_list', 'assigned_room_type', 'booking_changes', 'country'] });
  assert.deepEqual(node(I.dropDuplicates).parameters, { operator: 'drop_duplicates' });
  assert.deepEqual(node(I.impute).parameters, { operator: 'impute', columns: ['agent'], strategy: 'approximate_median' });
  assert.deepEqual(node(I.oneHot).parameters, { operator: 'one_hot', columns: ['meal', 'market_segment', 'distribution_channel', 'deposit_type', 'customer_type'], invalidHandling: 'keep', dropLast: false, outputStyle: 'columns' });
  assert.deepEqual(node(I.outliers).parameters, { method: 'standard_deviation', columns: ['children'], fix: 'remove', standardDeviations: 4 });
  assert.deepEqual(node(I.split).parameters, { method: 'stratified', column: 'is_canceled', splits: [{ name: 'Train', fraction: 0.7 }, { name: 'Validation', fraction: 0.15 }, { name: 'Test', fraction: 0.15 }] });
  assert.deepEqual(node(I.trainData).inputs, [`${I.split}.Train`]);
  assert.deepEqual(node(I.validationOut), { id: I.validationOut, type: 'destination', operator: 's3', inputs: [I.validationData], parameters: { uri: 's3://hotels/studio/validation/', format: 'parquet' }, name: 'S3: validation' });
  assert.deepEqual(node(I.report), { id: I.report, type: 'analysis', operator: 'quality_report', inputs: [I.types], parameters: { target: 'is_canceled' }, name: 'insights' });
  assert.deepEqual(node(I.histogram).parameters, { column: 'lead_time', colorBy: 'is_canceled' });
  assert.equal(flow.nodes.some((n) => n.id === I.quickModel), false);
  assert.deepEqual(notes, [`visualization ${I.quickModel} (sagemaker.visualizations.quick_model_0.1) has no Kiln analysis and was left out`]);
});

test('a Studio step Kiln cannot run is refused with the node, the operator and what Kiln does instead', () => {
  const withNode = (node: Record<string, unknown>) => {
    const doc = studioHotelFlow('s3://hotels/raw/hotel_bookings.csv', 's3://hotels/studio/');
    (doc.nodes as unknown[]).push({ node_id: 'f00d', type: 'TRANSFORM', inputs: [{ name: 'df', node_id: I.outliers, output_name: 'default' }], outputs: [{ name: 'default' }], ...node });
    return () => fromDataWranglerFlow(doc);
  };
  assert.throws(withNode({ operator: 'sagemaker.spark.custom_code_0.1', parameters: { operator: 'Python (PySpark)', pyspark_parameters: { code: 'df = df.limit(3)' } } }), {
    code: 'UnsupportedOperator',
    message: "Data Wrangler node 'f00d' (sagemaker.spark.custom_code_0.1, 'Python (PySpark)'): Kiln runs custom pandas and SQL; it has no Spark",
  });
  assert.throws(withNode({ operator: 'sagemaker.spark.featurize_text_0.1', parameters: { operator: 'Vectorize' } }), /node 'f00d' \(sagemaker\.spark\.featurize_text_0\.1, 'Vectorize'\): Kiln has no counterpart for this operator/);
  assert.throws(withNode({ operator: 'sagemaker.spark.handle_outliers_0.1', parameters: { operator: 'Replace rare values', replace_rare_values_parameters: { input_column: 'meal' } } }), /outlier method 'Replace rare values' is not one of Standard deviation numeric outliers, Robust standard deviation numeric outliers, Quantile numeric outliers, Min-max numeric outliers/);
  assert.throws(withNode({ operator: 'sagemaker.spark.handle_missing_0.1', parameters: { operator: 'Impute', impute_parameters: { column_type: 'Numeric', numeric_parameters: { strategy: 'Mean', input_column: 'agent', output_column: 'agent_filled' } } } }), /an output column \('agent_filled'\) is not supported/);
  assert.throws(withNode({ operator: 'sagemaker.spark.manage_rows_0.1', parameters: { operator: 'Drop duplicates' }, inputs: [{ name: 'df', node_id: 'nowhere', output_name: 'default' }] }), /its input 'nowhere' is not a node of this flow/);
});

test('join, a formula, custom pandas and a split read by its default output translate to their Kiln counterparts', () => {
  const doc = {
    metadata: { version: 1 },
    nodes: [
      { node_id: 'a', type: 'SOURCE', operator: 'sagemaker.s3_source_0.1', parameters: { dataset_definition: { s3ExecutionContext: { s3Uri: 's3://b/a.parquet', s3ContentType: 'parquet' } } }, inputs: [], outputs: [{ name: 'default' }] },
      { node_id: 'b', type: 'SOURCE', operator: 'sagemaker.athena_source_0.1', parameters: { dataset_definition: { datasetSourceType: 'Athena', name: 'fleet', queryString: 'select * from fleet' } }, inputs: [], outputs: [{ name: 'default' }] },
      { node_id: 'j', type: 'TRANSFORM', operator: 'sagemaker.spark.join_tables_0.1', parameters: { left_column: 'id', right_column: 'vehicle', join_type: 'leftouter' }, inputs: [{ name: 'df', node_id: 'a', output_name: 'default' }, { name: 'df', node_id: 'b', output_name: 'default' }], outputs: [{ name: 'default' }] },
      { node_id: 'f', type: 'TRANSFORM', operator: 'sagemaker.spark.custom_formula_0.1', parameters: { output_column: 'danceability', formula: '0.3*valence + 0.1*liveness' }, inputs: [{ name: 'df', node_id: 'j', output_name: 'default' }], outputs: [{ name: 'default' }] },
      { node_id: 'p', type: 'TRANSFORM', operator: 'sagemaker.spark.custom_pandas_0.1', parameters: { code: 'df = df.head(5)' }, inputs: [{ name: 'df', node_id: 'f', output_name: 'default' }], outputs: [{ name: 'default' }] },
      { node_id: 's', type: 'TRANSFORM', operator: 'sagemaker.spark.split_0.1', parameters: { operator: 'Randomized split', randomized_split_parameters: { splits: [{ name: 'Train', percentage: 0.8 }, { name: 'Test', percentage: 0.2 }], error: 0.0001, seed: 7 } }, inputs: [{ name: 'df', node_id: 'p', output_name: 'default' }], outputs: [{ name: 'Train' }, { name: 'Test' }] },
      { node_id: 'scaled', type: 'TRANSFORM', operator: 'sagemaker.spark.process_numeric_0.1', parameters: { operator: 'Scale values', scale_values_parameters: { scaler: 'Min-max scaler', min_max_scaler_parameters: { input_column: ['x'], min: -1, max: 1 }, standard_scaler_parameters: { scale: true } } }, inputs: [{ name: 'df', node_id: 's', output_name: 'default' }], outputs: [{ name: 'default' }] },
    ],
  };
  const { flow } = fromDataWranglerFlow(doc);
  const node = (id: string) => flow.nodes.find((n) => n.id === id)!;
  assert.deepEqual(node('a'), { id: 'a', type: 'source', operator: 'parquet', parameters: { uri: 's3://b/a.parquet' } });
  assert.deepEqual(node('b'), { id: 'b', type: 'source', operator: 'sql', parameters: { query: 'select * from fleet' }, name: 'fleet' });
  assert.deepEqual(node('j'), { id: 'j', type: 'transform', operator: 'join', inputs: ['a', 'b'], parameters: { type: 'left', leftColumns: ['id'], rightColumns: ['vehicle'], suffixes: ['_0', '_1'] } });
  assert.deepEqual(node('f').parameters, { operator: 'formula', expression: '0.3*valence + 0.1*liveness', outputColumn: 'danceability' });
  assert.deepEqual(node('p'), { id: 'p', type: 'transform', operator: 'custom_python', inputs: ['f'], parameters: { code: 'df = df.head(5)' } });
  assert.deepEqual(node('s').parameters, { method: 'random', splits: [{ name: 'Train', fraction: 0.8 }, { name: 'Test', fraction: 0.2 }], seed: 7 });
  assert.deepEqual(node('scaled'), { id: 'scaled', type: 'transform', operator: 'scale_values', inputs: ['s.Train'], parameters: { scaler: 'min_max', columns: ['x'], min: -1, max: 1 } });
});

test('Studio string, concatenation and missing-indicator steps run as the SQL they become', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-dw-steps-'));
  const objects = new FsObjectStore(path.join(dir, 'objects'));
  try {
    await objects.createBucket('steps', 'us-east-1');
    await objects.putObject({ bucket: 'steps', key: 'people.csv', body: Readable.from(['name,city,code\n  Ada ,Oslo,a-1\nbob,,b-22\n']) });
    const step = (id: string, from: string, operator: string, parameters: Record<string, unknown>) => ({ node_id: id, type: 'TRANSFORM', operator, parameters, inputs: [{ name: 'df', node_id: from, output_name: 'default' }], outputs: [{ name: 'default' }] });
    const { flow } = fromDataWranglerFlow({
      metadata: { version: 1 },
      nodes: [
        { node_id: 'src', type: 'SOURCE', operator: 'sagemaker.s3_source_0.1', parameters: { dataset_definition: { s3ExecutionContext: { s3Uri: 's3://steps/people.csv', s3ContentType: 'csv', s3HasHeader: true } } }, inputs: [], outputs: [{ name: 'default' }] },
        step('strip', 'src', 'sagemaker.spark.format_string_0.1', { operator: 'Strip left and right', strip_left_and_right_parameters: { input_column: ['name'] } }),
        step('upper', 'strip', 'sagemaker.spark.format_string_0.1', { operator: 'Upper case', upper_case_parameters: { input_column: 'name', output_column: 'shout' } }),
        step('digits', 'upper', 'sagemaker.spark.search_and_edit_0.1', { operator: 'Find and replace substring', find_and_replace_substring_parameters: { input_column: 'code', pattern: '[0-9]+', replacement: '#' } }),
        step('joined', 'digits', 'sagemaker.spark.manage_columns_0.1', { operator: 'Concatenate columns', concat_columns_parameters: { left_column: 'name', right_column: 'city', delimiter: '@', output_column: 'where' } }),
        step('flags', 'joined', 'sagemaker.spark.handle_missing_0.1', { operator: 'Add indicator for missing', add_indicator_for_missing_parameters: { input_column: ['city'] } }),
      ],
    });
    const session = await FlowSession.open(readFlowDocument(flow).flow, { objects, scratchDir: path.join(dir, 'session') });
    try {
      const { rows } = await session.preview('flags');
      assert.deepEqual(rows, [
        { name: 'Ada', city: 'Oslo', code: 'a-#', shout: 'ADA', where: 'Ada@Oslo', city_indicator: 0 },
        { name: 'bob', city: null, code: 'b-#', shout: 'BOB', where: 'bob', city_indicator: 1 },
      ]);
    } finally {
      await session.close();
    }
  } finally {
    await objects.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
