/**
 * The course's hotel-bookings preparation as SageMaker Data Wrangler (Studio) writes a `.flow`:
 * UUID node ids, operator ids with versions, display strings that pick a `*_parameters` object
 * (with the objects of unselected options left beside it, as the Studio UI leaves them),
 * visualizations, a stratified split whose shares feed dataset nodes, and S3 destinations.
 * Written for Kiln's tests from the format's public description.
 */
const DROPPED = ['reservation_status', 'reservation_status_date', 'company', 'arrival_date_year', 'arrival_date_week_number', 'days_in_waiting_list', 'assigned_room_type', 'booking_changes', 'country'];
const CATEGORICALS = ['meal', 'market_segment', 'distribution_channel', 'deposit_type', 'customer_type'];

export const STUDIO_IDS = {
  source: '0b7f8c1e-5d7a-4a51-9a55-0c3f2e9a1b01',
  types: '1c2d3e4f-6a7b-4c8d-9e0f-a1b2c3d4e502',
  histogram: '2d3e4f50-7b8c-4d9e-8f01-b2c3d4e5f603',
  report: '3e4f5061-8c9d-4eaf-9012-c3d4e5f60704',
  quickModel: '4f506172-9dae-4fb0-8123-d4e5f6071805',
  dropColumns: '50617283-aebf-40c1-9234-e5f607182906',
  dropDuplicates: '61728394-bfc0-41d2-8345-f60718293a07',
  impute: '728394a5-c0d1-42e3-9456-0718293a4b08',
  oneHot: '8394a5b6-d1e2-43f4-8567-18293a4b5c09',
  outliers: '94a5b6c7-e2f3-4405-9678-293a4b5c6d0a',
  split: 'a5b6c7d8-f304-4516-8789-3a4b5c6d7e0b',
  trainData: 'b6c7d8e9-0415-4627-989a-4b5c6d7e8f0c',
  validationData: 'c7d8e9fa-1526-4738-89ab-5c6d7e8f900d',
  trainOut: 'd8e9fa0b-2637-4849-9abc-6d7e8f90a10e',
  validationOut: 'e9fa0b1c-3748-495a-8bcd-7e8f90a1b20f',
};

const input = (nodeId: string, name = 'df', outputName = 'default') => ({ name, node_id: nodeId, output_name: outputName });
const transform = (nodeId: string, operator: string, parameters: Record<string, unknown>, from: string, extra: Record<string, unknown> = {}) => ({
  node_id: nodeId, type: 'TRANSFORM', operator, parameters, inputs: [input(from)], outputs: [{ name: 'default' }], ...extra,
});

