/**
 * Processing jobs: CreateProcessingJob's checks, the run (inputs from S3 into
 * /opt/ml/processing/..., the entry point on the machine's runtime, outputs back to S3 at the
 * end or continuously), stopping, the runtime limit, and reconciliation after a restart. The
 * process runs through the same executor, log store and instance types as training jobs. A job
 * with the Data Wrangler image runs its flow on Kiln's flow engine instead (data-wrangler-job.ts),
 * through the same lifecycle.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AwsError } from '../../server/errors.ts';
import type { Logger } from '../../server/logger.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository, type ListQuery } from '../../store/metadata/resources.ts';
import { listError } from '../list-error.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import { downloadChannel, parseS3Uri } from './channels.ts';
import { HOST } from './container-layout.ts';
import { DirectoryUploader } from './directory-uploader.ts';
import type { Executor, JobProcess } from './executor.ts';
import { JobRuns } from './job-runs.ts';
import { failureReason, JobFailure } from './failure.ts';
import type { Catalog } from '../data/catalog.ts';
import { runDataWranglerJob } from './data-wrangler-job.ts';
import { dataWranglerImageUri, resolveDataWranglerImage } from './data-wrangler-image.ts';
import { resolveImage } from './images.ts';
import { effectiveThreads, instanceType, memoryLimitBytes } from './instance-types.ts';
import { JobLogWriter, type LogSink } from './job-logs.ts';
import { namespacePlan } from './namespaces.ts';
import { hostPath, PROCESSING_ROOT, processingCommand } from './processing-container.ts';
import { ACTIVE_PROCESSING, finishProcessing, publicProcessingView, type ProcessingJobDoc, type ProcessingOutput } from './processing-job.ts';
import { missingFramework } from './runtimes.ts';
import { StderrTail } from './script-mode.ts';

import { notifyListener, type JobListener } from './job-listener.ts';

export const PROCESSING_LOG_GROUP = '/aws/sagemaker/ProcessingJobs';

export interface ProcessingJobsDeps {
  db: MetadataDb;
  objects: ObjectStore;
  logs: LogSink;
  executor: Executor;
  dataDir: string;
  region: string;
  accountId: string;
  log: Logger;
  stopGraceMs?: number;
  /** How often Continuous outputs are uploaded while the job runs. */
  continuousUploadMs?: number;
  listener?: JobListener<ProcessingJobDoc>;
  /** The table catalog that SQL sources of Data Wrangler jobs' flows query. */
  catalog: Catalog;
}

/** How a job ended, before it is recorded. */
interface Outcome {
  status: 'Completed' | 'Failed' | 'Stopped';
  reason?: string;
  exitMessage?: string;
}

interface ActiveRun {
  stopRequested: boolean;
  runtimeExceeded: boolean;
  process?: JobProcess;
  done: Promise<void>;
}

const notFound = (name: string) => new AwsError('ValidationException', `Could not find requested job with name ${name}`);

function validatePaths(input: Record<string, any>): void {
  const check = (what: string, p: string | undefined) => {
    if (p !== undefined && !(p.startsWith(PROCESSING_ROOT) && !p.split('/').includes('..'))) {
      throw new AwsError('ValidationException', `${what} '${p}' must be an absolute path under ${PROCESSING_ROOT}`);
    }
  };
  const names = new Set<string>();
  for (const i of input.ProcessingInputs ?? []) {
    if (names.has(i.InputName)) throw new AwsError('ValidationException', `ProcessingInputs and outputs must have unique names; '${i.InputName}' is repeated.`);
    names.add(i.InputName);
    if (i.S3Input) {
      check(`ProcessingInputs '${i.InputName}' LocalPath`, i.S3Input.LocalPath);
      if (!parseS3Uri(i.S3Input.S3Uri)) throw new AwsError('ValidationException', `ProcessingInputs '${i.InputName}' S3Uri '${i.S3Input.S3Uri}' is not an S3 URI.`);
      if (i.S3Input.S3CompressionType === 'Gzip' && i.S3Input.S3InputMode !== 'Pipe') {
        throw new AwsError('ValidationException', `ProcessingInputs '${i.InputName}': S3CompressionType Gzip can only be used with S3InputMode Pipe.`);
      }
    } else if (!i.DatasetDefinition) {
      throw new AwsError('ValidationException', `ProcessingInputs '${i.InputName}' must have an S3Input or a DatasetDefinition.`);
    }
  }
  for (const o of (input.ProcessingOutputConfig?.Outputs ?? []) as ProcessingOutput[]) {
    if (names.has(o.OutputName)) throw new AwsError('ValidationException', `ProcessingInputs and outputs must have unique names; '${o.OutputName}' is repeated.`);
    names.add(o.OutputName);
    if (o.S3Output) {
      check(`ProcessingOutputConfig '${o.OutputName}' LocalPath`, o.S3Output.LocalPath);
      if (!parseS3Uri(o.S3Output.S3Uri)) throw new AwsError('ValidationException', `ProcessingOutputConfig '${o.OutputName}' S3Uri '${o.S3Output.S3Uri}' is not an S3 URI.`);
    }
  }
}

