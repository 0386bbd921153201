/**
 * Training jobs: creation with SageMaker's checks, the run of each job through its phases
 * (Starting → Downloading → Training → Uploading → Completed), stopping, the runtime limit,
 * and reconciliation of jobs a previous server left running.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsError } from '../../server/errors.ts';
import type { Logger } from '../../server/logger.ts';
import type { MetadataDb } from '../../store/metadata/database.ts';
import { ResourceRepository, type ListQuery } from '../../store/metadata/resources.ts';
import { listError } from '../list-error.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import { isEmptyDir, joinS3, uploadTarGz } from './artifacts.ts';
import { downloadChannel, parseS3Uri, type ChannelSource } from './channels.ts';
import { DirectoryUploader } from './directory-uploader.ts';
import { containerPaths, createLayout, trainingEnvironment, writeConfigFiles, type ContainerPaths } from './container-layout.ts';
import type { Executor, JobProcess } from './executor.ts';
import { JobRuns } from './job-runs.ts';
import { notifyListener, type JobListener } from './job-listener.ts';
import { failureReason, JobFailure } from './failure.ts';
import { frameworkLabel } from './framework-images.ts';
import { resolveImage } from './images.ts';
import { effectiveThreads, instanceType, memoryLimitBytes } from './instance-types.ts';
import { JobLogWriter, type LogSink } from './job-logs.ts';
import { TSX_LOADER } from './runtimes.ts';
import { builtinXgboostMetrics, definitionMetrics, MetricCollector, type MetricExtractor } from './metrics.ts';
import { namespacePlan } from './namespaces.ts';
import { fetchSourceDirectory, prepareScriptLaunch, scriptFailureReason, scriptFramework, StderrTail } from './script-mode.ts';
import { splitHyperparameters } from './toolkit-environment.ts';
import { ACTIVE_STATUSES, finish, interrupt, publicView, resumesAfterInterruption, transition, type TrainingJobDoc } from './training-job.ts';

export const TRAINING_LOG_GROUP = '/aws/sagemaker/TrainingJobs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** What a built-in algorithm runs as: a Node process with its container entry point. */
const BUILTIN_ENTRY: Record<string, string> = {
  xgboost: path.join(ROOT, 'src/algorithms/xgboost/container.ts'),
};

export interface TrainingJobsDeps {
  db: MetadataDb;
  objects: ObjectStore;
  logs: LogSink;
  executor: Executor;
  dataDir: string;
  region: string;
  accountId: string;
  log: Logger;
  /** How long a stopped job's process has between SIGTERM and SIGKILL (SageMaker: 120 s). */
  stopGraceMs?: number;
  /** How often /opt/ml/checkpoints is uploaded while a job runs (KILN_CHECKPOINT_SYNC_MS, default 1 s). */
  checkpointSyncMs?: number;
  /** Told when a job is created and when it ends (experiment tracking, lineage). */
  listener?: TrainingJobListener;
}

export type TrainingJobListener = JobListener<TrainingJobDoc>;

interface ActiveRun {
  stopRequested: boolean;
  process?: JobProcess;
  runtimeTimer?: NodeJS.Timeout;
  runtimeExceeded: boolean;
  done: Promise<void>;
}

const notFound = () => new AwsError('ValidationException', 'Requested resource not found.', 400);

export class TrainingJobs {
  readonly repo: ResourceRepository<TrainingJobDoc>;
  private readonly runs: JobRuns<ActiveRun>;

  constructor(private readonly deps: TrainingJobsDeps) {
    this.runs = new JobRuns<ActiveRun>('training job', deps.log);
    this.repo = new ResourceRepository<TrainingJobDoc>(deps.db, 'training-job', (d) => ({
      name: d.TrainingJobName,
      arn: d.TrainingJobArn,
      status: d.TrainingJobStatus,
      creationTime: d.CreationTime,
      lastModifiedTime: d.LastModifiedTime,
    }));
  }

  arnOf(name: string): string {
    return `arn:aws:sagemaker:${this.deps.region}:${this.deps.accountId}:training-job/${name.toLowerCase()}`;
  }

