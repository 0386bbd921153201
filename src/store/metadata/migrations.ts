/**
 * Versioned schema migrations, written with Kysely's schema builder so the same migration
 * runs on SQLite and PostgreSQL. Append new migrations; never edit a released one.
 */
import type { Kysely, Migration } from 'kysely';

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('kiln_info')
        .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('resource_tags')
        .addColumn('resource_arn', 'varchar(2048)', (c) => c.notNull())
        .addColumn('tag_key', 'varchar(128)', (c) => c.notNull())
        .addColumn('tag_value', 'varchar(256)', (c) => c.notNull())
        .addPrimaryKeyConstraint('resource_tags_pk', ['resource_arn', 'tag_key'])
        .execute();
    },
  },
  '0002_logs': {
    async up(db: Kysely<unknown>) {
      // CloudWatch Logs: groups, their streams, and the events of every stream. Events carry
      // a monotonically increasing id that orders events of equal timestamp and anchors
      // GetLogEvents/FilterLogEvents paging tokens.
      await db.schema
        .createTable('log_groups')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('name', 'varchar(512)', (c) => c.notNull().unique())
        .addColumn('arn', 'varchar(2048)', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('retention_days', 'integer')
        .addColumn('stored_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('kms_key_id', 'varchar(256)')
        .addColumn('log_group_class', 'varchar(32)', (c) => c.notNull().defaultTo('STANDARD'))
        .execute();
      await db.schema
        .createTable('log_streams')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('group_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'varchar(512)', (c) => c.notNull())
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('first_event_timestamp', 'bigint')
        .addColumn('last_event_timestamp', 'bigint')
        .addColumn('last_ingestion_time', 'bigint')
        .addColumn('upload_sequence', 'bigint', (c) => c.notNull().defaultTo(1))
        .addColumn('stored_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addUniqueConstraint('log_streams_group_name', ['group_id', 'name'])
        .execute();
      await db.schema.createIndex('log_streams_last_event').on('log_streams').columns(['group_id', 'last_event_timestamp', 'name']).execute();
      await db.schema
        .createTable('log_events')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('group_id', 'integer', (c) => c.notNull())
        .addColumn('stream_id', 'integer', (c) => c.notNull())
        .addColumn('timestamp', 'bigint', (c) => c.notNull())
        .addColumn('ingestion_time', 'bigint', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .execute();
      // GetLogEvents pages one stream in (timestamp, id) order; FilterLogEvents interleaves
      // a group's streams in the same order within a time range.
      await db.schema.createIndex('log_events_stream_time').on('log_events').columns(['stream_id', 'timestamp', 'id']).execute();
      await db.schema.createIndex('log_events_group_time').on('log_events').columns(['group_id', 'timestamp', 'id']).execute();
    },
  },
  '0003_sagemaker_resources': {
    async up(db: Kysely<unknown>) {
      // Every SageMaker resource (training jobs now; models, endpoints, ... later) as its
      // Describe document, with the columns List* filters and sorts on.
      await db.schema
        .createTable('sagemaker_resources')
        .addColumn('kind', 'varchar(64)', (c) => c.notNull())
        .addColumn('name', 'varchar(256)', (c) => c.notNull())
        .addColumn('arn', 'varchar(2048)', (c) => c.notNull())
        .addColumn('status', 'varchar(64)')
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addColumn('last_modified_time', 'bigint', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('sagemaker_resources_pk', ['kind', 'name'])
        .execute();
      await db.schema.createIndex('sagemaker_resources_arn').on('sagemaker_resources').column('arn').unique().execute();
      await db.schema.createIndex('sagemaker_resources_created').on('sagemaker_resources').columns(['kind', 'creation_time']).execute();
    },
  },
  '0004_experiments': {
    async up(db: Kysely<unknown>) {
      // Which trials hold which trial components (the experiment is the trial's, repeated so
      // Parents and ListTrialComponents(ExperimentName) need no join).
      await db.schema
        .createTable('trial_component_associations')
        .addColumn('trial_name', 'varchar(120)', (c) => c.notNull())
        .addColumn('trial_component_name', 'varchar(120)', (c) => c.notNull())
        .addColumn('experiment_name', 'varchar(120)', (c) => c.notNull())
        .addColumn('associated_time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('trial_component_associations_pk', ['trial_name', 'trial_component_name'])
        .execute();
      await db.schema.createIndex('trial_component_associations_component').on('trial_component_associations').column('trial_component_name').execute();
      await db.schema.createIndex('trial_component_associations_experiment').on('trial_component_associations').column('experiment_name').execute();
      // Every BatchPutMetrics point, read back in time order per metric for charts.
      await db.schema
        .createTable('metric_points')
        .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('trial_component_name', 'varchar(120)', (c) => c.notNull())
        .addColumn('metric_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('timestamp', 'double precision', (c) => c.notNull())
        .addColumn('step', 'integer')
        .addColumn('value', 'double precision', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('metric_points_series').on('metric_points').columns(['trial_component_name', 'metric_name', 'timestamp', 'id']).execute();
      // Running statistics per (trial component, metric), merged at ingestion so
      // DescribeTrialComponent and Search never scan points. mean/m2 are Welford's.
      await db.schema
        .createTable('metric_summaries')
        .addColumn('trial_component_name', 'varchar(120)', (c) => c.notNull())
        .addColumn('metric_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('source_arn', 'varchar(2048)')
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('mean', 'double precision', (c) => c.notNull())
        .addColumn('m2', 'double precision', (c) => c.notNull())
        .addColumn('min', 'double precision', (c) => c.notNull())
        .addColumn('max', 'double precision', (c) => c.notNull())
        .addColumn('last', 'double precision', (c) => c.notNull())
        .addColumn('last_timestamp', 'double precision', (c) => c.notNull())
        .addColumn('last_step', 'integer')
        .addPrimaryKeyConstraint('metric_summaries_pk', ['trial_component_name', 'metric_name'])
        .execute();
      // Lineage edges between artifacts, actions, contexts and trial components, by ARN.
      await db.schema
        .createTable('lineage_associations')
        .addColumn('source_arn', 'varchar(2048)', (c) => c.notNull())
        .addColumn('destination_arn', 'varchar(2048)', (c) => c.notNull())
        .addColumn('association_type', 'varchar(32)')
        .addColumn('creation_time', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('lineage_associations_pk', ['source_arn', 'destination_arn'])
        .execute();
      await db.schema.createIndex('lineage_associations_destination').on('lineage_associations').column('destination_arn').execute();
      },
    },
  '0006_flows': {
    async up(db: Kysely<unknown>) {
      // Data preparation: flow documents, their runs (processing-job-shaped records) and the
      // table catalog SQL sources query. Each row keeps its document as JSON.
      await db.schema
        .createTable('data_flows')
        .addColumn('name', 'varchar(63)', (c) => c.primaryKey())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('data_flow_runs')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('flow_name', 'varchar(63)', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('data_flow_runs_flow').on('data_flow_runs').columns(['flow_name', 'created_at']).execute();
      await db.schema
        .createTable('data_catalog_tables')
        .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
        .addColumn('doc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
};
