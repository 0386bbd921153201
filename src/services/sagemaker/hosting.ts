/** SageMaker's real-time hosting operations: models, endpoint configurations, endpoints. */
import type { Endpoints } from '../../engine/hosting/endpoints.ts';
import type { HostingModels } from '../../engine/hosting/models.ts';
import type { OperationInput } from '../types.ts';
import { listQuery } from './list-query.ts';
import type { SageMakerTagOperations } from './tags.ts';

/** Describe documents keep Kiln's bookkeeping under `_kiln`; the wire never sees it. */
function publicDoc<T extends Record<string, unknown>>(doc: T): Record<string, unknown> {
  const { _kiln: _omit, ...rest } = doc;
  return rest;
}

export class SageMakerHostingOperations {
  constructor(
    private readonly models: HostingModels,
    private readonly endpoints: Endpoints,
    private readonly tags: SageMakerTagOperations,
  ) {}

  // ---- models
  async CreateModel(input: OperationInput) {
    const out = await this.models.createModel(input);
    if (input.Tags?.length) await this.tags.putTags(out.ModelArn, input.Tags);
    return out;
  }

  async DescribeModel(input: OperationInput) {
    return publicDoc(await this.models.describeModel(input.ModelName));
  }

  ListModels(input: OperationInput) {
    return this.models.listModels(listQuery(input));
  }

  async DeleteModel(input: OperationInput) {
    await this.models.deleteModel(input.ModelName);
    return {};
  }

  // ---- endpoint configurations
  async CreateEndpointConfig(input: OperationInput) {
    const out = await this.models.createEndpointConfig(input);
    if (input.Tags?.length) await this.tags.putTags(out.EndpointConfigArn, input.Tags);
    return out;
  }

  async DescribeEndpointConfig(input: OperationInput) {
    return publicDoc(await this.models.describeEndpointConfig(input.EndpointConfigName));
  }

  ListEndpointConfigs(input: OperationInput) {
    return this.models.listEndpointConfigs(listQuery(input));
  }

  async DeleteEndpointConfig(input: OperationInput) {
    await this.models.deleteEndpointConfig(input.EndpointConfigName);
    return {};
  }

  // ---- endpoints
  async CreateEndpoint(input: OperationInput) {
    const out = await this.endpoints.create(input.EndpointName, input.EndpointConfigName);
    if (input.Tags?.length) await this.tags.putTags(out.EndpointArn, input.Tags);
    return out;
  }

  DescribeEndpoint(input: OperationInput) {
    return this.endpoints.describe(input.EndpointName);
  }

  ListEndpoints(input: OperationInput) {
    return this.endpoints.list(listQuery(input));
  }

  UpdateEndpoint(input: OperationInput) {
    return this.endpoints.update(input.EndpointName, input.EndpointConfigName);
  }

  UpdateEndpointWeightsAndCapacities(input: OperationInput) {
    return this.endpoints.updateWeightsAndCapacities(input.EndpointName, input.DesiredWeightsAndCapacities ?? []);
  }

  async DeleteEndpoint(input: OperationInput) {
    await this.endpoints.delete(input.EndpointName);
    return {};
  }
}