export class ProcessingJobs {
  readonly repo: ResourceRepository<ProcessingJobDoc>;
  private readonly runs: JobRuns<ActiveRun>;

  constructor(private readonly deps: ProcessingJobsDeps) {
    this.runs = new JobRuns<ActiveRun>('processing job', deps.log);
    this.repo = new ResourceRepository<ProcessingJobDoc>(deps.db, 'processing-job', (d) => ({
      name: d.ProcessingJobName,
      arn: d.ProcessingJobArn,
      status: d.ProcessingJobStatus,
      creationTime: d.CreationTime,
      lastModifiedTime: d.LastModifiedTime,
    }));
  }

  async create(input: Record<string, any>): Promise<{ ProcessingJobArn: string }> {
    const name: string = input.ProcessingJobName;
    const cluster = input.ProcessingResources?.ClusterConfig ?? {};
    if (!instanceType(cluster.InstanceType ?? '')) {
      throw new AwsError('ValidationException', `ProcessingResources.ClusterConfig.InstanceType must be an ML instance type such as ml.m5.large; Kiln does not know '${cluster.InstanceType}'.`);
    }
    if ((cluster.InstanceCount ?? 1) !== 1) {
      throw new AwsError('ValidationException', `Kiln runs a processing job on one instance: ClusterConfig.InstanceCount must be 1, not ${cluster.InstanceCount}.`);
    }
    validatePaths(input);
    const quota = instanceType(cluster.InstanceType)!.trainingQuota;
    const running = await this.repo.countByStatus(ACTIVE_PROCESSING, (d) => d.ProcessingResources.ClusterConfig.InstanceType === cluster.InstanceType);
    if (running + 1 > quota) {
      throw new AwsError(
        'ResourceLimitExceeded',
        `The account-level service limit '${cluster.InstanceType} for processing job usage' is ${quota} Instances, with current utilization of ${running} Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota.`,
      );
    }
    const now = new Date();
    const arn = `arn:aws:sagemaker:${this.deps.region}:${this.deps.accountId}:processing-job/${name.toLowerCase()}`;
    const doc: ProcessingJobDoc = {
      ProcessingJobName: name,
      ProcessingJobArn: arn,
      ProcessingJobStatus: 'InProgress',
      ...(input.ProcessingInputs ? { ProcessingInputs: input.ProcessingInputs } : {}),
      ...(input.ProcessingOutputConfig ? { ProcessingOutputConfig: input.ProcessingOutputConfig } : {}),
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, ...cluster } },
      StoppingCondition: { MaxRuntimeInSeconds: 86400, ...input.StoppingCondition },
      AppSpecification: input.AppSpecification,
      ...(input.Environment ? { Environment: input.Environment } : {}),
      ...(input.NetworkConfig ? { NetworkConfig: input.NetworkConfig } : {}),
      RoleArn: input.RoleArn,
      ...(input.ExperimentConfig ? { ExperimentConfig: input.ExperimentConfig } : {}),
      CreationTime: now,
      LastModifiedTime: now,
      _kiln: { workDir: path.join(this.deps.dataDir, 'jobs', 'processing', name) },
    };
    if (!(await this.repo.insert(doc))) {
      throw new AwsError('ResourceInUse', `Job name must be unique within an AWS account and region, and a job with this name already exists (${arn})`);
    }
    await this.notify('created', doc);
    this.launch(name);
    return { ProcessingJobArn: arn };
  }

  async describe(name: string): Promise<Record<string, unknown>> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    return publicProcessingView(doc);
  }

  async list(query: ListQuery) {
    const { items, nextToken } = await this.repo.list(query).catch(listError);
    return {
      ProcessingJobSummaries: items.map((d) => ({
        ProcessingJobName: d.ProcessingJobName,
        ProcessingJobArn: d.ProcessingJobArn,
        CreationTime: d.CreationTime,
        ...(d.ProcessingEndTime ? { ProcessingEndTime: d.ProcessingEndTime } : {}),
        LastModifiedTime: d.LastModifiedTime,
        ProcessingJobStatus: d.ProcessingJobStatus,
        ...(d.FailureReason ? { FailureReason: d.FailureReason } : {}),
        ...(d.ExitMessage ? { ExitMessage: d.ExitMessage } : {}),
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async stop(name: string): Promise<void> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound(name);
    if (doc.ProcessingJobStatus === 'Stopping') return;
    if (doc.ProcessingJobStatus !== 'InProgress') {
      throw new AwsError('ValidationException', `The request was rejected because the processing job is in status ${doc.ProcessingJobStatus}.`);
    }
    await this.repo.update(name, (d) => (d.ProcessingJobStatus === 'InProgress' ? ((d.ProcessingJobStatus = 'Stopping'), (d.LastModifiedTime = new Date()), d) : undefined));
    this.runs.stop(name, (run) => run.process?.terminate(this.deps.stopGraceMs ?? 10_000));
  }

  async settled(name: string): Promise<void> {
    await this.runs.settled(name);
  }

  /** Jobs a previous server left running are ended (their process with them), as training jobs are. */
  async reconcile(): Promise<number> {
    const stale = await this.repo.listByStatus(ACTIVE_PROCESSING);
    for (const doc of stale) {
      if (doc._kiln?.pid) this.deps.executor.killOrphan(doc._kiln.pid, doc.ProcessingJobName);
      const ended = await this.repo.update(doc.ProcessingJobName, (d) => {
        if (!ACTIVE_PROCESSING.includes(d.ProcessingJobStatus)) return undefined;
        if (d.ProcessingJobStatus === 'Stopping') return finishProcessing(d, 'Stopped', new Date());
        return finishProcessing(d, 'Failed', new Date(), 'InternalServerError: The Kiln server stopped while this processing job was running, so the job was ended. Start it again with a new name.');
      });
      if (ended && !ACTIVE_PROCESSING.includes(ended.ProcessingJobStatus)) await this.notify('ended', ended);
    }
    return stale.length;
  }

  async close(): Promise<void> {
    await this.runs.close((run) => run.process?.terminate(2_000));
  }

  private launch(name: string): void {
    this.runs.start(name, { stopRequested: false, runtimeExceeded: false, done: Promise.resolve() }, (run) => this.execute(name, run));
  }

  private async execute(name: string, run: ActiveRun): Promise<void> {
    const doc = (await this.repo.get(name))!;
    const workDir = doc._kiln!.workDir!;
    const started = new Date();
    const logStream = `${name}/${HOST}-${Math.floor(started.getTime() / 1000)}`;
    const writer = new JobLogWriter(this.deps.logs, PROCESSING_LOG_GROUP, logStream, (e) => this.deps.log.error('job log write failed', { job: name, error: String(e) }));
    const maxRuntime = doc.StoppingCondition?.MaxRuntimeInSeconds ?? 86400;
    const runtimeTimer = setTimeout(() => {
      run.runtimeExceeded = true;
      run.process?.terminate(this.deps.stopGraceMs ?? 10_000);
    }, maxRuntime * 1000);
    runtimeTimer.unref();
    const interrupted = () => run.stopRequested || run.runtimeExceeded || this.runs.closing;
    let outcome: Outcome = { status: 'Completed' };

    try {
      rmSync(workDir, { recursive: true, force: true });
      const optMl = path.join(workDir, 'opt', 'ml');
      for (const dir of ['config', 'output', PROCESSING_ROOT.slice('/opt/ml/'.length)]) mkdirSync(path.join(optMl, dir), { recursive: true });
      await writer.open();
      await this.repo.update(name, (d) => ((d._kiln = { ...d._kiln, logStream }), (d.ProcessingStartTime = started), d));

      const dataWrangler = resolveDataWranglerImage(doc.AppSpecification.ImageUri);
      if (dataWrangler?.kind === 'unknown') throw new JobFailure(`ClientError: ${dataWrangler.reason}`);
      outcome = dataWrangler ? await this.runFlow(doc, workDir, writer, interrupted) : await this.runContainer(doc, workDir, optMl, writer, run, interrupted);
      if (run.runtimeExceeded) outcome = { status: 'Failed', reason: `MaxRuntimeExceeded: Processing job ran longer than StoppingCondition.MaxRuntimeInSeconds (${maxRuntime} seconds) and was stopped.` };
      else if (run.stopRequested) outcome = { status: 'Stopped' };
      else if (this.runs.closing) outcome = { status: 'Failed', reason: 'InternalServerError: The Kiln server was shut down while this processing job was running.' };
    } catch (e) {
      const reason = e instanceof JobFailure ? e.reason : `InternalServerError: ${(e as Error).message}`;
      if (!(e instanceof JobFailure)) this.deps.log.error('processing job failed inside Kiln', { job: name, error: String((e as Error)?.stack ?? e) });
      outcome = run.stopRequested ? { status: 'Stopped' } : { status: 'Failed', reason };
      writer.write(reason);
    } finally {
      clearTimeout(runtimeTimer);
      await writer.flush();
    }
    const ended = await this.repo.update(name, (d) => {
      const status = outcome.status === 'Completed' && d.ProcessingJobStatus === 'Stopping' ? 'Stopped' : outcome.status;
      return finishProcessing(d, status, new Date(), outcome.reason ? failureReason(outcome.reason) : undefined, outcome.exitMessage);
    });
    if (ended) await this.notify('ended', ended);
  }

  /** The Data Wrangler image: the flow in the `flow` input runs on Kiln's flow engine, in this process. */
  private async runFlow(doc: ProcessingJobDoc, workDir: string, writer: JobLogWriter, interrupted: () => boolean): Promise<Outcome> {
    const type = instanceType(doc.ProcessingResources.ClusterConfig.InstanceType)!;
    await runDataWranglerJob({
      doc,
      workDir,
      objects: this.deps.objects,
      catalog: this.deps.catalog,
      // The instance type's vCPUs, unless the operator pinned data-flow sessions' threads.
      threads: process.env.KILN_DUCKDB_THREADS ? undefined : effectiveThreads(type),
      log: (line) => writer.write(line),
      interrupted,
    });
    return { status: 'Completed' };
  }

  /** Any other image: inputs downloaded, the entry point run as a process, outputs uploaded (also when it fails). */
  private async runContainer(doc: ProcessingJobDoc, workDir: string, optMl: string, writer: JobLogWriter, run: ActiveRun, interrupted: () => boolean): Promise<Outcome> {
    const name = doc.ProcessingJobName;
    const uploaders: { output: ProcessingOutput; uploader: DirectoryUploader }[] = [];
    let outcome: Outcome = { status: 'Completed' };
    try {
      const image = resolveImage(doc.AppSpecification.ImageUri);
      if (image.kind === 'unknown') throw new JobFailure(`ClientError: ${image.reason} Processing jobs also run Data Wrangler flows (${dataWranglerImageUri(this.deps.region) ?? dataWranglerImageUri('us-east-1')} or kiln/data-wrangler).`);
      const framework = image.kind === 'framework' ? image.framework : 'xgboost';
      const launch = processingCommand(workDir, framework, doc.AppSpecification.ContainerEntrypoint, doc.AppSpecification.ContainerArguments);
      if (launch.python) {
        const missing = await missingFramework(framework);
        if (missing) throw new JobFailure(`ClientError: ${missing}`);
      }

      for (const input of doc.ProcessingInputs ?? []) {
        if (interrupted()) break;
        const s3 = input.S3Input;
        if (!s3) throw new JobFailure(`ClientError: ProcessingInputs '${input.InputName}': Kiln reads inputs from S3 only (DatasetDefinition is not supported).`);
        if (s3.S3InputMode === 'Pipe') throw new JobFailure(`ClientError: ProcessingInputs '${input.InputName}': Kiln supports S3InputMode File only.`);
        const local = hostPath(workDir, s3.LocalPath ?? `${PROCESSING_ROOT}input/${input.InputName}`);
        // One instance holds every shard of a ShardedByS3Key input.
        const got = await downloadChannel(this.deps.objects, { ChannelName: input.InputName, DataSource: { S3DataSource: { S3DataType: s3.S3DataType, S3Uri: s3.S3Uri } } }, local);
        writer.write(`Kiln: downloaded ${got.files} file(s), ${got.bytes} bytes, for input '${input.InputName}' to ${s3.LocalPath}`);
      }
      writeFileSync(path.join(optMl, 'config', 'processingjobconfig.json'), JSON.stringify(publicProcessingView(doc)));
      writeFileSync(path.join(optMl, 'config', 'resourceconfig.json'), JSON.stringify({ current_host: HOST, hosts: [HOST] }));

      for (const output of doc.ProcessingOutputConfig?.Outputs ?? []) {
        if (!output.S3Output) throw new JobFailure(`ClientError: ProcessingOutputConfig '${output.OutputName}': Kiln writes outputs to S3 only (FeatureStoreOutput is not supported).`);
        const local = hostPath(workDir, output.S3Output.LocalPath);
        mkdirSync(local, { recursive: true });
        const uploader = new DirectoryUploader(this.deps.objects, local, parseS3Uri(output.S3Output.S3Uri)!, (e) => writer.write(`Kiln: continuous upload of '${output.OutputName}' failed: ${(e as Error).message}`));
        if (output.S3Output.S3UploadMode === 'Continuous') uploader.start(this.deps.continuousUploadMs ?? 1_000);
        uploaders.push({ output, uploader });
      }

      const cluster = doc.ProcessingResources.ClusterConfig;
      const type = instanceType(cluster.InstanceType)!;
      const namespaces = namespacePlan({ isolateNetwork: doc.NetworkConfig?.EnableNetworkIsolation === true, optMl });
      for (const line of namespaces.logLines) writer.write(line);
      const stderr = new StderrTail();
      if (!interrupted()) {
        const proc = this.deps.executor.start({
          jobTag: name,
          command: launch.command,
          args: launch.args,
          cwd: workDir,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: process.env.HOME ?? workDir,
            LANG: process.env.LANG ?? 'C.UTF-8',
            PYTHONUNBUFFERED: '1',
            AWS_REGION: this.deps.region,
            AWS_DEFAULT_REGION: this.deps.region,
            KILN_OPT_ML: optMl,
            OMP_NUM_THREADS: String(effectiveThreads(type)),
            ...doc.Environment,
          },
          memoryLimitBytes: memoryLimitBytes(type),
          tagArgument: false,
          namespaces,
          onLine: (line, stream) => {
            if (stream === 'stderr') stderr.push(line);
            writer.write(line);
          },
        });
        run.process = proc;
        if (proc.pid) await this.repo.update(name, (d) => ((d._kiln = { ...d._kiln, pid: proc.pid }), d));
        if (interrupted()) proc.terminate(this.deps.stopGraceMs ?? 10_000);
        const exit = await proc.exited;
        run.process = undefined;
        const messageFile = path.join(optMl, 'output', 'message');
        const exitMessage = existsSync(messageFile) ? readFileSync(messageFile, 'utf8').slice(0, 1024) : undefined;
        if (exit.killedFor === 'memory') {
          throw new JobFailure(`OutOfMemoryError: The processing container used more than the ${type.memoryGiB} GiB of ${cluster.InstanceType}.`);
        }
        if (!interrupted() && exit.code !== 0) {
          const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
          outcome = { status: 'Failed', reason: `AlgorithmError: See job logs for more information. The processing container ended with ${how}: ${stderr.errorMessage()}`, exitMessage };
        } else {
          outcome = { status: 'Completed', exitMessage };
        }
      }
    } catch (e) {
      for (const { uploader } of uploaders) await uploader.stop().catch(() => 0);
      throw e;
    }
    // Outputs are uploaded when the job ends, whatever its status (SageMaker does so for EndOfJob too).
    for (const { output, uploader } of uploaders) {
      const count = await uploader.stop();
      writer.write(`Kiln: uploaded ${count} file(s) of output '${output.OutputName}' to ${output.S3Output!.S3Uri}`);
    }
    return outcome;
  }

  private notify(event: keyof JobListener<ProcessingJobDoc>, doc: ProcessingJobDoc): Promise<void> {
    return notifyListener(this.deps.listener, event, doc, { kind: 'processing job', name: doc.ProcessingJobName, log: this.deps.log });
  }
}
