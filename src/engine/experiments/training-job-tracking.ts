/**
 * Every training job becomes a trial component, as on SageMaker: "<job>-aws-training-job",
 * sourced from the job, with its hyperparameters, image, instance and input channels; when
 * the job ends, its status, times, model artifact and final metrics. With ExperimentConfig
 * the component joins the configured trial (created when absent); without, it stays
 * unassigned.
 */
import type { TrainingJobListener } from '../jobs/training-jobs.ts';
import type { TrainingJobDoc } from '../jobs/training-job.ts';
import type { Artifact } from './entities.ts';
import type { Experiments } from './experiments.ts';
import { jobComponentCreated, jobComponentEnded, parameterOf } from './job-components.ts';

export const trainingJobComponentName = (jobName: string) => `${jobName}-aws-training-job`;

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

export class TrainingJobTracking implements TrainingJobListener {
  constructor(private readonly experiments: Experiments) {}

  created(job: TrainingJobDoc): Promise<void> {
    return jobComponentCreated(this.experiments, {
      name: trainingJobComponentName(job.TrainingJobName),
      source: { SourceArn: job.TrainingJobArn, SourceType: 'SageMakerTrainingJob' },
      config: job.ExperimentConfig,
      parameters: {
        ...Object.fromEntries(Object.entries(job.HyperParameters ?? {}).map(([k, v]) => [k, parameterOf(v)])),
        'SageMaker.InstanceType': { StringValue: job.ResourceConfig.InstanceType ?? '' },
        'SageMaker.InstanceCount': { NumberValue: job.ResourceConfig.InstanceCount ?? 1 },
        'SageMaker.VolumeSizeInGB': { NumberValue: Number(job.ResourceConfig.VolumeSizeInGB ?? 30) },
      },
      inputs: inputsOf(job),
    });
  }

  async ended(job: TrainingJobDoc): Promise<void> {
    const name = trainingJobComponentName(job.TrainingJobName);
    const model = job.ModelArtifacts?.S3ModelArtifacts;
    await jobComponentEnded(this.experiments, name, {
      status: job.TrainingJobStatus,
      failureReason: job.FailureReason,
      start: job.TrainingStartTime,
      end: job.TrainingEndTime,
      outputs: model ? { 'SageMaker.ModelArtifact': { Value: model } } : {},
    });
    const at = job.TrainingEndTime ?? new Date();
    const metrics = (job.FinalMetricDataList ?? []).map((m) => ({ MetricName: m.MetricName, Value: m.Value, Timestamp: m.Timestamp ?? at }));
    for (let i = 0; i < metrics.length; i += 10) await this.experiments.putMetrics(name, metrics.slice(i, i + 10), job.TrainingJobArn);
  }
}