export function studioHotelFlow(sourceUri: string, outputPrefix: string): Record<string, unknown> {
  const I = STUDIO_IDS;
  return {
    metadata: { version: 1, disable_limits: false, instance_type: 'ml.m5.4xlarge' },
    parameters: [],
    nodes: [
      {
        node_id: I.source, type: 'SOURCE', operator: 'sagemaker.s3_source_0.1',
        parameters: { dataset_definition: { __typename: 'S3CreateDatasetDefinitionOutput', datasetSourceType: 'S3', name: 'hotel_bookings.csv', description: null,
          s3ExecutionContext: { __typename: 'S3ExecutionContext', s3Uri: sourceUri, s3ContentType: 'csv', s3HasHeader: true, s3FieldDelimiter: ',', s3DirIncludesNested: false, s3AddsFilenameColumn: false, s3CsvEncodingType: 'UTF_8', s3SkipLines: 0 } } },
        inputs: [], outputs: [{ name: 'default', sampling: { sampling_method: 'sample_by_limit', limit_rows: 50000 } }],
      },
      { node_id: I.types, type: 'TRANSFORM', operator: 'sagemaker.spark.infer_and_cast_type_0.1', parameters: {},
        trained_parameters: { schema: { hotel: 'string', is_canceled: 'long', lead_time: 'long', children: 'float', agent: 'float', reservation_status_date: 'date', country: 'object' } },
        inputs: [input(I.source, 'default')], outputs: [{ name: 'default' }] },
      { node_id: I.histogram, type: 'VISUALIZATION', operator: 'sagemaker.visualizations.histogram_0.1', parameters: { name: 'lead time by cancellation', x_axis: 'lead_time', color_by: 'is_canceled' }, inputs: [input(I.types)], outputs: [{ name: 'default' }] },
      { node_id: I.report, type: 'VISUALIZATION', operator: 'sagemaker.visualizations.data_insights_report_0.1', parameters: { name: 'insights', report_content: 'Warning summary', insights_report_parameters: { target_column: 'is_canceled', problem_type: 'Classification' } }, inputs: [input(I.types)], outputs: [{ name: 'default' }] },
      { node_id: I.quickModel, type: 'VISUALIZATION', operator: 'sagemaker.visualizations.quick_model_0.1', parameters: { name: 'quick model', label: 'is_canceled' }, inputs: [input(I.types)], outputs: [{ name: 'default' }] },
      transform(I.dropColumns, 'sagemaker.spark.manage_columns_0.1', { operator: 'Drop column', drop_column_parameters: { column_to_drop: DROPPED }, move_column_parameters: { move_type: 'Move to start', move_to_start_parameters: { column_to_move: 'hotel' } } }, I.types),
      transform(I.dropDuplicates, 'sagemaker.spark.manage_rows_0.1', { operator: 'Drop duplicates', drop_duplicates_parameters: {}, sort_parameters: { order: 'Ascending' } }, I.dropColumns),
      transform(I.impute, 'sagemaker.spark.handle_missing_0.1', { operator: 'Impute', impute_parameters: { column_type: 'Numeric', numeric_parameters: { strategy: 'Approximate Median', input_column: ['agent'], output_column: '' } } }, I.dropDuplicates),
      transform(I.oneHot, 'sagemaker.spark.encode_categorical_0.1', { operator: 'One-hot encode', one_hot_encode_parameters: { input_column: CATEGORICALS, invalid_handling_strategy: 'Keep', drop_last: false, output_style: 'Columns' }, ordinal_encode_parameters: { invalid_handling_strategy: 'Replace with NaN' } }, I.impute),
      transform(I.outliers, 'sagemaker.spark.handle_outliers_0.1', { operator: 'Standard deviation numeric outliers', standard_deviation_numeric_outliers_parameters: { input_column: ['children'], standard_deviations: 4, fix_method: 'Remove' } }, I.oneHot),
      {
        node_id: I.split, type: 'TRANSFORM', operator: 'sagemaker.spark.split_0.1',
        parameters: { operator: 'Stratified split', stratified_split_parameters: { splits: [{ name: 'Train', percentage: 0.7 }, { name: 'Validation', percentage: 0.15 }, { name: 'Test', percentage: 0.15 }], input_column: 'is_canceled', error: 0.0001 },
          randomized_split_parameters: { splits: [{ name: 'Train', percentage: 0.8 }, { name: 'Test', percentage: 0.2 }], error: 0.0001 } },
        inputs: [input(I.outliers)], outputs: [{ name: 'Train' }, { name: 'Validation' }, { name: 'Test' }],
      },
      { node_id: I.trainData, type: 'DATASET', operator: 'sagemaker.dataset.identity_0.1', parameters: {}, inputs: [input(I.split, 'df', 'Train')], outputs: [{ name: 'default' }] },
      { node_id: I.validationData, type: 'DATASET', operator: 'sagemaker.dataset.identity_0.1', parameters: {}, inputs: [input(I.split, 'df', 'Validation')], outputs: [{ name: 'default' }] },
      { node_id: I.trainOut, type: 'DESTINATION', operator: 'sagemaker.spark.s3_destination_0.1', name: 'S3: train',
        parameters: { output_config: { compression: 'none', output_path: `${outputPrefix}train/`, output_content_type: 'CSV', delimiter: ',' } }, inputs: [input(I.trainData, 'default')], outputs: [{ name: 'default' }] },
      { node_id: I.validationOut, type: 'DESTINATION', operator: 'sagemaker.spark.s3_destination_0.1', name: 'S3: validation',
        parameters: { output_config: { compression: 'none', output_path: `${outputPrefix}validation/`, output_content_type: 'PARQUET' } }, inputs: [input(I.validationData, 'default')], outputs: [{ name: 'default' }] },
    ],
  };
}
