/** Experiments, trials and trial components as their Describe documents, and their ARNs. */

export type ExperimentEntityKind = 'experiment' | 'experiment-trial' | 'experiment-trial-component';

export interface Source {
  SourceArn: string;
  SourceType?: string;
}

export interface ExperimentDoc extends Record<string, unknown> {
  ExperimentName: string;
  ExperimentArn: string;
  DisplayName: string;
  Description?: string;
  Source?: Source;
  CreationTime: Date;
  LastModifiedTime: Date;
}

export interface TrialDoc extends Record<string, unknown> {
  TrialName: string;
  TrialArn: string;
  DisplayName: string;
  ExperimentName: string;
  Source?: Source;
  MetadataProperties?: Record<string, string>;
  CreationTime: Date;
  LastModifiedTime: Date;
}

export interface ParameterValue {
  StringValue?: string;
  NumberValue?: number;
}

export interface Artifact {
  MediaType?: string;
  Value: string;
}

export interface TrialComponentDoc extends Record<string, unknown> {
  TrialComponentName: string;
  TrialComponentArn: string;
  DisplayName: string;
  Source?: Source;
  Status?: { PrimaryStatus?: string; Message?: string };
  StartTime?: Date;
  EndTime?: Date;
  CreationTime: Date;
  LastModifiedTime: Date;
  Parameters?: Record<string, ParameterValue>;
  InputArtifacts?: Record<string, Artifact>;
  OutputArtifacts?: Record<string, Artifact>;
  MetadataProperties?: Record<string, string>;
  LineageGroupArn?: string;
  /** The job a job-created component stands for, as Search shows it under SourceDetail. */
  SourceDetail?: Record<string, unknown>;
  /** The run name a job's ExperimentConfig gave it. */
  RunName?: string;
}

export function entityArn(region: string, accountId: string, kind: ExperimentEntityKind, name: string): string {
  return `arn:aws:sagemaker:${region}:${accountId}:${kind}/${name.toLowerCase()}`;
}

/** A name, or the name inside an ARN of that kind (Describe* accept either). */
export function nameFromNameOrArn(value: string): string {
  return value.startsWith('arn:') ? value.slice(value.lastIndexOf('/') + 1) : value;
}
