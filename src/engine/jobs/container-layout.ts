/**
 * The working directory of a job, laid out as a SageMaker container sees /opt/ml:
 *
 *   input/config/{hyperparameters,resourceconfig,inputdataconfig}.json
 *   input/data/<channel>/...   model/   output/{failure,data/}   checkpoints/
 *
 * and the environment variables SageMaker's training toolkit sets (SM_*).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ContainerPaths {
  root: string;
  config: string;
  data: string;
  model: string;
  output: string;
  outputData: string;
  failure: string;
  checkpoints: string;
  /** Where script mode unpacks the user's source directory (/opt/ml/code). */
  code: string;
  channel(name: string): string;
}

export function containerPaths(root: string): ContainerPaths {
  const data = path.join(root, 'input', 'data');
  const output = path.join(root, 'output');
  return {
    root,
    config: path.join(root, 'input', 'config'),
    data,
    model: path.join(root, 'model'),
    output,
    outputData: path.join(output, 'data'),
    failure: path.join(output, 'failure'),
    checkpoints: path.join(root, 'checkpoints'),
    code: path.join(root, 'code'),
    channel: (name) => path.join(data, name),
  };
}

export function createLayout(paths: ContainerPaths): void {
  for (const dir of [paths.config, paths.data, paths.model, paths.outputData, paths.checkpoints]) mkdirSync(dir, { recursive: true });
}

export interface ChannelConfig {
  ChannelName: string;
  ContentType?: string;
  CompressionType?: string;
  RecordWrapperType?: string;
  InputMode?: string;
  S3DistributionType?: string;
}

export const HOST = 'algo-1';

export function writeConfigFiles(
  paths: ContainerPaths,
  opts: { hyperparameters: Record<string, string>; instanceType: string; channels: ChannelConfig[]; defaultInputMode: string },
): void {
  const json = (file: string, value: unknown) => writeFileSync(path.join(paths.config, file), JSON.stringify(value));
  json('hyperparameters.json', opts.hyperparameters);
  json('resourceconfig.json', {
    current_host: HOST,
    current_instance_type: opts.instanceType,
    current_group_name: 'homogeneousCluster',
    hosts: [HOST],
    instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: opts.instanceType, hosts: [HOST] }],
    network_interface_name: 'eth0',
  });
  json(
    'inputdataconfig.json',
    Object.fromEntries(
      opts.channels.map((c) => [
        c.ChannelName,
        {
          ...(c.ContentType ? { ContentType: c.ContentType } : {}),
          TrainingInputMode: c.InputMode ?? opts.defaultInputMode,
          S3DistributionType: c.S3DistributionType ?? 'FullyReplicated',
          RecordWrapperType: c.RecordWrapperType ?? 'None',
        },
      ]),
    ),
  );
}

/** The SM_* variables of the SageMaker training toolkit, pointing into this layout. */
export function trainingEnvironment(
  paths: ContainerPaths,
  opts: { jobName: string; hyperparameters: Record<string, string>; channels: string[]; instanceType: string; threads: number; region: string },
): Record<string, string> {
  const env: Record<string, string> = {
    SM_MODEL_DIR: paths.model,
    SM_INPUT_DIR: path.dirname(paths.config),
    SM_INPUT_CONFIG_DIR: paths.config,
    SM_OUTPUT_DIR: paths.output,
    SM_OUTPUT_DATA_DIR: paths.outputData,
    SM_OUTPUT_INTERMEDIATE_DIR: path.join(paths.output, 'intermediate'),
    SM_CHECKPOINT_DIR: paths.checkpoints,
    SM_CHANNELS: JSON.stringify(opts.channels),
    SM_HPS: JSON.stringify(opts.hyperparameters),
    SM_HOSTS: JSON.stringify([HOST]),
    SM_CURRENT_HOST: HOST,
    SM_CURRENT_INSTANCE_TYPE: opts.instanceType,
    SM_NUM_CPUS: String(opts.threads),
    SM_NUM_GPUS: '0',
    SM_TRAINING_ENV: JSON.stringify({ job_name: opts.jobName, hosts: [HOST], current_host: HOST, channel_input_dirs: Object.fromEntries(opts.channels.map((c) => [c, paths.channel(c)])) }),
    TRAINING_JOB_NAME: opts.jobName,
    AWS_REGION: opts.region,
    KILN_OPT_ML: paths.root,
  };
  for (const c of opts.channels) env[`SM_CHANNEL_${c.toUpperCase()}`] = paths.channel(c);
  for (const [k, v] of Object.entries(opts.hyperparameters)) env[`SM_HP_${k.toUpperCase()}`] = v;
  return env;
}
