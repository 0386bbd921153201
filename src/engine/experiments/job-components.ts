/**
 * What every SageMaker job becomes in Experiments: a trial component named
 * "<job>-aws-<kind>-job", sourced from the job, joining the trial its ExperimentConfig names
 * (created, with its experiment, when absent), and completed with the job's outcome.
 */
import { AwsError } from '../../server/errors.ts';
import type { Artifact, ParameterValue } from './entities.ts';
import type { Experiments } from './experiments.ts';

export interface ExperimentConfig {
  ExperimentName?: string;
  TrialName?: string;
  TrialComponentDisplayName?: string;
  RunName?: string;
}

export function parameterOf(value: string | number): ParameterValue {
  if (typeof value === 'number') return { NumberValue: value };
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? { NumberValue: n } : { StringValue: value };
}

const isNotFound = (e: unknown) => e instanceof AwsError && e.code === 'ResourceNotFound';

export interface JobComponent {
  name: string;
  source: { SourceArn: string; SourceType: string };
  config: ExperimentConfig | undefined;
  parameters: Record<string, ParameterValue>;
  inputs: Record<string, Artifact>;
}

export async function jobComponentCreated(experiments: Experiments, c: JobComponent): Promise<void> {
  const config = c.config ?? {};
  await experiments.createTrialComponent(
    {
      TrialComponentName: c.name,
      DisplayName: config.TrialComponentDisplayName ?? c.name,
      Status: { PrimaryStatus: 'InProgress' },
      Parameters: c.parameters,
      InputArtifacts: c.inputs,
    },
    { Source: c.source, ...(config.RunName ? { RunName: config.RunName } : {}) },
  );
  if (!config.ExperimentName && !config.TrialName) return;
  const trialName = config.TrialName ?? c.name;
  try {
    await experiments.describeTrial(trialName);
  } catch (e) {
    if (!isNotFound(e) || !config.ExperimentName) throw e;
    try {
      await experiments.describeExperiment(config.ExperimentName);
    } catch (missing) {
      if (!isNotFound(missing)) throw missing;
      await experiments.createExperiment({ ExperimentName: config.ExperimentName }, c.source);
    }
    await experiments.createTrial({ TrialName: trialName, ExperimentName: config.ExperimentName }, c.source);
  }
  await experiments.associate(c.name, trialName);
}

export interface JobOutcome {
  status: string;
  failureReason?: string;
  start?: Date;
  end?: Date;
  outputs?: Record<string, Artifact>;
}

export async function jobComponentEnded(experiments: Experiments, name: string, o: JobOutcome): Promise<void> {
  await experiments.patchTrialComponent(name, (d) => {
    d.Status = { PrimaryStatus: o.status, ...(o.failureReason ? { Message: o.failureReason } : {}) };
    if (o.start) d.StartTime = o.start;
    if (o.end) d.EndTime = o.end;
    if (o.outputs && Object.keys(o.outputs).length) d.OutputArtifacts = { ...d.OutputArtifacts, ...o.outputs };
  });
}
