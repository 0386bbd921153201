/**
 * Batch transform jobs: creation with SageMaker's checks, and the run of each job as
 * SageMaker's transform agent runs it: start the model's containers (one pool of inference
 * workers), read every input object as a stream, cut it into mini-batches, invoke the
 * containers with up to MaxConcurrentTransforms requests per instance in flight, and write
 * `<input name>.out` objects with the predictions in input order.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AwsError } from '../../server/errors.ts';
import type { Logger } from '../../server/logger.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository, type ListQuery } from '../../store/metadata/resources.ts';
import { listError } from '../list-error.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import { primaryContainer, type HostingModels } from '../hosting/models.ts';
import { emptyModelDir, scriptServingWorker, servingFramework } from '../hosting/script-serving.ts';
import { InstanceFailure, VariantPool, type WorkerCommand, type WorkerReply } from '../hosting/variant-pool.ts';
import { joinS3 } from '../jobs/artifacts.ts';
import { listKeys, parseS3Uri, readManifest, relativeToPrefix, type S3Location } from '../jobs/channels.ts';
import { failureReason, JobFailure } from '../jobs/failure.ts';
import { resolveImage } from '../jobs/images.ts';
import { instanceType, memoryLimitBytes } from '../jobs/instance-types.ts';
import { notifyListener, type JobListener } from '../jobs/job-listener.ts';
import { JobLogWriter, type LogSink } from '../jobs/job-logs.ts';
import { JobRuns } from '../jobs/job-runs.ts';
import { fetchModelArtifact } from '../models/model-artifacts.ts';
import { inputFilter, outputStage, recordKind, splitPredictions, type OutputStage, type RecordKind } from './data-processing.ts';
import { miniBatches, type MiniBatch } from './records.ts';
import { ACTIVE_TRANSFORM_STATUSES, finishTransform, publicTransformView, type TransformJobDoc } from './transform-job.ts';

export const TRANSFORM_LOG_GROUP = '/aws/sagemaker/TransformJobs';

const MAX_PAYLOAD_MB = 100;
const DEFAULT_PAYLOAD_MB = 6;
const DEFAULT_INVOCATION_TIMEOUT_S = 600;
const DEFAULT_MAX_RETRIES = 3;

export interface TransformJobsDeps {
  db: MetadataDb;
  objects: ObjectStore;
  models: HostingModels;
  logs: LogSink;
  dataDir: string;
  region: string;
  accountId: string;
  log: Logger;
  listener?: JobListener<TransformJobDoc>;
}

interface ActiveRun {
  stopRequested: boolean;
  pool?: VariantPool;
  done: Promise<void>;
}

/** One input object and where its predictions go. */
interface InputObject {
  bucket: string;
  key: string;
  relative: string;
}

const notFound = (name: string) => new AwsError('ValidationException', `Could not find requested job with name ${name}`);

class StopRequested extends Error {}

export class TransformJobs {
  readonly repo: ResourceRepository<TransformJobDoc>;
  private readonly runs: JobRuns<ActiveRun>;

  constructor(private readonly deps: TransformJobsDeps) {
    this.runs = new JobRuns<ActiveRun>('transform job', deps.log);
    this.repo = new ResourceRepository<TransformJobDoc>(deps.db, 'transform-job', (d) => ({
      name: d.TransformJobName,
      arn: d.TransformJobArn,
      status: d.TransformJobStatus,
      creationTime: d.CreationTime,
      lastModifiedTime: d.LastModifiedTime,
    }));
  }

  arnOf(name: string): string {
    return `arn:aws:sagemaker:${this.deps.region}:${this.deps.accountId}:transform-job/${name.toLowerCase()}`;
  }

