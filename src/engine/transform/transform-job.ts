/** A batch transform job as DescribeTransformJob shows it. */

export type TransformJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TransformInput {
  DataSource: { S3DataSource: { S3DataType: string; S3Uri: string } };
  ContentType?: string;
  CompressionType?: 'None' | 'Gzip';
  SplitType?: 'None' | 'Line' | 'RecordIO' | 'TFRecord';
}

export interface TransformOutput {
  S3OutputPath: string;
  Accept?: string;
  AssembleWith?: 'None' | 'Line';
  KmsKeyId?: string;
}

export interface DataProcessing {
  InputFilter?: string;
  OutputFilter?: string;
  JoinSource?: 'None' | 'Input';
}

export interface TransformJobDoc extends Record<string, unknown> {
  TransformJobName: string;
  TransformJobArn: string;
  TransformJobStatus: TransformJobStatus;
  FailureReason?: string;
  ModelName: string;
  MaxConcurrentTransforms?: number;
  ModelClientConfig?: { InvocationsTimeoutInSeconds?: number; InvocationsMaxRetries?: number };
  MaxPayloadInMB?: number;
  BatchStrategy?: 'SingleRecord' | 'MultiRecord';
  Environment?: Record<string, string>;
  TransformInput: TransformInput;
  TransformOutput: TransformOutput;
  TransformResources: { InstanceType: string; InstanceCount: number; VolumeKmsKeyId?: string };
  DataProcessing?: DataProcessing;
  ExperimentConfig?: Record<string, string>;
  DataCaptureConfig?: unknown;
  CreationTime: Date;
  TransformStartTime?: Date;
  TransformEndTime?: Date;
  LastModifiedTime: Date;
  _kiln?: { logStream?: string };
}

export const ACTIVE_TRANSFORM_STATUSES: TransformJobStatus[] = ['InProgress', 'Stopping'];

export function publicTransformView(doc: TransformJobDoc): Record<string, unknown> {
  const { _kiln, LastModifiedTime: _internal, ...rest } = doc;
  return rest;
}

export function finishTransform(doc: TransformJobDoc, status: 'Completed' | 'Failed' | 'Stopped', at: Date, failureReason?: string): TransformJobDoc {
  doc.TransformJobStatus = status;
  if (failureReason) doc.FailureReason = failureReason;
  doc.TransformStartTime ??= doc.CreationTime;
  doc.TransformEndTime = at;
  doc.LastModifiedTime = at;
  return doc;
}
