/** SageMaker's processing-job operations. */
import type { ProcessingJobs } from '../../engine/jobs/processing-jobs.ts';
import type { OperationInput } from '../types.ts';
import { listQuery } from './list-query.ts';
import type { SageMakerTagOperations } from './tags.ts';

export class SageMakerProcessingOperations {
  constructor(
    private readonly processing: ProcessingJobs,
    private readonly tags: SageMakerTagOperations,
  ) {}

  async CreateProcessingJob(input: OperationInput) {
    const out = await this.processing.create(input);
    if (input.Tags?.length) await this.tags.putTags(out.ProcessingJobArn, input.Tags);
    return out;
  }

  DescribeProcessingJob(input: OperationInput) {
    return this.processing.describe(input.ProcessingJobName);
  }

  ListProcessingJobs(input: OperationInput) {
    return this.processing.list(listQuery(input));
  }

  async StopProcessingJob(input: OperationInput) {
    await this.processing.stop(input.ProcessingJobName);
    return {};
  }
}
