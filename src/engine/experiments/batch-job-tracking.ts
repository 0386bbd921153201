/**
 * Transform and processing jobs become trial components too ("<job>-aws-transform-job",
 * "<job>-aws-processing-job"), with their settings as parameters, their inputs and outputs
 * as artifacts, and joining the trial their ExperimentConfig names, as on SageMaker.
 */
import type { JobListener } from '../jobs/job-listener.ts';
import type { ProcessingJobDoc } from '../jobs/processing-job.ts';
import type { TransformJobDoc } from '../transform/transform-job.ts';
import type { Artifact } from './entities.ts';
import type { Experiments } from './experiments.ts';
import { jobComponentCreated, jobComponentEnded, parameterOf } from './job-components.ts';

export const transformJobComponentName = (jobName: string) => `${jobName}-aws-transform-job`;
export const processingJobComponentName = (jobName: string) => `${jobName}-aws-processing-job`;

export class TransformJobTracking implements JobListener<TransformJobDoc> {
  constructor(private readonly experiments: Experiments) {}

  created(job: TransformJobDoc): Promise<void> {
    const input = job.TransformInput;
    return jobComponentCreated(this.experiments, {
      name: transformJobComponentName(job.TransformJobName),
      source: { SourceArn: job.TransformJobArn, SourceType: 'SageMakerTransformJob' },
      config: job.ExperimentConfig,
      parameters: {
        'SageMaker.InstanceType': { StringValue: job.TransformResources.InstanceType },
        'SageMaker.InstanceCount': { NumberValue: job.TransformResources.InstanceCount },
        'SageMaker.ModelName': { StringValue: job.ModelName },
        ...(job.BatchStrategy ? { BatchStrategy: parameterOf(job.BatchStrategy) } : {}),
        ...(job.MaxPayloadInMB !== undefined ? { MaxPayloadInMB: parameterOf(job.MaxPayloadInMB) } : {}),
        ...(job.MaxConcurrentTransforms !== undefined ? { MaxConcurrentTransforms: parameterOf(job.MaxConcurrentTransforms) } : {}),
      },
      inputs: { 'SageMaker.TransformInput': { Value: input.DataSource.S3DataSource.S3Uri, ...(input.ContentType ? { MediaType: input.ContentType } : {}) } } satisfies Record<string, Artifact>,
    });
  }

  ended(job: TransformJobDoc): Promise<void> {
    return jobComponentEnded(this.experiments, transformJobComponentName(job.TransformJobName), {
      status: job.TransformJobStatus,
      failureReason: job.FailureReason,
      start: job.TransformStartTime,
      end: job.TransformEndTime,
      outputs: job.TransformJobStatus === 'Completed' ? { 'SageMaker.TransformOutput': { Value: job.TransformOutput.S3OutputPath, ...(job.TransformOutput.Accept ? { MediaType: job.TransformOutput.Accept } : {}) } } : {},
    });
  }
}

export class ProcessingJobTracking implements JobListener<ProcessingJobDoc> {
  constructor(private readonly experiments: Experiments) {}

  created(job: ProcessingJobDoc): Promise<void> {
    const cluster = job.ProcessingResources.ClusterConfig;
    const inputs: Record<string, Artifact> = { 'SageMaker.ImageUri': { Value: job.AppSpecification.ImageUri } };
    for (const i of job.ProcessingInputs ?? []) {
      const uri = i.S3Input?.S3Uri;
      if (uri) inputs[i.InputName] = { Value: uri };
    }
    return jobComponentCreated(this.experiments, {
      name: processingJobComponentName(job.ProcessingJobName),
      source: { SourceArn: job.ProcessingJobArn, SourceType: 'SageMakerProcessingJob' },
      config: job.ExperimentConfig,
      parameters: {
        'SageMaker.InstanceType': { StringValue: cluster.InstanceType },
        'SageMaker.InstanceCount': { NumberValue: cluster.InstanceCount },
        'SageMaker.VolumeSizeInGB': { NumberValue: cluster.VolumeSizeInGB },
        ...Object.fromEntries(Object.entries(job.Environment ?? {}).map(([k, v]) => [k, parameterOf(v)])),
      },
      inputs,
    });
  }

  ended(job: ProcessingJobDoc): Promise<void> {
    const outputs: Record<string, Artifact> = {};
    if (job.ProcessingJobStatus === 'Completed') for (const o of job.ProcessingOutputConfig?.Outputs ?? []) if (o.S3Output?.S3Uri) outputs[o.OutputName] = { Value: o.S3Output.S3Uri };
    return jobComponentEnded(this.experiments, processingJobComponentName(job.ProcessingJobName), {
      status: job.ProcessingJobStatus,
      failureReason: job.FailureReason,
      start: job.ProcessingStartTime,
      end: job.ProcessingEndTime,
      outputs,
    });
  }
}