  async create(input: Record<string, any>): Promise<{ TransformJobArn: string }> {
    const name: string = input.TransformJobName;
    const model = await this.deps.models.models.get(input.ModelName);
    if (!model) throw new AwsError('ValidationException', `Could not find model "${input.ModelName}".`);
    const payloadMb: number = input.MaxPayloadInMB ?? DEFAULT_PAYLOAD_MB;
    if (payloadMb > MAX_PAYLOAD_MB) throw new AwsError('ValidationException', `MaxPayloadInMB ${payloadMb} is greater than the maximum of ${MAX_PAYLOAD_MB} MB.`);
    if (input.MaxConcurrentTransforms && input.MaxConcurrentTransforms * payloadMb > MAX_PAYLOAD_MB) {
      throw new AwsError('ValidationException', `The product of MaxConcurrentTransforms (${input.MaxConcurrentTransforms}) and MaxPayloadInMB (${payloadMb}) must not exceed ${MAX_PAYLOAD_MB} MB.`);
    }
    const split = input.TransformInput?.SplitType ?? 'None';
    if (split !== 'None' && split !== 'Line') {
      throw new AwsError('ValidationException', `SplitType ${split} is not supported by Kiln; use None (whole files) or Line (newline-delimited records).`);
    }
    if (payloadMb === 0 && split !== 'None') {
      throw new AwsError('ValidationException', 'MaxPayloadInMB 0 (no limit) is only allowed with SplitType None.');
    }
    const dataType = input.TransformInput?.DataSource?.S3DataSource?.S3DataType;
    if (dataType !== 'S3Prefix' && dataType !== 'ManifestFile') {
      throw new AwsError('ValidationException', `S3DataType ${dataType} is not supported for batch transform by Kiln; use S3Prefix or ManifestFile.`);
    }
    if (!parseS3Uri(input.TransformInput.DataSource.S3DataSource.S3Uri ?? '')) {
      throw new AwsError('ValidationException', `TransformInput S3Uri '${input.TransformInput.DataSource.S3DataSource.S3Uri}' is not an S3 URI (s3://bucket/prefix).`);
    }
    if (!parseS3Uri(input.TransformOutput?.S3OutputPath ?? '')) {
      throw new AwsError('ValidationException', `TransformOutput.S3OutputPath '${input.TransformOutput?.S3OutputPath}' is not an S3 URI (s3://bucket/prefix).`);
    }
    const typeName: string = input.TransformResources?.InstanceType;
    if (!instanceType(typeName)) {
      throw new AwsError('ValidationException', `TransformResources.InstanceType must be an ML instance type such as ml.m5.large; Kiln does not know '${typeName}'.`);
    }
    const dp = input.DataProcessing;
    const inKind = recordKind(input.TransformInput.ContentType);
    try {
      inputFilter(dp?.InputFilter, inKind);
      outputStage(dp, inKind, recordKind(input.TransformOutput.Accept));
    } catch (e) {
      throw new AwsError('ValidationException', (e as Error).message.replace(/^ClientError: /, ''));
    }

    const now = new Date();
    const arn = this.arnOf(name);
    const doc: TransformJobDoc = {
      TransformJobName: name,
      TransformJobArn: arn,
      TransformJobStatus: 'InProgress',
      ModelName: input.ModelName,
      ...(input.MaxConcurrentTransforms !== undefined ? { MaxConcurrentTransforms: input.MaxConcurrentTransforms } : {}),
      ...(input.ModelClientConfig ? { ModelClientConfig: input.ModelClientConfig } : {}),
      ...(input.MaxPayloadInMB !== undefined ? { MaxPayloadInMB: input.MaxPayloadInMB } : {}),
      ...(input.BatchStrategy ? { BatchStrategy: input.BatchStrategy } : {}),
      ...(input.Environment ? { Environment: input.Environment } : {}),
      TransformInput: { CompressionType: 'None', SplitType: 'None', ...input.TransformInput },
      TransformOutput: { AssembleWith: 'None', ...input.TransformOutput },
      TransformResources: input.TransformResources,
      ...(dp ? { DataProcessing: { InputFilter: '$', OutputFilter: '$', JoinSource: 'None', ...dp } } : {}),
      ...(input.ExperimentConfig ? { ExperimentConfig: input.ExperimentConfig } : {}),
      ...(input.DataCaptureConfig ? { DataCaptureConfig: input.DataCaptureConfig } : {}),
      CreationTime: now,
      LastModifiedTime: now,
    };
    if (!(await this.repo.insert(doc))) {
      const existing = await this.repo.get(name);
      throw new AwsError('ResourceInUse', `Job name must be unique within an AWS account and region, and a job with this name already exists (${existing?.TransformJobArn ?? arn})`);
    }
    await this.notify('created', doc);
    this.launch(name);
    return { TransformJobArn: arn };
  }

