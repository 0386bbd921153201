/**
 * Real-time endpoints: SageMaker's status machine (Creating → InService, Updating →
 * InService, Deleting, Failed), the running deployment of each endpoint (one worker pool per
 * production variant), the routing of invocations by variant weight, and the restart of
 * endpoints a previous server had running.
 *
 * What an endpoint runs is snapshotted into its document when it is deployed, so it keeps
 * serving (and comes back after a restart) even when its model or configuration is deleted,
 * as on SageMaker.
 */
import path from 'node:path';
import { AwsError } from '../../server/errors.ts';
import type { Logger } from '../../server/logger.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository, type ListQuery } from '../../store/metadata/resources.ts';
import { listError } from '../list-error.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { LogSink } from '../jobs/job-logs.ts';
import { resolveImage } from '../jobs/images.ts';
import { instanceType, memoryLimitBytes } from '../jobs/instance-types.ts';
import { parseS3Uri } from '../jobs/channels.ts';
import { fetchModelArtifact, ModelArtifactError } from '../models/model-artifacts.ts';
import { DataCapture } from './data-capture.ts';
import { emptyModelDir, scriptServingWorker, servingFramework } from './script-serving.ts';
import { primaryContainer, type DataCaptureConfig, type EndpointConfigDoc, type HostingModels } from './models.ts';
import { DEFAULT_READY_WAIT_MS, InstanceFailure, VariantPool, type WorkerReply } from './variant-pool.ts';

export const ENDPOINT_LOG_GROUP_PREFIX = '/aws/sagemaker/Endpoints';

/** What one variant runs, fixed when the endpoint is deployed. */
interface VariantSpec {
  VariantName: string;
  ModelName: string;
  Image: string;
  ModelDataUrl: string;
  Mode: 'SingleModel' | 'MultiModel';
  Environment?: Record<string, string>;
  InstanceType?: string;
  InstanceCount: number;
  Weight: number;
  ServerlessConfig?: Record<string, unknown>;
}

interface DeploymentSpec {
  EndpointConfigName: string;
  Variants: VariantSpec[];
  DataCaptureConfig?: DataCaptureConfig;
  ResolutionTime: Date;
}

export interface EndpointDoc extends Record<string, unknown> {
  EndpointName: string;
  EndpointArn: string;
  EndpointConfigName: string;
  EndpointStatus: 'Creating' | 'InService' | 'Updating' | 'Deleting' | 'Failed' | 'SystemUpdating' | 'RollingBack' | 'OutOfService';
  FailureReason?: string;
  CreationTime: Date;
  LastModifiedTime: Date;
  _kiln: {
    /** What runs now (absent until the first deployment succeeds). */
    deployed?: DeploymentSpec;
    /** What an UpdateEndpoint in progress will switch to. */
    pending?: DeploymentSpec;
  };
}

interface LiveVariant {
  spec: VariantSpec;
  pool: VariantPool;
  /** Multi-model: TargetModel → unpacked folder, most recently used last. */
  targets?: Map<string, string>;
  /** Multi-model: targets being fetched and unpacked, which later requests wait on rather than fetch again. */
  loading?: Map<string, Promise<string>>;
  /** Invocations being answered now (a serverless variant refuses more than MaxConcurrency). */
  inflight: number;
}

/** A serverless variant's memory, as the V8 heap limit of its worker. */
function serverlessMemoryMb(config: Record<string, unknown> | undefined): number | undefined {
  const mb = Number(config?.MemorySizeInMB);
  return Number.isFinite(mb) && mb > 0 ? mb : undefined;
}

