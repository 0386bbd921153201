/** SageMaker's batch transform operations. */
import type { TransformJobs } from '../../engine/transform/transform-jobs.ts';
import type { OperationInput } from '../types.ts';
import { listQuery } from './list-query.ts';
import type { SageMakerTagOperations } from './tags.ts';

export class SageMakerTransformOperations {
  constructor(
    private readonly transforms: TransformJobs,
    private readonly tags: SageMakerTagOperations,
  ) {}

  async CreateTransformJob(input: OperationInput) {
    const out = await this.transforms.create(input);
    if (input.Tags?.length) await this.tags.putTags(out.TransformJobArn, input.Tags);
    return out;
  }

  DescribeTransformJob(input: OperationInput) {
    return this.transforms.describe(input.TransformJobName);
  }

  ListTransformJobs(input: OperationInput) {
    return this.transforms.list(listQuery(input));
  }

  async StopTransformJob(input: OperationInput) {
    await this.transforms.stop(input.TransformJobName);
    return {};
  }
}
