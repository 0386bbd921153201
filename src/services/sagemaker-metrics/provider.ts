/** The SageMaker Metrics service: BatchPutMetrics into a trial component's time series. */
import type { Experiments } from '../../engine/experiments/experiments.ts';
import { AwsError } from '../../server/errors.ts';
import type { OperationInput } from '../types.ts';

/** SageMaker accepts at most this many points per call. */
export const MAX_POINTS_PER_CALL = 10;

export class SageMakerMetricsProvider {
  constructor(private readonly experiments: Experiments) {}

  async BatchPutMetrics(input: OperationInput) {
    const data = input.MetricData ?? [];
    // Enforced here as well as by the edge, whose botocore may predate this service.
    if (data.length < 1 || data.length > MAX_POINTS_PER_CALL) {
      throw new AwsError('ValidationException', `1 validation error detected: Value at 'metricData' failed to satisfy constraint: Member must have length between 1 and ${MAX_POINTS_PER_CALL}, but had ${data.length}.`);
    }
    const errors = await this.experiments.putMetrics(input.TrialComponentName, data);
    return errors.length ? { Errors: errors } : {};
  }
}