  async create(input: Record<string, any>): Promise<{ TrainingJobArn: string }> {
    const name: string = input.TrainingJobName;
    const spec = input.AlgorithmSpecification ?? {};
    if (!spec.TrainingImage && !spec.AlgorithmName) {
      throw new AwsError('ValidationException', 'Either TrainingImage or AlgorithmName must be specified in AlgorithmSpecification.');
    }
    const typeName: string = input.ResourceConfig?.InstanceType;
    const type = typeName ? instanceType(typeName) : undefined;
    if (!type) {
      throw new AwsError('ValidationException', `ResourceConfig.InstanceType must be an ML instance type such as ml.m5.large${typeName ? `; Kiln does not know '${typeName}'` : ''}.`);
    }
    const count = input.ResourceConfig?.InstanceCount ?? 1;
    if (count !== 1) {
      throw new AwsError('ValidationException', `Kiln runs a training job on one instance: ResourceConfig.InstanceCount must be 1, not ${count}.`);
    }
    const channels: ChannelSource[] = input.InputDataConfig ?? [];
    const seen = new Set<string>();
    for (const c of channels) {
      if (seen.has(c.ChannelName)) throw new AwsError('ValidationException', `Channel names must be unique: '${c.ChannelName}' appears more than once in InputDataConfig.`);
      seen.add(c.ChannelName);
    }
    if (!parseS3Uri(input.OutputDataConfig?.S3OutputPath ?? '')) {
      throw new AwsError('ValidationException', `OutputDataConfig.S3OutputPath '${input.OutputDataConfig?.S3OutputPath}' is not an S3 URI (s3://bucket/prefix).`);
    }
    if (spec.MetricDefinitions) {
      try {
        definitionMetrics(spec.MetricDefinitions);
      } catch (e) {
        throw new AwsError('ValidationException', (e as Error).message);
      }
    }
    if (input.CheckpointConfig && !parseS3Uri(input.CheckpointConfig.S3Uri ?? '')) {
      throw new AwsError('ValidationException', `CheckpointConfig.S3Uri '${input.CheckpointConfig.S3Uri}' is not an S3 URI (s3://bucket/prefix).`);
    }
    if (input.EnableManagedSpotTraining) {
      const wait = input.StoppingCondition?.MaxWaitTimeInSeconds;
      const runtime = input.StoppingCondition?.MaxRuntimeInSeconds ?? 86400;
      if (wait === undefined || wait < runtime) {
        throw new AwsError('ValidationException', `Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to MaxRuntimeInSeconds (${runtime}) when EnableManagedSpotTraining is true.`);
      }
    }
    const running = await this.repo.countByStatus(ACTIVE_STATUSES, (d) => d.ResourceConfig.InstanceType === typeName);
    if (running + 1 > type.trainingQuota) {
      throw new AwsError(
        'ResourceLimitExceeded',
        `The account-level service limit '${typeName} for training job usage' is ${type.trainingQuota} Instances, with current utilization of ${running} Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota.`,
      );
    }

    const now = new Date();
    const arn = this.arnOf(name);
    const doc: TrainingJobDoc = {
      TrainingJobName: name,
      TrainingJobArn: arn,
      TrainingJobStatus: 'InProgress',
      SecondaryStatus: 'Starting',
      HyperParameters: input.HyperParameters ?? {},
      AlgorithmSpecification: { TrainingInputMode: 'File', ...spec },
      RoleArn: input.RoleArn,
      InputDataConfig: input.InputDataConfig,
      OutputDataConfig: input.OutputDataConfig,
      ResourceConfig: { InstanceCount: 1, VolumeSizeInGB: 30, ...input.ResourceConfig },
      StoppingCondition: { MaxRuntimeInSeconds: 86400, ...input.StoppingCondition },
      CreationTime: now,
      LastModifiedTime: now,
      SecondaryStatusTransitions: [],
      EnableNetworkIsolation: input.EnableNetworkIsolation ?? false,
      EnableInterContainerTrafficEncryption: input.EnableInterContainerTrafficEncryption ?? false,
      EnableManagedSpotTraining: input.EnableManagedSpotTraining ?? false,
      ...(input.CheckpointConfig ? { CheckpointConfig: input.CheckpointConfig } : {}),
      ...(input.Environment ? { Environment: input.Environment } : {}),
      ...(input.ExperimentConfig ? { ExperimentConfig: input.ExperimentConfig } : {}),
      ...(input.VpcConfig ? { VpcConfig: input.VpcConfig } : {}),
      ...(input.RetryStrategy ? { RetryStrategy: input.RetryStrategy } : {}),
      _kiln: { workDir: path.join(this.deps.dataDir, 'jobs', 'training', name) },
    };
    transition(doc, 'Starting', now);
    if (!(await this.repo.insert(doc))) {
      const existing = await this.repo.get(name);
      throw new AwsError('ResourceInUse', `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${existing?.TrainingJobArn ?? arn})`);
    }
    await this.notify('created', doc);
    this.launch(name);
    return { TrainingJobArn: arn };
  }

