/** Table types of the metadata database, shared by every backend (SQLite now, PostgreSQL later). */
import type { Generated } from 'kysely';

export interface ResourceTagTable {
  resource_arn: string;
  tag_key: string;
  tag_value: string;
}

export interface KilnInfoTable {
  key: string;
  value: string;
}

export interface SageMakerResourceTable {
  kind: string;
  name: string;
  arn: string;
  status: string | null;
  /** Epoch milliseconds. */
  creation_time: number;
  last_modified_time: number;
  /** The resource's Describe document as JSON, timestamps as epoch milliseconds. */
  doc: string;
}

export interface LogGroupTable {
  id: Generated<number>;
  name: string;
  arn: string;
  /** Epoch milliseconds, as every time in the log tables. */
  creation_time: number;
  retention_days: number | null;
  stored_bytes: Generated<number>;
  kms_key_id: string | null;
  log_group_class: Generated<string>;
}

export interface LogStreamTable {
  id: Generated<number>;
  group_id: number;
  name: string;
  creation_time: number;
  first_event_timestamp: number | null;
  last_event_timestamp: number | null;
  last_ingestion_time: number | null;
  /** Counts PutLogEvents batches; rendered as the stream's uploadSequenceToken. */
  upload_sequence: Generated<number>;
  stored_bytes: Generated<number>;
}

export interface LogEventTable {
  id: Generated<number>;
  group_id: number;
  stream_id: number;
  timestamp: number;
  ingestion_time: number;
  message: string;
}

export interface TrialComponentAssociationTable {
  trial_name: string;
  trial_component_name: string;
  experiment_name: string;
  associated_time: number;
}

export interface MetricPointTable {
  id: Generated<number>;
  trial_component_name: string;
  metric_name: string;
  /** Epoch milliseconds (fractions kept). */
  timestamp: number;
  step: number | null;
  value: number;
}

export interface MetricSummaryTable {
  trial_component_name: string;
  metric_name: string;
  source_arn: string | null;
  count: number;
  mean: number;
  /** Sum of squared deviations from the mean (Welford), for the standard deviation. */
  m2: number;
  min: number;
  max: number;
  last: number;
  last_timestamp: number;
  last_step: number | null;
}

export interface LineageAssociationTable {
  source_arn: string;
  destination_arn: string;
  association_type: string | null;
  creation_time: number;
}

export interface DataFlowTable {
  name: string;
  /** The flow document (JSON). */
  doc: string;
  revision: number;
  created_at: number;
  updated_at: number;
}

export interface DataFlowRunTable {
  id: string;
  flow_name: string;
  status: string;
  created_at: number;
  /** The run record (JSON): status, timings, outputs, log lines, failure reason. */
  doc: string;
}

export interface DataCatalogTableTable {
  name: string;
  doc: string;
  created_at: number;
}

export interface MetadataSchema {
  trial_component_associations: TrialComponentAssociationTable;
  metric_points: MetricPointTable;
  metric_summaries: MetricSummaryTable;
  lineage_associations: LineageAssociationTable;
  data_flows: DataFlowTable;
  data_flow_runs: DataFlowRunTable;
  data_catalog_tables: DataCatalogTableTable;
  log_groups: LogGroupTable;
  log_streams: LogStreamTable;
  log_events: LogEventTable;
  sagemaker_resources: SageMakerResourceTable;
  resource_tags: ResourceTagTable;
  kiln_info: KilnInfoTable;
}
