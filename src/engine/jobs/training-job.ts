/** A training job as DescribeTrainingJob shows it, and the status transitions it goes through. */
import type { MetricValue } from './metrics.ts';

export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface StatusTransition {
  Status: string;
  StartTime: Date;
  EndTime?: Date;
  StatusMessage?: string;
}

/** What the server keeps about a job beyond its Describe document; never sent to clients. */
export interface TrainingJobInternals {
  pid?: number;
  workDir?: string;
  logStream?: string;
  /** When the current run of the job started (epoch ms); a resumed spot job has several runs. */
  segmentStart?: number;
  /** When a checkpoint last reached S3 (epoch ms). */
  lastCheckpointAt?: number;
  /** Billable milliseconds of the job's earlier, interrupted runs. */
  billedMs?: number;
}

export interface TrainingJobDoc extends Record<string, unknown> {
  TrainingJobName: string;
  TrainingJobArn: string;
  TrainingJobStatus: TrainingJobStatus;
  SecondaryStatus: string;
  FailureReason?: string;
  HyperParameters?: Record<string, string>;
  AlgorithmSpecification: {
    TrainingImage?: string;
    AlgorithmName?: string;
    TrainingInputMode: string;
    MetricDefinitions?: { Name: string; Regex: string }[];
    EnableSageMakerMetricsTimeSeries?: boolean;
    ContainerEntrypoint?: string[];
    ContainerArguments?: string[];
  };
  RoleArn?: string;
  InputDataConfig?: Record<string, any>[];
  OutputDataConfig?: { S3OutputPath: string; KmsKeyId?: string; CompressionType?: string };
  ResourceConfig: { InstanceType?: string; InstanceCount?: number; VolumeSizeInGB?: number; [k: string]: unknown };
  StoppingCondition: { MaxRuntimeInSeconds?: number; MaxWaitTimeInSeconds?: number; MaxPendingTimeInSeconds?: number };
  CreationTime: Date;
  TrainingStartTime?: Date;
  TrainingEndTime?: Date;
  LastModifiedTime: Date;
  SecondaryStatusTransitions: StatusTransition[];
  FinalMetricDataList?: MetricValue[];
  ModelArtifacts?: { S3ModelArtifacts: string };
  TrainingTimeInSeconds?: number;
  BillableTimeInSeconds?: number;
  EnableNetworkIsolation?: boolean;
  EnableInterContainerTrafficEncryption?: boolean;
  EnableManagedSpotTraining?: boolean;
  CheckpointConfig?: { S3Uri: string; LocalPath?: string };
  Environment?: Record<string, string>;
  ExperimentConfig?: Record<string, string>;
  VpcConfig?: unknown;
  RetryStrategy?: unknown;
  _kiln?: TrainingJobInternals;
}

export const ACTIVE_STATUSES: TrainingJobStatus[] = ['InProgress', 'Stopping'];
export const TERMINAL_STATUSES: TrainingJobStatus[] = ['Completed', 'Failed', 'Stopped'];

/** Status messages as SageMaker writes them in SecondaryStatusTransitions. */
export const SECONDARY_MESSAGES: Record<string, string> = {
  Starting: 'Preparing the instances for training',
  Downloading: 'Downloading input data',
  Training: 'Training image download completed. Training in progress.',
  Uploading: 'Uploading generated training model',
  Completed: 'Training job completed',
  Failed: 'Training job failed',
  Stopping: 'Stopping the training job',
  Stopped: 'Training job stopped',
  MaxRuntimeExceeded: 'Training job exceeded the maximum allowed runtime (MaxRuntimeInSeconds)',
  MaxWaitTimeExceeded: 'Training job exceeded the maximum allowed wait time (MaxWaitTimeInSeconds)',
  Interrupted: 'Managed spot training was interrupted (the Kiln server restarted); the job resumes from its last checkpoint',
};

/** Closes the open transition and opens the next; the document is changed in place and returned. */
export function transition(doc: TrainingJobDoc, secondary: string, at: Date, message?: string): TrainingJobDoc {
  const open = doc.SecondaryStatusTransitions.at(-1);
  if (open && open.Status === secondary) return doc;
  if (open && !open.EndTime) open.EndTime = at;
  doc.SecondaryStatus = secondary;
  doc.SecondaryStatusTransitions.push({ Status: secondary, StartTime: at, StatusMessage: message ?? SECONDARY_MESSAGES[secondary] ?? secondary });
  doc.LastModifiedTime = at;
  return doc;
}

/** Ends the job: terminal status, closed transitions, times. */
export function finish(doc: TrainingJobDoc, status: 'Completed' | 'Failed' | 'Stopped', secondary: string, at: Date, failureReason?: string): TrainingJobDoc {
  transition(doc, secondary, at);
  const last = doc.SecondaryStatusTransitions.at(-1);
  if (last && !last.EndTime) last.EndTime = at;
  doc.TrainingJobStatus = status;
  if (failureReason) doc.FailureReason = failureReason;
  doc.TrainingEndTime = at;
  const start = doc.TrainingStartTime ?? doc.CreationTime;
  const seconds = Math.max(1, Math.round((at.getTime() - start.getTime()) / 1000));
  doc.TrainingTimeInSeconds = seconds;
  // A resumed spot job is not billed for the time it waited between its runs.
  const billedMs = doc._kiln?.billedMs;
  doc.BillableTimeInSeconds = billedMs === undefined ? seconds : Math.min(seconds, Math.max(1, Math.floor((billedMs + at.getTime() - (doc._kiln?.segmentStart ?? start.getTime())) / 1000)));
  doc.LastModifiedTime = at;
  return doc;
}

/** The document without server internals, as DescribeTrainingJob answers it. */
export function publicView(doc: TrainingJobDoc): Record<string, unknown> {
  const { _kiln, ...rest } = doc;
  return rest;
}

/** Whether a job a server restart interrupted picks up again from its checkpoints instead of failing. */
export function resumesAfterInterruption(doc: TrainingJobDoc): boolean {
  return doc.TrainingJobStatus === 'InProgress' && doc.EnableManagedSpotTraining === true && !!doc.CheckpointConfig?.S3Uri;
}

/**
 * Marks a spot job interrupted: its run so far is billed up to its last checkpoint (the work
 * after that is lost), and it goes back to Starting.
 */
export function interrupt(doc: TrainingJobDoc, at: Date): TrainingJobDoc {
  const k = (doc._kiln ??= {});
  if (k.segmentStart !== undefined) k.billedMs = (k.billedMs ?? 0) + Math.max(0, (k.lastCheckpointAt ?? k.segmentStart) - k.segmentStart);
  else k.billedMs ??= 0;
  delete k.segmentStart;
  delete k.pid;
  transition(doc, 'Interrupted', at);
  return transition(doc, 'Starting', at);
}
