/**
 * Every training job becomes a trial component, as on SageMaker: "<job>-aws-training-job",
 * sourced from the job, with its hyperparameters, image, instance and input channels; when
 * the job ends, its status, times, model artifact and final metrics. With ExperimentConfig
 * the component joins the configured trial (created when absent); without, it stays
 * unassigned.
 */
import { AwsError } from '../../server/errors.ts';
import type { TrainingJobListener } from '../jobs/training-jobs.ts';
import type { TrainingJobDoc } from '../jobs/training-job.ts';
import type { Artifact, ParameterValue } from './entities.ts';
import type { Experiments } from './experiments.ts';

export const trainingJobComponentName = (jobName: string) => `${jobName}-aws-training-job`;

function parameterOf(value: string): ParameterValue {
  const n = Number(value);
  return value.trim() !== '' && Number.isFinite(n) ? { NumberValue: n } : { StringValue: value };
}

function inputsOf(job: TrainingJobDoc): Record<string, Artifact> {
  const out: Record<string, Artifact> = {};
  const image = job.AlgorithmSpecification.TrainingImage;
  if (image) out['SageMaker.ImageUri'] = { Value: image };
  for (const c of job.InputDataConfig ?? []) {
    const uri = c.DataSource?.S3DataSource?.S3Uri ?? c.DataSource?.FileSystemDataSource?.DirectoryPath;
    if (uri) out[c.ChannelName] = { Value: uri, ...(c.ContentType ? { MediaType: c.ContentType } : {}) };
  }
  return out;
}

const isNotFound = (e: unknown) => e instanceof AwsError && e.code === 'ResourceNotFound';

export class TrainingJobTracking implements TrainingJobListener {
  constructor(private readonly experiments: Experiments) {}

  async created(job: TrainingJobDoc): Promise<void> {
    const config = job.ExperimentConfig ?? {};
    const name = trainingJobComponentName(job.TrainingJobName);
    const source = { SourceArn: job.TrainingJobArn, SourceType: 'SageMakerTrainingJob' };
    await this.experiments.createTrialComponent(
      {
        TrialComponentName: name,
        DisplayName: config.TrialComponentDisplayName ?? name,
        Status: { PrimaryStatus: 'InProgress' },
        Parameters: {
          ...Object.fromEntries(Object.entries(job.HyperParameters ?? {}).map(([k, v]) => [k, parameterOf(v)])),
          'SageMaker.InstanceType': { StringValue: job.ResourceConfig.InstanceType ?? '' },
          'SageMaker.InstanceCount': { NumberValue: job.ResourceConfig.InstanceCount ?? 1 },
          'SageMaker.VolumeSizeInGB': { NumberValue: Number(job.ResourceConfig.VolumeSizeInGB ?? 30) },
        },
        InputArtifacts: inputsOf(job),
      },
      { Source: source, ...(config.RunName ? { RunName: config.RunName } : {}) },
    );
    if (!config.ExperimentName && !config.TrialName) return;
    const trialName = config.TrialName ?? name;
    try {
      await this.experiments.describeTrial(trialName);
    } catch (e) {
      if (!isNotFound(e) || !config.ExperimentName) throw e;
      try {
        await this.experiments.describeExperiment(config.ExperimentName);
      } catch (missing) {
        if (!isNotFound(missing)) throw missing;
        await this.experiments.createExperiment({ ExperimentName: config.ExperimentName }, source);
      }
      await this.experiments.createTrial({ TrialName: trialName, ExperimentName: config.ExperimentName }, source);
    }
    await this.experiments.associate(name, trialName);
  }

  async ended(job: TrainingJobDoc): Promise<void> {
    const name = trainingJobComponentName(job.TrainingJobName);
    const model = job.ModelArtifacts?.S3ModelArtifacts;
    await this.experiments.patchTrialComponent(name, (d) => {
      d.Status = { PrimaryStatus: job.TrainingJobStatus, ...(job.FailureReason ? { Message: job.FailureReason } : {}) };
      if (job.TrainingStartTime) d.StartTime = job.TrainingStartTime;
      if (job.TrainingEndTime) d.EndTime = job.TrainingEndTime;
      if (model) d.OutputArtifacts = { ...d.OutputArtifacts, 'SageMaker.ModelArtifact': { Value: model } };
    });
    const at = job.TrainingEndTime ?? new Date();
    const metrics = (job.FinalMetricDataList ?? []).map((m) => ({ MetricName: m.MetricName, Value: m.Value, Timestamp: m.Timestamp ?? at }));
    for (let i = 0; i < metrics.length; i += 10) await this.experiments.putMetrics(name, metrics.slice(i, i + 10), job.TrainingJobArn);
  }
}
