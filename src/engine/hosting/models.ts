/**
 * SageMaker models and endpoint configurations: what an endpoint deploys. Both are stored
 * as their Describe documents; creating checks what SageMaker checks (the image is one Kiln
 * serves, the models a configuration names exist, variant names are unique).
 */
import { AwsError } from '../../server/errors.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository, type ListQuery } from '../../store/metadata/resources.ts';
import { listError } from '../list-error.ts';
import { parseS3Uri } from '../jobs/channels.ts';
import { frameworkLabel } from '../jobs/framework-images.ts';
import { resolveImage } from '../jobs/images.ts';
import { servingFramework } from './script-serving.ts';

export interface ContainerDefinition {
  Image?: string;
  ModelDataUrl?: string;
  Environment?: Record<string, string>;
  Mode?: 'SingleModel' | 'MultiModel';
  ContainerHostname?: string;
  [key: string]: unknown;
}

export interface ModelDoc extends Record<string, unknown> {
  ModelName: string;
  ModelArn: string;
  PrimaryContainer?: ContainerDefinition;
  Containers?: ContainerDefinition[];
  ExecutionRoleArn?: string;
  CreationTime: Date;
  EnableNetworkIsolation: boolean;
}

export interface ProductionVariant {
  VariantName: string;
  ModelName: string;
  InitialInstanceCount?: number;
  InstanceType?: string;
  InitialVariantWeight?: number;
  ServerlessConfig?: { MemorySizeInMB: number; MaxConcurrency: number; ProvisionedConcurrency?: number };
  [key: string]: unknown;
}

export interface DataCaptureConfig {
  EnableCapture?: boolean;
  InitialSamplingPercentage: number;
  DestinationS3Uri: string;
  KmsKeyId?: string;
  CaptureOptions: { CaptureMode: 'Input' | 'Output' | 'InputAndOutput' }[];
  CaptureContentTypeHeader?: { CsvContentTypes?: string[]; JsonContentTypes?: string[] };
}

export interface EndpointConfigDoc extends Record<string, unknown> {
  EndpointConfigName: string;
  EndpointConfigArn: string;
  ProductionVariants: ProductionVariant[];
  DataCaptureConfig?: DataCaptureConfig;
  KmsKeyId?: string;
  CreationTime: Date;
}

const MAX_INSTANCES_PER_VARIANT = 16;

/** The container a model serves with: PrimaryContainer, or the first of Containers. */
export function primaryContainer(model: ModelDoc): ContainerDefinition {
  return model.PrimaryContainer ?? model.Containers?.[0] ?? {};
}

export class HostingModels {
  readonly models: ResourceRepository<ModelDoc>;
  readonly configs: ResourceRepository<EndpointConfigDoc>;

  constructor(
    db: MetadataDb,
    private readonly account: { region: string; accountId: string },
  ) {
    this.models = new ResourceRepository<ModelDoc>(db, 'model', (d) => ({
      name: d.ModelName,
      arn: d.ModelArn,
      creationTime: d.CreationTime,
      lastModifiedTime: d.CreationTime,
    }));
    this.configs = new ResourceRepository<EndpointConfigDoc>(db, 'endpoint-config', (d) => ({
      name: d.EndpointConfigName,
      arn: d.EndpointConfigArn,
      creationTime: d.CreationTime,
      lastModifiedTime: d.CreationTime,
    }));
  }

  arn(kind: 'model' | 'endpoint-config' | 'endpoint', name: string): string {
    return `arn:aws:sagemaker:${this.account.region}:${this.account.accountId}:${kind}/${name.toLowerCase()}`;
  }

  // ---- models ---------------------------------------------------------------------------

  async createModel(input: Record<string, any>): Promise<{ ModelArn: string }> {
    const name: string = input.ModelName;
    const containers: ContainerDefinition[] = input.PrimaryContainer ? [input.PrimaryContainer] : (input.Containers ?? []);
    if (!containers.length) throw new AwsError('ValidationException', 'Either PrimaryContainer or Containers must be specified.');
    if (input.PrimaryContainer && input.Containers?.length) {
      throw new AwsError('ValidationException', 'PrimaryContainer and Containers cannot both be specified.');
    }
    if (containers.length > 1) {
      throw new AwsError('ValidationException', `Kiln serves one container per model; this model has ${containers.length} (inference pipelines are not supported).`);
    }
    const c = containers[0]!;
    if (!c.Image) throw new AwsError('ValidationException', 'Image must be specified in the container definition.');
    const image = resolveImage(c.Image);
    if (image.kind === 'unknown') throw new AwsError('ValidationException', image.reason);
    if (c.ModelDataUrl !== undefined && !parseS3Uri(c.ModelDataUrl)) {
      throw new AwsError('ValidationException', `ModelDataUrl '${c.ModelDataUrl}' is not an S3 URI.`);
    }
    const framework = servingFramework(image, c.Environment);
    if (c.Mode === 'MultiModel') {
      if (framework) throw new AwsError('ValidationException', `Kiln serves multi-model endpoints with the built-in XGBoost container only, not with the ${frameworkLabel(framework)} image.`);
      if (!c.ModelDataUrl?.endsWith('/')) {
        throw new AwsError('ValidationException', `A MultiModel container needs ModelDataUrl to be an S3 prefix ending in '/', not '${c.ModelDataUrl ?? ''}'.`);
      }
    } else if (!c.ModelDataUrl && !framework) {
      throw new AwsError('ValidationException', `The built-in XGBoost container needs ModelDataUrl: the model.tar.gz to serve.`);
    }
    const arn = this.arn('model', name);
    const doc: ModelDoc = {
      ModelName: name,
      ModelArn: arn,
      ...(input.PrimaryContainer ? { PrimaryContainer: { Mode: 'SingleModel', ...input.PrimaryContainer } } : {}),
      ...(input.Containers ? { Containers: input.Containers.map((x: ContainerDefinition) => ({ Mode: 'SingleModel', ...x })) } : {}),
      ...(input.ExecutionRoleArn ? { ExecutionRoleArn: input.ExecutionRoleArn } : {}),
      ...(input.VpcConfig ? { VpcConfig: input.VpcConfig } : {}),
      ...(input.InferenceExecutionConfig ? { InferenceExecutionConfig: input.InferenceExecutionConfig } : {}),
      CreationTime: new Date(),
      EnableNetworkIsolation: input.EnableNetworkIsolation ?? false,
    };
    if (!(await this.models.insert(doc))) throw new AwsError('ValidationException', `Cannot create already existing model "${arn}".`);
    return { ModelArn: arn };
  }

