/**
 * Lineage recorded as SageMaker records it, without the user asking: a training job's data
 * sets and image contribute to its trial component, which produces a model artifact; an
 * endpoint is a context that a model deployment (action) is associated with, and the model
 * artifact it serves contributes to that deployment. So from an endpoint, QueryLineage
 * (Ascendants) reaches the model, the training job and the S3 data it was trained on.
 */
import type { HostingModels } from '../hosting/models.ts';
import type { TrainingJobDoc } from '../jobs/training-job.ts';
import type { TrainingJobListener } from '../jobs/training-jobs.ts';
import type { Lineage } from './lineage.ts';

export class TrainingJobLineage implements TrainingJobListener {
  constructor(
    private readonly lineage: Lineage,
    /** The trial component standing for a job (experiment tracking creates it first). */
    private readonly componentArnOf: (job: TrainingJobDoc) => string,
  ) {}

  async created(job: TrainingJobDoc): Promise<void> {
    const component = this.componentArnOf(job);
    for (const channel of job.InputDataConfig ?? []) {
      const uri = channel.DataSource?.S3DataSource?.S3Uri;
      if (!uri) continue;
      const dataset = await this.lineage.artifactFor(uri, 'DataSet');
      await this.lineage.associate(dataset.arn, component, 'ContributedTo');
    }
    const image = job.AlgorithmSpecification.TrainingImage;
    if (image) await this.lineage.associate((await this.lineage.artifactFor(image, 'Image')).arn, component, 'ContributedTo');
  }

  async ended(job: TrainingJobDoc): Promise<void> {
    const model = job.ModelArtifacts?.S3ModelArtifacts;
    if (!model) return;
    await this.lineage.associate(this.componentArnOf(job), (await this.lineage.artifactFor(model, 'Model')).arn, 'Produced');
  }
}

export class EndpointLineage {
  constructor(
    private readonly lineage: Lineage,
    private readonly models: HostingModels,
  ) {}

  async created(endpoint: { EndpointName: string; EndpointArn: string }, configName: string): Promise<void> {
    const suffix = Date.now().toString(36);
    const context = await this.lineage.create('context', {
      name: `${endpoint.EndpointName.slice(0, 110)}-${suffix}`,
      Source: { SourceUri: endpoint.EndpointArn, SourceType: 'SageMakerEndpoint' },
      type: 'Endpoint',
    });
    const config = await this.models.describeEndpointConfig(configName);
    for (const variant of config.ProductionVariants) {
      const model = await this.models.describeModel(variant.ModelName);
      const action = await this.lineage.create('action', {
        name: `${variant.ModelName.slice(0, 90)}-${variant.VariantName.slice(0, 10)}-${suffix}`.replace(/[^a-zA-Z0-9-]/g, '-'),
        Source: { SourceUri: model.ModelArn, SourceType: 'SageMakerModel' },
        type: 'ModelDeployment',
        Status: 'Completed',
      });
      await this.lineage.associate(action.arn, context.arn, 'AssociatedWith');
      for (const c of [model.PrimaryContainer, ...(model.Containers ?? [])]) {
        if (!c) continue;
        if (c.ModelDataUrl) await this.lineage.associate((await this.lineage.artifactFor(c.ModelDataUrl, 'Model')).arn, action.arn, 'ContributedTo');
        if (c.Image) await this.lineage.associate((await this.lineage.artifactFor(c.Image, 'Image')).arn, action.arn, 'ContributedTo');
      }
    }
  }
}