  async describe(name: string): Promise<Record<string, unknown>> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    return publicTransformView(doc);
  }

  async list(query: ListQuery): Promise<{ TransformJobSummaries: Record<string, unknown>[]; NextToken?: string }> {
    const { items, nextToken } = await this.repo.list(query).catch(listError);
    return {
      TransformJobSummaries: items.map((d) => ({
        TransformJobName: d.TransformJobName,
        TransformJobArn: d.TransformJobArn,
        CreationTime: d.CreationTime,
        ...(d.TransformEndTime ? { TransformEndTime: d.TransformEndTime } : {}),
        LastModifiedTime: d.LastModifiedTime,
        TransformJobStatus: d.TransformJobStatus,
        ...(d.FailureReason ? { FailureReason: d.FailureReason } : {}),
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async stop(name: string): Promise<void> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    if (doc.TransformJobStatus === 'Stopping' || doc.TransformJobStatus === 'Stopped') return;
    if (doc.TransformJobStatus !== 'InProgress') {
      throw new AwsError('ValidationException', `The request was rejected because the transform job is in status ${doc.TransformJobStatus}.`);
    }
    await this.repo.update(name, (d) => {
      if (d.TransformJobStatus !== 'InProgress') return undefined;
      d.TransformJobStatus = 'Stopping';
      d.LastModifiedTime = new Date();
      return d;
    });
    this.runs.stop(name, (run) => void run.pool?.stop());
  }

  async settled(name: string): Promise<void> {
    await this.runs.settled(name);
  }

  /** Jobs a previous server left running cannot resume: they end Failed (or Stopped if stopping). */
  async reconcile(): Promise<number> {
    const stale = await this.repo.listByStatus(ACTIVE_TRANSFORM_STATUSES);
    for (const doc of stale) {
      const ended = await this.repo.update(doc.TransformJobName, (d) => {
        if (!ACTIVE_TRANSFORM_STATUSES.includes(d.TransformJobStatus)) return undefined;
        if (d.TransformJobStatus === 'Stopping') return finishTransform(d, 'Stopped', new Date());
        return finishTransform(d, 'Failed', new Date(), 'InternalServerError: The Kiln server stopped while this transform job was running, so the job was ended. Start it again with a new name.');
      });
      if (ended) await this.notify('ended', ended);
      this.deps.log.warn('transform job ended by restart reconciliation', { job: doc.TransformJobName });
    }
    return stale.length;
  }

  async close(): Promise<void> {
    await this.runs.close((run) => void run.pool?.stop());
  }

  private launch(name: string): void {
    this.runs.start(name, { stopRequested: false, done: Promise.resolve() }, (run) => this.execute(name, run));
  }

  private async execute(name: string, run: ActiveRun): Promise<void> {
    const started = new Date();
    const doc = (await this.repo.update(name, (d) => ((d.TransformStartTime = started), d)))!;
    const stream = `${name}/data-log`;
    const writer = new JobLogWriter(this.deps.logs, TRANSFORM_LOG_GROUP, stream, (e) => this.deps.log.error('job log write failed', { job: name, error: String(e) }));
    let status: 'Completed' | 'Failed' | 'Stopped' = 'Completed';
    let reason: string | undefined;
    try {
      await writer.open();
      run.pool = await this.startContainers(doc, writer);
      if (run.stopRequested) throw new StopRequested();
      const inputs = await this.inputObjects(doc);
      writer.write(`Kiln: transforming ${inputs.length} input object(s) with model ${doc.ModelName}`);
      for (const object of inputs) {
        if (run.stopRequested || this.runs.closing) throw new StopRequested();
        await this.transformObject(doc, object, run, writer);
      }
    } catch (e) {
      if (run.stopRequested || e instanceof StopRequested) {
        status = 'Stopped';
      } else if (this.runs.closing) {
        status = 'Failed';
        reason = 'InternalServerError: The Kiln server was shut down while this transform job was running.';
      } else {
        status = 'Failed';
        reason = e instanceof JobFailure ? e.reason : `InternalServerError: ${(e as Error).message}`;
        if (!(e instanceof JobFailure)) this.deps.log.error('transform job failed inside Kiln', { job: name, error: String((e as Error)?.stack ?? e) });
      }
      if (reason) writer.write(reason);
    } finally {
      await run.pool?.stop();
      await writer.flush();
    }
    const ended = await this.repo.update(name, (d) => {
      const final = status === 'Completed' && d.TransformJobStatus === 'Stopping' ? 'Stopped' : status;
      return finishTransform(d, final, new Date(), reason ? failureReason(reason) : undefined);
    });
    if (ended) await this.notify('ended', ended);
  }

  private notify(event: keyof JobListener<TransformJobDoc>, doc: TransformJobDoc): Promise<void> {
    return notifyListener(this.deps.listener, event, doc, { kind: 'transform job', name: doc.TransformJobName, log: this.deps.log });
  }

  /**
   * The model's containers: one worker process per instance for each request it may hold at
   * once (as the XGBoost container runs a server worker per vCPU), capped by this machine's cores.
   */
  private async startContainers(doc: TransformJobDoc, writer: JobLogWriter): Promise<VariantPool> {
    const model = await this.deps.models.models.get(doc.ModelName);
    if (!model) throw new JobFailure(`ClientError: Could not find model "${doc.ModelName}".`);
    const container = primaryContainer(model);
    const image = resolveImage(container.Image ?? '');
    if (image.kind === 'unknown') throw new JobFailure(`ClientError: ${image.reason}`);
    if (container.Mode === 'MultiModel') throw new JobFailure(`ClientError: Model ${doc.ModelName} is a multi-model container; a transform job needs a single model.`);
    const framework = servingFramework(image, container.Environment);
    if (!container.ModelDataUrl && !framework) throw new JobFailure(`ClientError: Model ${doc.ModelName} has no ModelDataUrl.`);
    const cacheDir = path.join(this.deps.dataDir, 'hosting', 'models');
    let modelDir = emptyModelDir(this.deps.dataDir);
    if (container.ModelDataUrl) {
      try {
        modelDir = await fetchModelArtifact(this.deps.objects, container.ModelDataUrl, cacheDir);
      } catch (e) {
        throw new JobFailure(`ClientError: Failed to download model data from ${container.ModelDataUrl}: ${(e as Error).message}`);
      }
    }
    let worker: WorkerCommand | undefined;
    if (framework) {
      try {
        worker = await scriptServingWorker({ framework, environment: container.Environment, modelDir, objects: this.deps.objects, cacheDir });
      } catch (e) {
        throw new JobFailure((e as Error).message);
      }
    }
    const type = instanceType(doc.TransformResources.InstanceType)!;
    const perInstance = Math.max(1, Math.min(doc.MaxConcurrentTransforms ?? type.vcpus, type.vcpus, cpus().length));
    const count = doc.TransformResources.InstanceCount * perInstance;
    const pool = new VariantPool({
      endpointName: doc.TransformJobName,
      variantName: 'AllTraffic',
      instanceCount: count,
      modelDir,
      worker,
      inlineMaxBytes: 0,
      environment: {
        ...container.Environment,
        ...doc.Environment,
        SAGEMAKER_BATCH: 'true',
        SAGEMAKER_MAX_PAYLOAD_IN_MB: String(doc.MaxPayloadInMB ?? DEFAULT_PAYLOAD_MB),
        SAGEMAKER_BATCH_STRATEGY: doc.BatchStrategy === 'SingleRecord' ? 'SINGLE_RECORD' : 'MULTI_RECORD',
        ...(doc.MaxConcurrentTransforms ? { SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: String(doc.MaxConcurrentTransforms) } : {}),
      },
      maxOldSpaceMb: Math.max(256, Math.floor(memoryLimitBytes(type) / 1024 / 1024 / 2 / perInstance)),
      logs: this.deps.logs,
      logGroup: TRANSFORM_LOG_GROUP,
      logStreamName: (id) => `${doc.TransformJobName}/${id}`,
      log: this.deps.log,
      timeoutMs: (doc.ModelClientConfig?.InvocationsTimeoutInSeconds ?? DEFAULT_INVOCATION_TIMEOUT_S) * 1000,
    });
    try {
      await pool.start();
    } catch (e) {
      await pool.stop();
      throw new JobFailure(`ClientError: The model ${doc.ModelName} could not be loaded: ${(e as Error).message}`);
    }
    writer.write(`Kiln: started ${count} model server worker(s) on ${doc.TransformResources.InstanceCount} ${doc.TransformResources.InstanceType} instance(s)`);
    return pool;
  }

  private async inputObjects(doc: TransformJobDoc): Promise<InputObject[]> {
    const source = doc.TransformInput.DataSource.S3DataSource;
    const location = parseS3Uri(source.S3Uri)!;
    const out: InputObject[] = [];
    if (source.S3DataType === 'ManifestFile') {
      let manifest: { prefix: S3Location; entries: string[] };
      try {
        manifest = await readManifest(this.deps.objects, location, source.S3Uri);
      } catch (e) {
        if (e instanceof JobFailure) throw e;
        throw new JobFailure(`ClientError: Could not read the manifest file ${source.S3Uri}: ${(e as Error).message}`);
      }
      // Outputs are written beside each entry's path: none may climb out of the output prefix.
      if (manifest.entries.some((e) => e.split('/').includes('..'))) {
        throw new JobFailure(`ClientError: The manifest file '${source.S3Uri}' must be a JSON array: [{"prefix": "s3://bucket/prefix/"}, "relative/key", ...].`);
      }
      for (const relative of manifest.entries) out.push({ bucket: manifest.prefix.bucket, key: manifest.prefix.key + relative, relative });
    } else {
      const keys = await listKeys(this.deps.objects, location.bucket, location.key).catch((e) => {
        throw new JobFailure(`ClientError: Could not list the input ${source.S3Uri}: ${(e as Error).message}`);
      });
      for (const key of keys) if (!key.endsWith('/')) out.push({ bucket: location.bucket, key, relative: relativeToPrefix(key, location.key) });
    }
    if (!out.length) throw new JobFailure(`ClientError: No S3 objects found under S3 URL "${source.S3Uri}" given in input data source. Please ensure that the bucket exists in the selected region, and that objects exist under that S3 prefix.`);
    return out;
  }

  /** Streams one input object through the containers into `<S3OutputPath>/<relative>.out`. */
  private async transformObject(doc: TransformJobDoc, object: InputObject, run: ActiveRun, writer: JobLogWriter): Promise<void> {
    const inputUri = `s3://${object.bucket}/${object.key}`;
    const target = joinS3(parseS3Uri(doc.TransformOutput.S3OutputPath)!, `${object.relative}.out`);
    const inKind = recordKind(doc.TransformInput.ContentType);
    const outKind: RecordKind | undefined = recordKind(doc.TransformOutput.Accept ?? 'text/csv');
    const stage = outputStage(doc.DataProcessing, inKind, outKind);
    const filter = inputFilter(doc.DataProcessing?.InputFilter, inKind);
    const payloadMb = doc.MaxPayloadInMB ?? DEFAULT_PAYLOAD_MB;
    const assembleLines = doc.TransformOutput.AssembleWith === 'Line';
    const maxRetries = doc.ModelClientConfig?.InvocationsMaxRetries ?? DEFAULT_MAX_RETRIES;
    // MaxConcurrentTransforms is per instance; by default each worker gets a second request
    // queued behind the one it works on, so it never waits for the next payload.
    const inFlightLimit = doc.MaxConcurrentTransforms ? doc.TransformResources.InstanceCount * doc.MaxConcurrentTransforms : 2 * run.pool!.instanceIds.length;

    let source: Readable;
    try {
      source = (await this.deps.objects.getObject(object.bucket, object.key)).body;
    } catch (e) {
      throw new JobFailure(`ClientError: Could not read the input ${inputUri}: ${(e as Error).message}`);
    }
    const input: Readable = doc.TransformInput.CompressionType === 'Gzip' ? source.pipe(createGunzip()) : source;
    if (input !== source) source.on('error', (e) => input.destroy(e));
    input.on('error', () => undefined);

    const out = new PassThrough();
    let outputContentType: string | undefined = doc.TransformOutput.Accept;
    const stored = this.deps.objects.putObject({ bucket: target.bucket, key: target.key, body: out, contentType: doc.TransformOutput.Accept ?? 'text/csv' });
    stored.catch(() => undefined);
    const write = async (chunk: Buffer | string) => {
      if (!out.write(chunk)) await new Promise<void>((resolve, reject) => {
        out.once('drain', resolve);
        out.once('error', reject);
      });
    };

    let batches = 0;
    let records = 0;
    const inflight: Promise<{ batch: MiniBatch; reply: WorkerReply }>[] = [];
    const emit = async (batch: MiniBatch, reply: WorkerReply) => {
      outputContentType ??= reply.contentType;
      if (stage) {
        const originals = expandRecords(batch.records!, doc.TransformInput.SplitType, inKind);
        const predictions = splitPredictions(reply.body, outKind ?? recordKind(reply.contentType));
        if (predictions.length !== originals.length) {
          throw new JobFailure(
            `ClientError: The model returned ${predictions.length} prediction(s) for a mini-batch of ${originals.length} record(s) from ${inputUri}; DataProcessing needs one prediction per record.`,
          );
        }
        const lines = originals.map((r, i) => stage.apply(r, predictions[i]!));
        records += lines.length;
        await write(assembleLines ? `${lines.join('\n')}\n` : lines.join(''));
      } else {
        await write(reply.body);
        if (assembleLines && reply.body.length && reply.body[reply.body.length - 1] !== 0x0a) await write('\n');
      }
    };

    try {
      const split = miniBatches(input as AsyncIterable<Buffer>, {
        splitType: doc.TransformInput.SplitType === 'Line' ? 'Line' : 'None',
        batchStrategy: doc.BatchStrategy ?? 'MultiRecord',
        maxPayloadBytes: payloadMb * 1024 * 1024,
        filter,
        keepRecords: Boolean(stage),
        fileName: inputUri,
      });
      for await (const batch of split) {
        if (run.stopRequested || this.runs.closing) throw new StopRequested();
        batches++;
        const pending = this.invoke(run.pool!, batch, doc, maxRetries, inputUri);
        pending.catch(() => undefined);
        inflight.push(pending);
        if (inflight.length >= inFlightLimit) {
          const done = await inflight.shift()!;
          await emit(done.batch, done.reply);
        }
      }
      while (inflight.length) {
        const done = await inflight.shift()!;
        await emit(done.batch, done.reply);
      }
      out.end();
      await stored;
    } catch (e) {
      out.destroy(e as Error);
      await stored.catch(() => undefined);
      input.destroy();
      if (run.stopRequested || this.runs.closing) throw new StopRequested();
      throw e;
    }
    writer.write(`Kiln: ${inputUri} → s3://${target.bucket}/${target.key} (${batches} mini-batch(es)${stage ? `, ${records} record(s)` : ''}${outputContentType ? `, ${outputContentType}` : ''})`);
  }

  private async invoke(pool: VariantPool, batch: MiniBatch, doc: TransformJobDoc, maxRetries: number, inputUri: string): Promise<{ batch: MiniBatch; reply: WorkerReply }> {
    for (let attempt = 0; ; attempt++) {
      let reply: WorkerReply;
      try {
        reply = await pool.invoke({ ct: doc.TransformInput.ContentType, accept: doc.TransformOutput.Accept }, batch.payload);
      } catch (e) {
        if (e instanceof InstanceFailure && e.kind !== 'stopped' && attempt < maxRetries) continue;
        if (e instanceof InstanceFailure && e.kind === 'stopped') throw new StopRequested();
        throw new JobFailure(`ClientError: A mini-batch of ${inputUri} got no answer from the model container after ${attempt + 1} attempt(s): ${(e as Error).message}`);
      }
      if (reply.status >= 200 && reply.status < 300) return { batch, reply };
      throw new JobFailure(`ClientError: The model container answered ${reply.status} for a mini-batch of ${inputUri}: ${reply.message ?? reply.body.toString('utf8').slice(0, 512)}. See the job's logs in ${TRANSFORM_LOG_GROUP} for more information.`);
    }
  }
}

/** With SplitType None the file is one request; for line formats its records are its lines. */
function expandRecords(records: string[], splitType: string | undefined, kind: RecordKind | undefined): string[] {
  if (splitType === 'Line' || kind === 'json') return records;
  return records.flatMap((r) => r.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== ''));
}
