/** SageMaker's training-job operations. */
import type { TrainingJobs } from '../../engine/jobs/training-jobs.ts';
import type { OperationInput } from '../types.ts';
import { listQuery } from './list-query.ts';
import type { SageMakerTagOperations } from './tags.ts';

export class SageMakerTrainingOperations {
  constructor(
    private readonly training: TrainingJobs,
    private readonly tags: SageMakerTagOperations,
  ) {}

  async CreateTrainingJob(input: OperationInput) {
    const out = await this.training.create(input);
    if (input.Tags?.length) await this.tags.putTags(out.TrainingJobArn, input.Tags);
    return out;
  }

  DescribeTrainingJob(input: OperationInput) {
    return this.training.describe(input.TrainingJobName);
  }

  ListTrainingJobs(input: OperationInput) {
    return this.training.list(listQuery(input));
  }

  async StopTrainingJob(input: OperationInput) {
    await this.training.stop(input.TrainingJobName);
    return {};
  }
}
