/** A processing job as DescribeProcessingJob shows it. */

export type ProcessingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface ProcessingS3Input {
  S3Uri: string;
  LocalPath?: string;
  S3DataType: 'S3Prefix' | 'ManifestFile';
  S3InputMode?: 'File' | 'Pipe';
  S3DataDistributionType?: 'FullyReplicated' | 'ShardedByS3Key';
  S3CompressionType?: 'None' | 'Gzip';
}

export interface ProcessingInput {
  InputName: string;
  AppManaged?: boolean;
  S3Input?: ProcessingS3Input;
  DatasetDefinition?: unknown;
}

export interface ProcessingOutput {
  OutputName: string;
  S3Output?: { S3Uri: string; LocalPath: string; S3UploadMode: 'Continuous' | 'EndOfJob' };
  FeatureStoreOutput?: unknown;
  AppManaged?: boolean;
}

export interface ProcessingJobDoc extends Record<string, unknown> {
  ProcessingJobName: string;
  ProcessingJobArn: string;
  ProcessingJobStatus: ProcessingJobStatus;
  ProcessingInputs?: ProcessingInput[];
  ProcessingOutputConfig?: { Outputs: ProcessingOutput[]; KmsKeyId?: string };
  ProcessingResources: { ClusterConfig: { InstanceCount: number; InstanceType: string; VolumeSizeInGB: number; VolumeKmsKeyId?: string } };
  StoppingCondition?: { MaxRuntimeInSeconds: number };
  AppSpecification: { ImageUri: string; ContainerEntrypoint?: string[]; ContainerArguments?: string[] };
  Environment?: Record<string, string>;
  NetworkConfig?: { EnableNetworkIsolation?: boolean; EnableInterContainerTrafficEncryption?: boolean; VpcConfig?: unknown };
  RoleArn: string;
  ExperimentConfig?: Record<string, string>;
  ExitMessage?: string;
  FailureReason?: string;
  CreationTime: Date;
  ProcessingStartTime?: Date;
  ProcessingEndTime?: Date;
  LastModifiedTime: Date;
  _kiln?: { pid?: number; workDir?: string; logStream?: string };
}

export const ACTIVE_PROCESSING: ProcessingJobStatus[] = ['InProgress', 'Stopping'];

export function finishProcessing(doc: ProcessingJobDoc, status: 'Completed' | 'Failed' | 'Stopped', at: Date, failureReason?: string, exitMessage?: string): ProcessingJobDoc {
  doc.ProcessingJobStatus = status;
  if (failureReason) doc.FailureReason = failureReason;
  if (exitMessage) doc.ExitMessage = exitMessage;
  doc.ProcessingEndTime = at;
  doc.LastModifiedTime = at;
  return doc;
}

export function publicProcessingView(doc: ProcessingJobDoc): Record<string, unknown> {
  const { _kiln, ...rest } = doc;
  return rest;
}
