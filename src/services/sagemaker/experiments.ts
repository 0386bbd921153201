/** SageMaker's experiment operations: experiments, trials, trial components and their associations. */
import type { Experiments } from '../../engine/experiments/experiments.ts';
import type { OperationInput } from '../types.ts';
import type { SageMakerTagOperations } from './tags.ts';

export class SageMakerExperimentOperations {
  constructor(
    private readonly experiments: Experiments,
    private readonly tags: SageMakerTagOperations,
  ) {}

  // ---- experiments
  async CreateExperiment(input: OperationInput) {
    const out = await this.experiments.createExperiment(input as never);
    if (input.Tags?.length) await this.tags.putTags(out.ExperimentArn, input.Tags);
    return out;
  }

  DescribeExperiment(input: OperationInput) {
    return this.experiments.describeExperiment(input.ExperimentName);
  }

  ListExperiments(input: OperationInput) {
    return this.experiments.listExperiments(input);
  }

  UpdateExperiment(input: OperationInput) {
    return this.experiments.updateExperiment(input as never);
  }

  DeleteExperiment(input: OperationInput) {
    return this.experiments.deleteExperiment(input.ExperimentName);
  }

  // ---- trials
  async CreateTrial(input: OperationInput) {
    const out = await this.experiments.createTrial(input as never);
    if (input.Tags?.length) await this.tags.putTags(out.TrialArn, input.Tags);
    return out;
  }

  DescribeTrial(input: OperationInput) {
    return this.experiments.describeTrial(input.TrialName);
  }

  ListTrials(input: OperationInput) {
    return this.experiments.listTrials(input);
  }

  UpdateTrial(input: OperationInput) {
    return this.experiments.updateTrial(input as never);
  }

  DeleteTrial(input: OperationInput) {
    return this.experiments.deleteTrial(input.TrialName);
  }

  // ---- trial components
  async CreateTrialComponent(input: OperationInput) {
    const out = await this.experiments.createTrialComponent(input as never);
    if (input.Tags?.length) await this.tags.putTags(out.TrialComponentArn, input.Tags);
    return out;
  }

  async DescribeTrialComponent(input: OperationInput) {
    const { doc, metrics } = await this.experiments.describeTrialComponent(input.TrialComponentName);
    const { SourceDetail: _detail, RunName: _run, ...describe } = doc;
    return { ...describe, Metrics: metrics };
  }

  ListTrialComponents(input: OperationInput) {
    return this.experiments.listTrialComponents(input);
  }

  UpdateTrialComponent(input: OperationInput) {
    return this.experiments.updateTrialComponent(input as never);
  }

  DeleteTrialComponent(input: OperationInput) {
    return this.experiments.deleteTrialComponent(input.TrialComponentName);
  }

  AssociateTrialComponent(input: OperationInput) {
    return this.experiments.associate(input.TrialComponentName, input.TrialName);
  }

  DisassociateTrialComponent(input: OperationInput) {
    return this.experiments.disassociate(input.TrialComponentName, input.TrialName);
  }
}