function serverlessConcurrency(config: Record<string, unknown> | undefined): number | undefined {
  const n = Number(config?.MaxConcurrency);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A running deployment: variant pools, weights and data capture. */
class Deployment {
  cumulative: number[] = [];
  total = 0;

  constructor(
    readonly spec: DeploymentSpec,
    readonly variants: LiveVariant[],
    readonly capture: DataCapture | undefined,
  ) {
    this.reweigh();
  }

  reweigh(): void {
    let sum = 0;
    this.cumulative = this.variants.map((v) => (sum += Math.max(0, v.spec.Weight)));
    this.total = sum;
  }

  pick(): LiveVariant | undefined {
    if (this.variants.length === 1) return this.variants[0];
    if (this.total <= 0) return undefined;
    const r = Math.random() * this.total;
    for (let i = 0; i < this.cumulative.length; i++) if (r < this.cumulative[i]!) return this.variants[i];
    return this.variants[this.variants.length - 1];
  }

  async stop(drain: boolean): Promise<void> {
    await Promise.all(this.variants.map((v) => (drain ? v.pool.drain() : v.pool.stop())));
    await this.capture?.close();
  }
}

export interface InvokeInput {
  EndpointName: string;
  Body: Buffer;
  ContentType?: string;
  Accept?: string;
  CustomAttributes?: string;
  TargetModel?: string;
  TargetVariant?: string;
  InferenceId?: string;
}

export interface InvokeOutput {
  Body: Buffer;
  ContentType?: string;
  InvokedProductionVariant: string;
  CustomAttributes?: string;
}

export interface InvocationCounts {
  Invocations: number;
  Invocation4XXErrors: number;
  Invocation5XXErrors: number;
}

export interface EndpointsDeps {
  db: MetadataDb;
  objects: ObjectStore;
  models: HostingModels;
  logs: LogSink;
  dataDir: string;
  region: string;
  accountId: string;
  log: Logger;
  /** Invocation timeout (SageMaker: 60 s). */
  invocationTimeoutMs?: number;
  /** Models kept loaded per multi-model instance. */
  modelCacheSize?: number;
  /** How long an invocation waits for a starting instance or a loading target model (ModelNotReadyException after). */
  modelReadyWaitMs?: number;
  /** Told when an endpoint is created (lineage). */
  listener?: { created(endpoint: { EndpointName: string; EndpointArn: string }, configName: string): Promise<void> };
}

const MAX_TARGETS_REMEMBERED = 1024;
const notFound = (name: string) => new AwsError('ValidationException', `Could not find endpoint "${name}".`);

export class Endpoints {
  readonly repo: ResourceRepository<EndpointDoc>;
  private readonly live = new Map<string, Deployment>();
  /** Per endpoint and variant, since this server started: CloudWatch's Invocations and error counts. */
  private readonly counts = new Map<string, Map<string, InvocationCounts>>();
  /** Endpoints whose deployment is being (re)started: invocations wait for it. */
  private readonly starting = new Map<string, Promise<void>>();
  private readonly tasks = new Set<Promise<void>>();
  private closing = false;

  constructor(private readonly deps: EndpointsDeps) {
    this.repo = new ResourceRepository<EndpointDoc>(deps.db, 'endpoint', (d) => ({
      name: d.EndpointName,
      arn: d.EndpointArn,
      status: d.EndpointStatus,
      creationTime: d.CreationTime,
      lastModifiedTime: d.LastModifiedTime,
    }));
  }

  logGroup(name: string): string {
    return `${ENDPOINT_LOG_GROUP_PREFIX}/${name}`;
  }

  // ---- control plane ---------------------------------------------------------------------

  async create(name: string, configName: string): Promise<{ EndpointArn: string }> {
    const arn = this.deps.models.arn('endpoint', name);
    if (await this.repo.get(name)) throw new AwsError('ValidationException', `Cannot create already existing endpoint "${arn}".`);
    const config = await this.deps.models.describeEndpointConfig(configName);
    const spec = await this.specFor(config);
    const now = new Date();
    const doc: EndpointDoc = {
      EndpointName: name,
      EndpointArn: arn,
      EndpointConfigName: configName,
      EndpointStatus: 'Creating',
      CreationTime: now,
      LastModifiedTime: now,
      _kiln: { pending: spec },
    };
    if (!(await this.repo.insert(doc))) throw new AwsError('ValidationException', `Cannot create already existing endpoint "${arn}".`);
    await this.deps.listener?.created(doc, configName).catch((e) => this.deps.log.error('endpoint listener failed', { endpoint: name, error: String((e as Error)?.stack ?? e) }));
    this.background(name, () => this.runCreate(name));
    return { EndpointArn: arn };
  }

  async update(name: string, configName: string): Promise<{ EndpointArn: string }> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    if (doc.EndpointStatus !== 'InService') {
      throw new AwsError('ValidationException', `Cannot update in-progress endpoint "${doc.EndpointArn}".`);
    }
    const config = await this.deps.models.describeEndpointConfig(configName);
    const spec = await this.specFor(config);
    const updated = await this.repo.update(name, (d) => {
      if (d.EndpointStatus !== 'InService') return undefined;
      d.EndpointStatus = 'Updating';
      d.LastModifiedTime = new Date();
      delete d.FailureReason;
      d._kiln.pending = spec;
      return d;
    });
    if (!updated || updated._kiln.pending !== spec) {
      throw new AwsError('ValidationException', `Cannot update in-progress endpoint "${doc.EndpointArn}".`);
    }
    this.background(name, () => this.runUpdate(name));
    return { EndpointArn: doc.EndpointArn };
  }

  async updateWeightsAndCapacities(name: string, desired: { VariantName: string; DesiredWeight?: number; DesiredInstanceCount?: number }[]): Promise<{ EndpointArn: string }> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    if (doc.EndpointStatus !== 'InService') {
      throw new AwsError('ValidationException', `Cannot update in-progress endpoint "${doc.EndpointArn}".`);
    }
    const known = new Set(doc._kiln.deployed?.Variants.map((v) => v.VariantName));
    const missing = desired.filter((d) => !known.has(d.VariantName)).map((d) => d.VariantName);
    if (missing.length) throw new AwsError('ValidationException', `The variant(s) "[${missing.join(', ')}]" is/are not present in the endpoint "${doc.EndpointArn}".`);
    for (const d of desired) {
      if (d.DesiredInstanceCount !== undefined && d.DesiredInstanceCount > 16) {
        throw new AwsError('ResourceLimitExceeded', `Kiln runs at most 16 instances per variant; ${d.VariantName} asked for ${d.DesiredInstanceCount}.`);
      }
    }
    await this.repo.update(name, (d) => {
      d.EndpointStatus = 'Updating';
      d.LastModifiedTime = new Date();
      return d;
    });
    this.background(name, async () => {
      const deployment = this.live.get(name);
      try {
        for (const d of desired) {
          const variant = deployment?.variants.find((v) => v.spec.VariantName === d.VariantName);
          if (d.DesiredWeight !== undefined && variant) variant.spec.Weight = d.DesiredWeight;
          if (d.DesiredInstanceCount !== undefined && variant) {
            variant.spec.InstanceCount = d.DesiredInstanceCount;
            await variant.pool.resize(d.DesiredInstanceCount);
          }
        }
        deployment?.reweigh();
        await this.repo.update(name, (doc) => {
          for (const d of desired) {
            const v = doc._kiln.deployed?.Variants.find((x) => x.VariantName === d.VariantName);
            if (!v) continue;
            if (d.DesiredWeight !== undefined) v.Weight = d.DesiredWeight;
            if (d.DesiredInstanceCount !== undefined) v.InstanceCount = d.DesiredInstanceCount;
          }
          doc.EndpointStatus = 'InService';
          doc.LastModifiedTime = new Date();
          return doc;
        });
      } catch (e) {
        await this.repo.update(name, (doc) => {
          doc.EndpointStatus = 'InService';
          doc.FailureReason = `Kiln could not apply the new weights and capacities: ${(e as Error).message}`;
          doc.LastModifiedTime = new Date();
          return doc;
        });
      }
    });
    return { EndpointArn: doc.EndpointArn };
  }

  async delete(name: string): Promise<string> {
    const doc = await this.repo.update(name, (d) => {
      d.EndpointStatus = 'Deleting';
      d.LastModifiedTime = new Date();
      return d;
    });
    if (!doc) throw notFound(name);
    this.background(name, () => this.runDelete(name));
    return doc.EndpointArn;
  }

  async describe(name: string): Promise<Record<string, unknown>> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    const deployed = doc._kiln.deployed;
    const live = this.live.get(name);
    const out: Record<string, unknown> = {
      EndpointName: doc.EndpointName,
      EndpointArn: doc.EndpointArn,
      EndpointConfigName: doc.EndpointConfigName,
      EndpointStatus: doc.EndpointStatus,
      ...(doc.FailureReason ? { FailureReason: doc.FailureReason } : {}),
      CreationTime: doc.CreationTime,
      LastModifiedTime: doc.LastModifiedTime,
    };
    if (deployed) {
      out.ProductionVariants = deployed.Variants.map((v) => {
        const pool = live?.variants.find((x) => x.spec.VariantName === v.VariantName)?.pool;
        const current = pool ? Math.min(pool.readyCount, v.InstanceCount) : 0;
        return {
          VariantName: v.VariantName,
          DeployedImages: [{ SpecifiedImage: v.Image, ResolvedImage: v.Image, ResolutionTime: deployed.ResolutionTime }],
          CurrentWeight: v.Weight,
          DesiredWeight: v.Weight,
          ...(v.ServerlessConfig
            ? { CurrentServerlessConfig: v.ServerlessConfig, DesiredServerlessConfig: v.ServerlessConfig }
            : { CurrentInstanceCount: current, DesiredInstanceCount: v.InstanceCount }),
        };
      });
      const capture = deployed.DataCaptureConfig;
      if (capture) {
        out.DataCaptureConfig = {
          EnableCapture: capture.EnableCapture !== false,
          CaptureStatus: capture.EnableCapture !== false ? 'Started' : 'Stopped',
          CurrentSamplingPercentage: capture.InitialSamplingPercentage,
          DestinationS3Uri: capture.DestinationS3Uri,
          ...(capture.KmsKeyId ? { KmsKeyId: capture.KmsKeyId } : {}),
        };
      }
    }
    if (doc.EndpointStatus === 'Updating' && doc._kiln.pending) {
      out.PendingDeploymentSummary = {
        EndpointConfigName: doc._kiln.pending.EndpointConfigName,
        ProductionVariants: doc._kiln.pending.Variants.map((v) => ({
          VariantName: v.VariantName,
          DeployedImages: [{ SpecifiedImage: v.Image, ResolvedImage: v.Image, ResolutionTime: doc._kiln.pending!.ResolutionTime }],
          CurrentWeight: v.Weight,
          DesiredWeight: v.Weight,
          DesiredInstanceCount: v.InstanceCount,
          VariantStatus: [{ Status: 'Creating', StartTime: doc.LastModifiedTime }],
        })),
        StartTime: doc.LastModifiedTime,
      };
    }
    return out;
  }

  async list(query: ListQuery) {
    const { items, nextToken } = await this.repo.list(query).catch(listError);
    return {
      Endpoints: items.map((d) => ({
        EndpointName: d.EndpointName,
        EndpointArn: d.EndpointArn,
        CreationTime: d.CreationTime,
        LastModifiedTime: d.LastModifiedTime,
        EndpointStatus: d.EndpointStatus,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  // ---- runtime ----------------------------------------------------------------------------

  async invoke(input: InvokeInput, requestId: string): Promise<InvokeOutput> {
    let deployment = this.live.get(input.EndpointName);
    if (!deployment) {
      const starting = this.starting.get(input.EndpointName);
      if (starting) {
        await starting.catch(() => undefined);
        deployment = this.live.get(input.EndpointName);
      }
      if (!deployment) {
        throw new AwsError('ValidationError', `Endpoint ${input.EndpointName} of account ${this.deps.accountId} not found.`);
      }
    }
    if (input.Body.length > 6 * 1024 * 1024) throw new AwsError('ValidationError', `Request ${requestId} has oversize body.`);
    for (let attempt = 0; ; attempt++) {
      const variant = this.route(deployment, input);
      const header: { ct?: string; accept?: string; dir?: string; target?: string } = { ct: input.ContentType, accept: input.Accept };
      if (variant.spec.Mode === 'MultiModel') {
        header.dir = await this.targetModel(variant, input.TargetModel);
        header.target = input.TargetModel;
      } else if (input.TargetModel !== undefined) {
        throw new AwsError('ValidationError', `Endpoint ${input.EndpointName} is not a multi-model endpoint and does not support target model header.`);
      }
      const limit = serverlessConcurrency(variant.spec.ServerlessConfig);
      if (limit !== undefined && variant.inflight >= limit) {
        throw new AwsError('ThrottlingException', `Rate exceeded: variant ${variant.spec.VariantName} of serverless endpoint ${input.EndpointName} is already handling its MaxConcurrency of ${limit} invocations.`, 400);
      }
      let reply: WorkerReply;
      variant.inflight++;
      try {
        reply = await variant.pool.invoke(header, input.Body);
        this.count(input.EndpointName, variant.spec.VariantName, reply.status);
      } catch (e) {
        if (e instanceof InstanceFailure && e.kind !== 'stopped') this.count(input.EndpointName, variant.spec.VariantName, 500);
        if (e instanceof InstanceFailure && e.kind === 'stopped' && attempt < 2) {
          // The deployment was switched (UpdateEndpoint) while this request was routed: retry on the new one.
          const next = this.live.get(input.EndpointName);
          if (next) {
            deployment = next;
            continue;
          }
          throw new AwsError('ServiceUnavailable', 'The endpoint is being updated or deleted; try your call again.', 503);
        }
        if (e instanceof InstanceFailure && e.kind === 'not-ready') throw new AwsError('ModelNotReadyException', e.message, 429);
        if (e instanceof InstanceFailure) {
          throw this.modelError(input.EndpointName, 500, e.message, e.kind === 'timeout');
        }
        throw e;
      } finally {
        variant.inflight--;
      }
      if (reply.status >= 200 && reply.status < 300) {
        deployment.capture?.offer({
          variant: variant.spec.VariantName,
          time: Date.now(),
          inferenceId: input.InferenceId,
          inputContentType: input.ContentType,
          input: input.Body,
          outputContentType: reply.contentType,
          output: reply.body,
        });
        return {
          Body: reply.body,
          ContentType: reply.contentType,
          InvokedProductionVariant: variant.spec.VariantName,
          ...(input.CustomAttributes !== undefined ? { CustomAttributes: input.CustomAttributes } : {}),
        };
      }
      throw this.modelError(input.EndpointName, reply.status, reply.message ?? '', false);
    }
  }

  private count(endpoint: string, variant: string, status: number): void {
    let byVariant = this.counts.get(endpoint);
    if (!byVariant) this.counts.set(endpoint, (byVariant = new Map()));
    let c = byVariant.get(variant);
    if (!c) byVariant.set(variant, (c = { Invocations: 0, Invocation4XXErrors: 0, Invocation5XXErrors: 0 }));
    c.Invocations++;
    if (status >= 400 && status < 500) c.Invocation4XXErrors++;
    else if (status >= 500) c.Invocation5XXErrors++;
  }

  /** Invocation counts of an endpoint's variants since this server started. */
  invocationCounts(endpoint: string): Record<string, InvocationCounts> {
    return Object.fromEntries(this.counts.get(endpoint) ?? []);
  }

  private route(deployment: Deployment, input: InvokeInput): LiveVariant {
    if (input.TargetVariant !== undefined) {
      const v = deployment.variants.find((x) => x.spec.VariantName === input.TargetVariant);
      if (!v) throw new AwsError('ValidationError', `The variant ${input.TargetVariant} does not exist for endpoint ${input.EndpointName}.`);
      return v;
    }
    const v = deployment.pick();
    if (!v) throw new AwsError('ValidationError', `Endpoint ${input.EndpointName} has no variant with a positive weight to route the request to; use TargetVariant.`);
    return v;
  }

  private modelError(endpoint: string, status: number, message: string, timeout: boolean): AwsError {
    const region = this.deps.region;
    const group = this.logGroup(endpoint);
    const see = `See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logEventViewer:group=${group} in account ${this.deps.accountId} for more information.`;
    const text = timeout
      ? `Received server error (0) from primary with message "${message}". ${see}`
      : `Received ${status < 500 ? 'client' : 'server'} error (${status}) from primary with message "${message}". ${see}`;
    return new AwsError('ModelError', text, 424, {
      fields: {
        OriginalStatusCode: timeout ? 0 : status,
        OriginalMessage: message,
        LogStreamArn: `arn:aws:logs:${region}:${this.deps.accountId}:log-group:${group}`,
      },
    });
  }

  /** Multi-model: the unpacked folder of a TargetModel under the variant's ModelDataUrl prefix. */
  private async targetModel(variant: LiveVariant, target: string | undefined): Promise<string> {
    if (!target) throw new AwsError('ValidationError', 'TargetModel header is required for requests to a multi-model endpoint.');
    if (target.includes('..') || target.startsWith('/')) throw new AwsError('ValidationError', `Invalid TargetModel ${target}.`);
    const targets = variant.targets!;
    const known = targets.get(target);
    if (known) {
      targets.delete(target);
      targets.set(target, known);
      return known;
    }
    let loading = variant.loading!.get(target);
    if (!loading) {
      loading = this.fetchTarget(variant, target);
      variant.loading!.set(target, loading);
      loading.then(
        (dir) => {
          targets.set(target, dir);
          while (targets.size > MAX_TARGETS_REMEMBERED) targets.delete(targets.keys().next().value as string);
        },
        () => undefined,
      ).finally(() => variant.loading!.delete(target));
    }
    // A slow download goes on in the background; the caller is told to come back, as SageMaker does.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => (timer = setTimeout(resolve, this.deps.modelReadyWaitMs ?? DEFAULT_READY_WAIT_MS, undefined)));
    try {
      const dir = await Promise.race([loading, waited]);
      if (dir === undefined) throw new AwsError('ModelNotReadyException', `Model ${target} is still being downloaded and loaded by the multi-model endpoint. Wait and try your request again.`, 429);
      return dir;
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchTarget(variant: LiveVariant, target: string): Promise<string> {
    const uri = `${variant.spec.ModelDataUrl}${target}`;
    try {
      return await fetchModelArtifact(this.deps.objects, uri, path.join(this.deps.dataDir, 'hosting', 'models'));
    } catch (e) {
      const loc = parseS3Uri(uri);
      if (e instanceof ModelArtifactError && /Could not find/.test(e.message)) {
        throw new AwsError('ValidationError', `Failed to download model data(bucket: ${loc?.bucket}, key: ${loc?.key}). Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.`);
      }
      throw new AwsError('ValidationError', `Failed to download model data(bucket: ${loc?.bucket}, key: ${loc?.key}): ${(e as Error).message}`);
    }
  }

  // ---- deployment -------------------------------------------------------------------------

  /** Snapshots what a configuration deploys, checking its models can be served. */
  private async specFor(config: EndpointConfigDoc): Promise<DeploymentSpec> {
    const variants: VariantSpec[] = [];
    for (const v of config.ProductionVariants) {
      const model = await this.deps.models.models.get(v.ModelName);
      if (!model) throw new AwsError('ValidationException', `Could not find model "${v.ModelName}".`);
      const c = primaryContainer(model);
      variants.push({
        VariantName: v.VariantName,
        ModelName: v.ModelName,
        Image: c.Image ?? '',
        ModelDataUrl: c.ModelDataUrl ?? '',
        Mode: c.Mode === 'MultiModel' ? 'MultiModel' : 'SingleModel',
        ...(c.Environment ? { Environment: c.Environment } : {}),
        ...(v.InstanceType ? { InstanceType: v.InstanceType } : {}),
        InstanceCount: v.ServerlessConfig ? 1 : (v.InitialInstanceCount ?? 1),
        Weight: v.InitialVariantWeight ?? 1,
        ...(v.ServerlessConfig ? { ServerlessConfig: v.ServerlessConfig } : {}),
      });
    }
    return {
      EndpointConfigName: config.EndpointConfigName,
      Variants: variants,
      ...(config.DataCaptureConfig ? { DataCaptureConfig: config.DataCaptureConfig } : {}),
      ResolutionTime: new Date(),
    };
  }

  /** Starts the pools of a deployment; on failure stops what started and throws the reason. */
  private async startDeployment(name: string, spec: DeploymentSpec): Promise<Deployment> {
    const variants: LiveVariant[] = [];
    try {
      for (const v of spec.Variants) {
        const image = resolveImage(v.Image);
        if (image.kind === 'unknown') throw new Error(`ClientError: ${image.reason}`);
        const framework = servingFramework(image, v.Environment);
        const cacheDir = path.join(this.deps.dataDir, 'hosting', 'models');
        let modelDir: string | undefined;
        if (v.Mode === 'SingleModel' && (v.ModelDataUrl || !framework)) {
          try {
            modelDir = await fetchModelArtifact(this.deps.objects, v.ModelDataUrl, cacheDir);
          } catch (e) {
            throw new Error(`ClientError: Failed to download model data for variant ${v.VariantName} from ${v.ModelDataUrl}: ${(e as Error).message}`);
          }
        }
        const worker = framework
          ? await scriptServingWorker({ framework, environment: v.Environment, modelDir: modelDir ?? emptyModelDir(this.deps.dataDir), objects: this.deps.objects, cacheDir })
          : undefined;
        const type = v.InstanceType ? instanceType(v.InstanceType) : undefined;
        const pool = new VariantPool({
          endpointName: name,
          variantName: v.VariantName,
          instanceCount: v.InstanceCount,
          modelDir,
          multiModel: v.Mode === 'MultiModel',
          modelCacheSize: this.deps.modelCacheSize,
          environment: v.Environment,
          maxOldSpaceMb: serverlessMemoryMb(v.ServerlessConfig) ?? (type ? Math.max(256, Math.floor(memoryLimitBytes(type) / 1024 / 1024 / 2)) : undefined),
          worker,
          logs: this.deps.logs,
          logGroup: this.logGroup(name),
          log: this.deps.log,
          timeoutMs: this.deps.invocationTimeoutMs,
          readyWaitMs: this.deps.modelReadyWaitMs,
        });
        variants.push({ spec: { ...v }, pool, inflight: 0, ...(v.Mode === 'MultiModel' ? { targets: new Map(), loading: new Map() } : {}) });
      }
      await Promise.all(
        variants.map((v) =>
          v.pool.start().catch((e) => {
            throw new Error(`ClientError: The model of variant ${v.spec.VariantName} could not be loaded: ${(e as Error).message}`);
          }),
        ),
      );
    } catch (e) {
      await Promise.all(variants.map((v) => v.pool.stop()));
      throw e;
    }
    const capture = spec.DataCaptureConfig && spec.DataCaptureConfig.EnableCapture !== false
      ? new DataCapture(name, spec.DataCaptureConfig, this.deps.objects, this.deps.log)
      : undefined;
    return new Deployment(spec, variants, capture);
  }

  private background(name: string, task: () => Promise<void>): void {
    const run = task()
      .catch((e) => this.deps.log.error('endpoint task failed', { endpoint: name, error: String((e as Error)?.stack ?? e) }))
      .finally(() => this.tasks.delete(run));
    this.tasks.add(run);
  }

  private async runCreate(name: string): Promise<void> {
    const doc = await this.repo.get(name);
    const spec = doc?._kiln.pending;
    if (!doc || !spec) return;
    const started = this.startDeployment(name, spec);
    const gate = started.then(() => undefined, () => undefined);
    this.starting.set(name, gate);
    try {
      const deployment = await started;
      if (this.closing) {
        await deployment.stop(false);
        return;
      }
      const current = await this.repo.update(name, (d) => {
        if (d.EndpointStatus !== 'Creating') return undefined;
        d.EndpointStatus = 'InService';
        d._kiln = { deployed: spec };
        d.LastModifiedTime = new Date();
        return d;
      });
      if (current?.EndpointStatus !== 'InService') {
        await deployment.stop(false);
        return;
      }
      this.live.set(name, deployment);
    } catch (e) {
      await this.fail(name, (e as Error).message);
    } finally {
      if (this.starting.get(name) === gate) this.starting.delete(name);
    }
  }

  private async runUpdate(name: string): Promise<void> {
    const doc = await this.repo.get(name);
    const spec = doc?._kiln.pending;
    if (!doc) return;
    if (!spec) {
      await this.repo.update(name, (d) => (d.EndpointStatus === 'Updating' ? ((d.EndpointStatus = 'InService'), (d.LastModifiedTime = new Date()), d) : undefined));
      return;
    }
    let next: Deployment;
    try {
      next = await this.startDeployment(name, spec);
    } catch (e) {
      await this.repo.update(name, (d) => {
        if (d.EndpointStatus !== 'Updating') return undefined;
        d.EndpointStatus = 'InService';
        d.FailureReason = (e as Error).message;
        delete d._kiln.pending;
        d.LastModifiedTime = new Date();
        return d;
      });
      return;
    }
    // Switch: new invocations go to the new pools; the old ones finish what they hold.
    const old = this.live.get(name);
    this.live.set(name, next);
    await this.repo.update(name, (d) => {
      d.EndpointStatus = d.EndpointStatus === 'Updating' ? 'InService' : d.EndpointStatus;
      d.EndpointConfigName = spec.EndpointConfigName;
      d._kiln = { deployed: spec };
      d.LastModifiedTime = new Date();
      return d;
    });
    await old?.stop(true);
  }

  private async runDelete(name: string): Promise<void> {
    await this.starting.get(name);
    const deployment = this.live.get(name);
    this.live.delete(name);
    this.counts.delete(name);
    await deployment?.stop(true);
    await this.repo.delete(name);
  }

  private async fail(name: string, reason: string): Promise<void> {
    this.deps.log.warn('endpoint failed', { endpoint: name, reason });
    await this.repo.update(name, (d) => {
      if (d.EndpointStatus === 'Deleting') return undefined;
      d.EndpointStatus = 'Failed';
      d.FailureReason = reason.slice(0, 1024);
      d.LastModifiedTime = new Date();
      return d;
    });
  }

  /**
   * Brings back what a previous server left: InService endpoints get their pools started
   * again (invocations wait for them meanwhile); Creating and Updating ones are carried to
   * the end; Deleting ones are deleted. Runs in the background; returns how many it found.
   */
  async restore(): Promise<number> {
    const docs = await this.repo.all();
    for (const doc of docs) {
      const name = doc.EndpointName;
      switch (doc.EndpointStatus) {
        case 'Creating':
          this.background(name, () => this.runCreate(name));
          break;
        case 'Deleting':
          this.background(name, () => this.runDelete(name));
          break;
        case 'InService':
        case 'Updating': {
          const spec = doc._kiln.deployed;
          if (!spec) {
            await this.fail(name, 'InternalServerError: The Kiln server restarted before this endpoint was deployed.');
            break;
          }
          const started = this.startDeployment(name, spec);
          const gate = started.then(() => undefined, () => undefined);
          this.starting.set(name, gate);
          this.background(name, async () => {
            try {
              const deployment = await started;
              if (this.closing) return void (await deployment.stop(false));
              this.live.set(name, deployment);
              if (doc.EndpointStatus === 'Updating') await this.runUpdate(name);
            } catch (e) {
              await this.fail(name, `The endpoint could not be restarted after the Kiln server restarted: ${(e as Error).message}`);
            } finally {
              if (this.starting.get(name) === gate) this.starting.delete(name);
            }
          });
          break;
        }
        default:
          break;
      }
    }
    return docs.filter((d) => d.EndpointStatus !== 'Failed').length;
  }

  /** Waits for background work (tests and shutdown). */
  async settled(): Promise<void> {
    while (this.tasks.size) await Promise.allSettled([...this.tasks]);
  }

  /** Stops every endpoint's workers and writes buffered captures (server shutdown); endpoints stay InService. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.starting.values()]);
    const all = [...this.live.values()];
    this.live.clear();
    await Promise.all(all.map((d) => d.stop(false)));
    await Promise.allSettled([...this.tasks]);
  }
}