  async describeModel(name: string): Promise<ModelDoc> {
    const doc = await this.models.get(name);
    if (!doc) throw new AwsError('ValidationException', `Could not find model "${name}".`);
    return doc;
  }

  async listModels(query: ListQuery) {
    const { items, nextToken } = await this.models.list(query).catch(listError);
    return {
      Models: items.map((d) => ({ ModelName: d.ModelName, ModelArn: d.ModelArn, CreationTime: d.CreationTime })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async deleteModel(name: string): Promise<string> {
    const arn = this.arn('model', name);
    if (!(await this.models.delete(name))) throw new AwsError('ValidationException', `Could not find model "${arn}".`);
    return arn;
  }

  // ---- endpoint configurations ------------------------------------------------------------

  async createEndpointConfig(input: Record<string, any>): Promise<{ EndpointConfigArn: string }> {
    const name: string = input.EndpointConfigName;
    const variants: ProductionVariant[] = input.ProductionVariants ?? [];
    const names = new Set<string>();
    for (const v of variants) {
      if (names.has(v.VariantName)) throw new AwsError('ValidationException', `The variant name(s) [${v.VariantName}] is/are repeated in the endpoint config.`);
      names.add(v.VariantName);
      if (!(await this.models.get(v.ModelName))) throw new AwsError('ValidationException', `Could not find model "${v.ModelName}".`);
      if (v.ServerlessConfig) {
        if (v.InstanceType || v.InitialInstanceCount !== undefined) {
          throw new AwsError('ValidationException', `Variant ${v.VariantName}: ServerlessConfig cannot be combined with InstanceType or InitialInstanceCount.`);
        }
      } else {
        if (!v.InstanceType) throw new AwsError('ValidationException', `Variant ${v.VariantName}: InstanceType is required when ServerlessConfig is not specified.`);
        if (v.InitialInstanceCount === undefined) throw new AwsError('ValidationException', `Variant ${v.VariantName}: InitialInstanceCount is required when ServerlessConfig is not specified.`);
        if (v.InitialInstanceCount > MAX_INSTANCES_PER_VARIANT) {
          throw new AwsError('ResourceLimitExceeded', `The account-level service limit '${v.InstanceType} for endpoint usage' is ${MAX_INSTANCES_PER_VARIANT} Instances, with current utilization of 0 Instances and a request delta of ${v.InitialInstanceCount} Instances. Please use AWS Service Quotas to request an increase for this quota.`);
        }
      }
    }
    const capture: DataCaptureConfig | undefined = input.DataCaptureConfig;
    if (capture && !parseS3Uri(capture.DestinationS3Uri)) {
      throw new AwsError('ValidationException', `DataCaptureConfig.DestinationS3Uri '${capture.DestinationS3Uri}' is not an S3 URI.`);
    }
    const arn = this.arn('endpoint-config', name);
    const doc: EndpointConfigDoc = {
      EndpointConfigName: name,
      EndpointConfigArn: arn,
      ProductionVariants: variants.map((v) => ({ ...v, ...(v.ServerlessConfig ? {} : { InitialVariantWeight: v.InitialVariantWeight ?? 1 }) })),
      ...(capture ? { DataCaptureConfig: { EnableCapture: capture.EnableCapture ?? true, ...capture } } : {}),
      ...(input.KmsKeyId ? { KmsKeyId: input.KmsKeyId } : {}),
      ...(input.AsyncInferenceConfig ? { AsyncInferenceConfig: input.AsyncInferenceConfig } : {}),
      CreationTime: new Date(),
    };
    if (!(await this.configs.insert(doc))) throw new AwsError('ValidationException', `Cannot create already existing endpoint configuration "${arn}".`);
    return { EndpointConfigArn: arn };
  }

  async describeEndpointConfig(name: string): Promise<EndpointConfigDoc> {
    const doc = await this.configs.get(name);
    if (!doc) throw new AwsError('ValidationException', `Could not find endpoint configuration "${name}".`);
    return doc;
  }

  async listEndpointConfigs(query: ListQuery) {
    const { items, nextToken } = await this.configs.list(query).catch(listError);
    return {
      EndpointConfigs: items.map((d) => ({ EndpointConfigName: d.EndpointConfigName, EndpointConfigArn: d.EndpointConfigArn, CreationTime: d.CreationTime })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async deleteEndpointConfig(name: string): Promise<string> {
    const arn = this.arn('endpoint-config', name);
    if (!(await this.configs.delete(name))) throw new AwsError('ValidationException', `Could not find endpoint configuration "${arn}".`);
    return arn;
  }
}