  async describe(name: string): Promise<Record<string, unknown>> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound();
    return publicView(doc);
  }

  async list(query: ListQuery): Promise<{ TrainingJobSummaries: Record<string, unknown>[]; NextToken?: string }> {
    const { items, nextToken } = await this.repo.list(query).catch(listError);
    return {
      TrainingJobSummaries: items.map((d) => ({
        TrainingJobName: d.TrainingJobName,
        TrainingJobArn: d.TrainingJobArn,
        CreationTime: d.CreationTime,
        ...(d.TrainingEndTime ? { TrainingEndTime: d.TrainingEndTime } : {}),
        LastModifiedTime: d.LastModifiedTime,
        TrainingJobStatus: d.TrainingJobStatus,
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async stop(name: string): Promise<void> {
    const doc = await this.repo.get(name);
    if (!doc) throw notFound();
    if (doc.TrainingJobStatus !== 'InProgress') {
      if (doc.TrainingJobStatus === 'Stopping') return;
      throw new AwsError('ValidationException', `The request was rejected because the training job is in status ${doc.TrainingJobStatus}.`);
    }
    await this.repo.update(name, (d) => {
      if (d.TrainingJobStatus !== 'InProgress') return undefined;
      d.TrainingJobStatus = 'Stopping';
      return transition(d, 'Stopping', new Date());
    });
    this.runs.stop(name, (run) => run.process?.terminate(this.deps.stopGraceMs ?? 10_000));
  }

  /** Waits until a job's run has ended (tests and shutdown). */
  async settled(name: string): Promise<void> {
    await this.runs.settled(name);
  }

  /**
   * Jobs that a previous server left InProgress or Stopping lost their process (a child of
   * that server): a surviving orphan is ended; managed spot jobs with checkpoints are
   * interrupted and start again from their last checkpoint, as SageMaker resumes them after
   * a spot interruption; the others fail clearly.
   */
  async reconcile(): Promise<number> {
    const stale = await this.repo.listByStatus(ACTIVE_STATUSES);
    for (const doc of stale) {
      if (doc._kiln?.pid) this.deps.executor.killOrphan(doc._kiln.pid, doc.TrainingJobName);
      if (resumesAfterInterruption(doc)) {
        const now = new Date();
        const waited = (now.getTime() - doc.CreationTime.getTime()) / 1000;
        const maxWait = doc.StoppingCondition.MaxWaitTimeInSeconds ?? Infinity;
        const resumed = await this.repo.update(doc.TrainingJobName, (d) => {
          if (!resumesAfterInterruption(d)) return undefined;
          if (waited > maxWait) return finish(d, 'Failed', 'MaxWaitTimeExceeded', now, `MaxWaitTimeExceeded: The training job was interrupted and could not finish within StoppingCondition.MaxWaitTimeInSeconds (${maxWait} seconds).`);
          return interrupt(d, now);
        });
        if (resumed?.TrainingJobStatus === 'InProgress') {
          this.deps.log.warn('interrupted spot training job resumes from its last checkpoint', { job: doc.TrainingJobName });
          this.launch(doc.TrainingJobName);
        } else if (resumed && !ACTIVE_STATUSES.includes(resumed.TrainingJobStatus)) {
          await this.notify('ended', resumed);
        }
        continue;
      }
      const ended = await this.repo.update(doc.TrainingJobName, (d) => {
        if (!ACTIVE_STATUSES.includes(d.TrainingJobStatus)) return undefined;
        const now = new Date();
        if (d.TrainingJobStatus === 'Stopping') return finish(d, 'Stopped', 'Stopped', now);
        return finish(d, 'Failed', 'Failed', now, 'InternalServerError: The Kiln server stopped while this training job was running, so the job was ended. Start it again with a new name.');
      });
      if (ended && !ACTIVE_STATUSES.includes(ended.TrainingJobStatus)) await this.notify('ended', ended);
      this.deps.log.warn('training job ended by restart reconciliation', { job: doc.TrainingJobName, status: doc.TrainingJobStatus });
    }
    return stale.length;
  }

  /** Ends every running job (server shutdown): their processes are stopped and the jobs fail clearly. */
  async close(): Promise<void> {
    await this.runs.close((run) => run.process?.terminate(2_000));
  }

  private launch(name: string): void {
    this.runs.start(
      name,
      { stopRequested: false, runtimeExceeded: false, done: Promise.resolve() },
      (run) => this.execute(name, run),
      (run) => clearTimeout(run.runtimeTimer),
    );
  }

  private async setPhase(name: string, secondary: string, patch: (d: TrainingJobDoc) => void = () => {}): Promise<void> {
    await this.repo.update(name, (d) => {
      if (d.TrainingJobStatus !== 'InProgress') return undefined;
      patch(d);
      return transition(d, secondary, new Date());
    });
  }

  private async execute(name: string, run: ActiveRun): Promise<void> {
    const doc = (await this.repo.get(name))!;
    const paths = containerPaths(path.join(doc._kiln!.workDir!, 'opt', 'ml'));
    const started = new Date();
    const logStream = `${name}/algo-1-${Math.floor(started.getTime() / 1000)}`;
    const writer = new JobLogWriter(this.deps.logs, TRAINING_LOG_GROUP, logStream, (e) =>
      this.deps.log.error('job log write failed', { job: name, error: String(e) }),
    );
    let collector: MetricCollector | undefined;
    let checkpoints: DirectoryUploader | undefined;
    let outcome: { status: 'Completed' | 'Failed' | 'Stopped'; secondary: string; reason?: string } = { status: 'Completed', secondary: 'Completed' };

    const maxRuntime = doc.StoppingCondition.MaxRuntimeInSeconds ?? 86400;
    run.runtimeTimer = setTimeout(() => {
      run.runtimeExceeded = true;
      run.process?.terminate(this.deps.stopGraceMs ?? 10_000);
    }, maxRuntime * 1000);
    run.runtimeTimer.unref();
    const interrupted = () => run.stopRequested || run.runtimeExceeded || this.runs.closing;

    try {
      rmSync(doc._kiln!.workDir!, { recursive: true, force: true });
      createLayout(paths);
      await writer.open();
      await this.repo.update(name, (d) => {
        d._kiln = { ...d._kiln, logStream, segmentStart: started.getTime() };
        d.TrainingStartTime ??= started;
        return d;
      });

      const image = resolveImage(doc.AlgorithmSpecification.TrainingImage ?? doc.AlgorithmSpecification.AlgorithmName ?? '');
      if (image.kind === 'unknown') throw new JobFailure(`ClientError: ${image.reason}`);
      const script = splitHyperparameters(doc.HyperParameters ?? {});
      const framework = scriptFramework(image, script.program);
      if (framework && !script.program) {
        throw new JobFailure(`ClientError: The ${frameworkLabel(framework)} image runs a training script in script mode: set the hyperparameters sagemaker_program (the entry point) and sagemaker_submit_directory (the S3 URI of its source tar.gz), as the SageMaker Python SDK's Estimator(entry_point=...) does.`);
      }
      const entry = image.kind === 'builtin' ? BUILTIN_ENTRY[image.algorithm] : undefined;
      if (!framework && !entry) throw new JobFailure(`ClientError: The built-in algorithm is not available in Kiln.`);
      const namespaces = namespacePlan({ isolateNetwork: doc.EnableNetworkIsolation === true, optMl: framework ? paths.root : undefined });
      for (const line of namespaces.logLines) writer.write(line);
      let extract: MetricExtractor = builtinXgboostMetrics;
      if (doc.AlgorithmSpecification.MetricDefinitions?.length) {
        const custom = definitionMetrics(doc.AlgorithmSpecification.MetricDefinitions);
        extract = (line) => [...builtinXgboostMetrics(line), ...custom(line)];
      }
      collector = new MetricCollector(extract);

      // Downloading
      await this.setPhase(name, 'Downloading');
      const channels = (doc.InputDataConfig ?? []) as ChannelSource[];
      for (const channel of channels) {
        if (interrupted()) break;
        const got = await downloadChannel(this.deps.objects, channel, paths.channel(channel.ChannelName));
        writer.write(`Kiln: downloaded ${got.files} file(s), ${got.bytes} bytes, for channel '${channel.ChannelName}'`);
      }
      if (framework && !interrupted()) await fetchSourceDirectory(this.deps.objects, script.submitDirectory, paths.code);
      await this.downloadCheckpoints(doc, paths, writer);
      checkpoints = this.checkpointSync(name, doc, paths, writer);
      const type = instanceType(doc.ResourceConfig.InstanceType!)!;
      const threads = effectiveThreads(type);
      writeConfigFiles(paths, {
        hyperparameters: doc.HyperParameters ?? {},
        instanceType: doc.ResourceConfig.InstanceType!,
        channels: (doc.InputDataConfig ?? []) as never,
        defaultInputMode: doc.AlgorithmSpecification.TrainingInputMode,
      });

      // Training
      if (!interrupted()) {
        await this.setPhase(name, 'Training');
        const baseEnv = {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? paths.root,
          LANG: process.env.LANG ?? 'C.UTF-8',
          ...doc.Environment,
        };
        const common = { jobName: name, channels: channels.map((c) => c.ChannelName), instanceType: doc.ResourceConfig.InstanceType!, threads, region: this.deps.region };
        const launch = framework
          ? await prepareScriptLaunch({ ...common, framework, paths, codeDir: paths.code, hyperparameters: script, baseEnv, log: (l) => writer.write(l) })
          : {
              command: process.execPath,
              args: ['--import', TSX_LOADER, entry!],
              cwd: paths.root,
              env: { ...baseEnv, ...trainingEnvironment(paths, { ...common, hyperparameters: doc.HyperParameters ?? {} }) },
            };
        const stderr = new StderrTail();
        const proc = this.deps.executor.start({
          jobTag: name,
          command: launch.command,
          args: launch.args,
          cwd: launch.cwd,
          env: launch.env,
          memoryLimitBytes: memoryLimitBytes(type),
          tagArgument: !framework,
          namespaces,
          onLine: (line, stream) => {
            if (stream === 'stderr') stderr.push(line);
            collector!.observe(writer.write(line));
          },
        });
        run.process = proc;
        if (proc.pid) await this.repo.update(name, (d) => ((d._kiln = { ...d._kiln, pid: proc.pid }), d));
        if (interrupted()) proc.terminate(this.deps.stopGraceMs ?? 10_000);
        const exit = await proc.exited;
        run.process = undefined;
        if (exit.killedFor === 'memory') {
          throw new JobFailure(`OutOfMemoryError: Please use an instance type with more memory, or reduce the size of training data processed on an instance. The training process used more than the ${type.memoryGiB} GiB of ${doc.ResourceConfig.InstanceType}.`);
        }
        if (!interrupted() && exit.code !== 0) {
          const reported = existsSync(paths.failure) ? readFileSync(paths.failure, 'utf8').trim() : '';
          if (reported) throw new JobFailure(reported);
          if ('commandLine' in launch) throw new JobFailure(scriptFailureReason(exit, launch.commandLine, stderr));
          throw new JobFailure(`AlgorithmError: The training process exited with ${exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`}.`);
        }
      }

      if (run.runtimeExceeded) {
        outcome = { status: 'Failed', secondary: 'MaxRuntimeExceeded', reason: `MaxRuntimeExceeded: Training job ran longer than StoppingCondition.MaxRuntimeInSeconds (${maxRuntime} seconds) and was stopped.` };
      } else if (run.stopRequested) {
        outcome = { status: 'Stopped', secondary: 'Stopped' };
      } else if (this.runs.closing) {
        outcome = { status: 'Failed', secondary: 'Failed', reason: 'InternalServerError: The Kiln server was shut down while this training job was running.' };
      }

      // Uploading: a stopped job keeps what its algorithm saved, as on SageMaker.
      if (outcome.status === 'Completed' || (outcome.status === 'Stopped' && !isEmptyDir(paths.model))) {
        await this.setPhase(name, 'Uploading');
        await this.repo.update(name, (d) => (d.TrainingJobStatus === 'Stopping' ? transition(d, 'Uploading', new Date()) : undefined));
        const output = parseS3Uri(doc.OutputDataConfig!.S3OutputPath)!;
        const modelLocation = joinS3(output, name, 'output', 'model.tar.gz');
        await uploadTarGz(this.deps.objects, paths.model, modelLocation);
        if (!isEmptyDir(paths.outputData)) await uploadTarGz(this.deps.objects, paths.outputData, joinS3(output, name, 'output', 'output.tar.gz'));
        await this.repo.update(name, (d) => ((d.ModelArtifacts = { S3ModelArtifacts: `s3://${modelLocation.bucket}/${modelLocation.key}` }), d));
      }
    } catch (e) {
      const reason = e instanceof JobFailure ? e.reason : `InternalServerError: ${(e as Error).message}`;
      if (!(e instanceof JobFailure)) this.deps.log.error('training job failed inside Kiln', { job: name, error: String((e as Error)?.stack ?? e) });
      outcome = run.stopRequested && !(e instanceof JobFailure) ? { status: 'Stopped', secondary: 'Stopped' } : { status: 'Failed', secondary: 'Failed', reason };
      writer.write(reason);
    } finally {
      await checkpoints?.stop().catch((e) => writer.write(`Kiln: the last checkpoint upload failed: ${(e as Error).message}`));
      await writer.flush();
    }

    const finalMetrics = collector?.final() ?? [];
    const ended = await this.repo.update(name, (d) => {
      if (finalMetrics.length) d.FinalMetricDataList = finalMetrics;
      // A stop that raced a successful finish still ends Stopped, as the user asked.
      const status = outcome.status === 'Completed' && d.TrainingJobStatus === 'Stopping' ? 'Stopped' : outcome.status;
      return finish(d, status, status === 'Stopped' ? 'Stopped' : outcome.secondary, new Date(), outcome.reason ? failureReason(outcome.reason) : undefined);
    });
    if (ended) await this.notify('ended', ended);
  }

  private notify(event: keyof JobListener<TrainingJobDoc>, doc: TrainingJobDoc): Promise<void> {
    return notifyListener(this.deps.listener, event, doc, { kind: 'training job', name: doc.TrainingJobName, log: this.deps.log });
  }

  /** CheckpointConfig: what a previous run (or a resumed spot job) left in S3 goes into /opt/ml/checkpoints first. */
  private async downloadCheckpoints(doc: TrainingJobDoc, paths: ContainerPaths, writer: JobLogWriter): Promise<void> {
    const uri = doc.CheckpointConfig?.S3Uri;
    const location = uri ? parseS3Uri(`${uri.replace(/\/+$/, '')}/`) : undefined;
    if (!location) return;
    const listing = await this.deps.objects.listObjects({ bucket: location.bucket, prefix: location.key, maxKeys: 1 }).catch(() => undefined);
    if (!listing?.objects.length) return;
    const got = await downloadChannel(this.deps.objects, { ChannelName: 'checkpoints', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: `s3://${location.bucket}/${location.key}` } } }, paths.checkpoints);
    writer.write(`Kiln: restored ${got.files} checkpoint file(s) from ${uri} into /opt/ml/checkpoints`);
  }

  /**
   * Uploads /opt/ml/checkpoints to CheckpointConfig.S3Uri while the job runs, as SageMaker
   * does, and records when a checkpoint last reached S3 (what an interrupted spot job is billed up to).
   */
  private checkpointSync(name: string, doc: TrainingJobDoc, paths: ContainerPaths, writer: JobLogWriter): DirectoryUploader | undefined {
    const location = doc.CheckpointConfig?.S3Uri ? parseS3Uri(doc.CheckpointConfig.S3Uri) : undefined;
    if (!location) return undefined;
    const uploader = new DirectoryUploader(this.deps.objects, paths.checkpoints, location, (e) => writer.write(`Kiln: checkpoint upload failed: ${(e as Error).message}`), async (count) => {
      if (count) await this.repo.update(name, (d) => ((d._kiln = { ...d._kiln, lastCheckpointAt: Date.now() }), d));
    });
    uploader.start(this.deps.checkpointSyncMs ?? Number(process.env.KILN_CHECKPOINT_SYNC_MS ?? 1_000));
    return uploader;
  }
}
