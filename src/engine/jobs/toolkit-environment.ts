/**
 * What SageMaker's training toolkit (sagemaker-training) hands a user's script: the
 * hyperparameters decoded from the JSON strings the SDK stores them as, split into the
 * user's and the framework's (`sagemaker_*`), the SM_* environment variables, and the
 * command-line arguments, each formatted as the toolkit formats them with Python's str()
 * and json.dumps(sort_keys=True, separators=(",", ":")).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pyFloat } from '../hosting/xgboost-serving.ts';
import { HOST, type ContainerPaths } from './container-layout.ts';

/** A hyperparameter as the toolkit sees it: the JSON value of the string, or the string itself. */
export interface HyperValue {
  value: unknown;
  /** A number written with a fraction or exponent, a float in Python (1.0 stays "1.0"). */
  float: boolean;
}

export function decodeHyperparameter(raw: string): HyperValue {
  try {
    const value: unknown = JSON.parse(raw);
    return { value, float: typeof value === 'number' && /[.eE]/.test(raw) };
  } catch {
    return { value: raw, float: false };
  }
}

/** The toolkit's own parameters; other `sagemaker_*` ones are additional framework parameters. */
const TOOLKIT_PARAMETERS = new Set([
  'sagemaker_program',
  'sagemaker_submit_directory',
  'sagemaker_container_log_level',
  'sagemaker_job_name',
  'sagemaker_region',
  'sagemaker_enable_cloudwatch_metrics',
  'sagemaker_s3_output',
]);

export interface ScriptHyperparameters {
  program?: string;
  submitDirectory?: string;
  logLevel: number;
  user: Record<string, HyperValue>;
  framework: Record<string, HyperValue>;
}

export function splitHyperparameters(raw: Record<string, string>): ScriptHyperparameters {
  const user: Record<string, HyperValue> = {};
  const framework: Record<string, HyperValue> = {};
  const toolkit: Record<string, HyperValue> = {};
  for (const [key, text] of Object.entries(raw)) {
    const decoded = decodeHyperparameter(text);
    if (TOOLKIT_PARAMETERS.has(key)) toolkit[key] = decoded;
    else if (key.startsWith('sagemaker_')) framework[key] = decoded;
    else user[key] = decoded;
  }
  const str = (k: string) => (toolkit[k] === undefined ? undefined : pyStr(toolkit[k]!.value));
  const level = Number(toolkit.sagemaker_container_log_level?.value ?? 20);
  return { program: str('sagemaker_program'), submitDirectory: str('sagemaker_submit_directory'), logLevel: Number.isFinite(level) ? level : 20, user, framework };
}

/** Python's str() of a JSON value. */
export function pyStr(value: unknown, float = false): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return float || !Number.isInteger(value) ? pyFloat(value) : String(value);
  return pyRepr(value);
}

/** Python's repr() of a JSON value (lists and dicts print their items with repr). */
function pyRepr(value: unknown): string {
  if (typeof value === 'string') {
    // Python quotes with ' unless the text holds a ' and no ".
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return `${quote}${quote === "'" ? body.replace(/'/g, "\\'") : body}${quote}`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return pyStr(value);
}

/** A number Python holds as a float, so json.dumps writes 1.0 where JSON.stringify writes 1. */
class PythonFloat {
  constructor(readonly value: number) {}
}

/** json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True). */
export function pyJson(value: unknown, float = false): string {
  if (value instanceof PythonFloat) return pyJson(value.value, true);
  if (typeof value === 'number') return float || !Number.isInteger(value) ? pyFloat(value).replace(/^inf$/, 'Infinity').replace(/^-inf$/, '-Infinity').replace(/^nan$/, 'NaN') : String(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyJson(v)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${pyJson(k)}:${pyJson(v)}`).join(',')}}`;
  }
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(value ?? null).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The toolkit's value of a decoded hyperparameter map, for json.dumps and SM_HP_*. */
function plain(hps: Record<string, HyperValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(hps).map(([k, v]) => [k, v.float ? new PythonFloat(v.value as number) : v.value]));
}

/** mapping.to_env_vars' format_value: strings as they are, None as '', the rest as JSON. */
function envValue({ value, float }: HyperValue): string {
  if (value === null) return '';
  return typeof value === 'string' ? value : pyJson(value, float);
}

/** mapping.to_cmd_args: sorted keys, `--key value` (`-k` for one-letter keys), dicts as k=v,k=v. */
export function toolkitArguments(hps: Record<string, HyperValue>): string[] {
  const args: string[] = [];
  for (const key of Object.keys(hps).sort()) {
    const { value, float } = hps[key]!;
    args.push(key.length > 1 ? `--${key}` : `-${key}`);
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      args.push(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${pyStr(v)}`).join(','));
    } else {
      args.push(value === null ? '' : pyStr(value, float));
    }
  }
  return args;
}

/** The training toolkit's framework module for each framework container. */
const FRAMEWORK_MODULES: Record<string, string> = {
  sklearn: 'sagemaker_sklearn_container.training:main',
  pytorch: 'sagemaker_pytorch_container.training:main',
  tensorflow: 'sagemaker_tensorflow_container.training:main',
  xgboost: 'sagemaker_xgboost_container.training:main',
};

export interface ToolkitEnvironmentOptions {
  jobName: string;
  framework: string;
  program: string;
  submitDirectory: string;
  hyperparameters: ScriptHyperparameters;
  channels: string[];
  instanceType: string;
  threads: number;
  region: string;
  codeDir: string;
}

function readConfig(paths: ContainerPaths, file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path.join(paths.config, file), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Every SM_* variable the toolkit sets (environment.Environment.to_env_vars), pointing into the job's layout. */
export function toolkitEnvironment(paths: ContainerPaths, o: ToolkitEnvironmentOptions): Record<string, string> {
  const channels = [...o.channels].sort();
  const channelDirs = Object.fromEntries(channels.map((c) => [c, paths.channel(c)]));
  const resourceConfig = readConfig(paths, 'resourceconfig.json');
  const inputDataConfig = readConfig(paths, 'inputdataconfig.json');
  const moduleName = o.program.replace(/\.py$/, '');
  const training = {
    additional_framework_parameters: plain(o.hyperparameters.framework),
    channel_input_dirs: channelDirs,
    current_host: HOST,
    current_instance_group: 'homogeneousCluster',
    current_instance_group_hosts: [HOST],
    current_instance_type: o.instanceType,
    distribution_hosts: [],
    distribution_instance_groups: [],
    framework_module: FRAMEWORK_MODULES[o.framework] ?? null,
    hosts: [HOST],
    hyperparameters: plain(o.hyperparameters.user),
    input_config_dir: paths.config,
    input_data_config: inputDataConfig,
    input_dir: path.dirname(paths.config),
    instance_groups: ['homogeneousCluster'],
    instance_groups_dict: { homogeneousCluster: { hosts: [HOST], instance_group_name: 'homogeneousCluster', instance_type: o.instanceType } },
    is_hetero: false,
    is_master: true,
    is_modelparallel_enabled: null,
    job_name: o.jobName,
    log_level: o.hyperparameters.logLevel,
    master_hostname: HOST,
    model_dir: paths.model,
    module_dir: o.submitDirectory,
    module_name: moduleName,
    network_interface_name: 'eth0',
    num_cpus: o.threads,
    num_gpus: 0,
    num_neurons: 0,
    output_data_dir: paths.outputData,
    output_dir: paths.output,
    output_intermediate_dir: path.join(paths.output, 'intermediate'),
    resource_config: resourceConfig,
    user_entry_point: o.program,
  };
  const userArgs = toolkitArguments(o.hyperparameters.user);
  const env: Record<string, string> = {
    SM_HOSTS: pyJson([HOST]),
    SM_NETWORK_INTERFACE_NAME: 'eth0',
    SM_HPS: pyJson(plain(o.hyperparameters.user)),
    SM_USER_ENTRY_POINT: o.program,
    SM_FRAMEWORK_PARAMS: pyJson(plain(o.hyperparameters.framework)),
    SM_RESOURCE_CONFIG: pyJson(resourceConfig),
    SM_INPUT_DATA_CONFIG: pyJson(inputDataConfig),
    SM_OUTPUT_DATA_DIR: paths.outputData,
    SM_CHANNELS: pyJson(channels),
    SM_CURRENT_HOST: HOST,
    SM_CURRENT_INSTANCE_TYPE: o.instanceType,
    SM_CURRENT_INSTANCE_GROUP: 'homogeneousCluster',
    SM_CURRENT_INSTANCE_GROUP_HOSTS: pyJson([HOST]),
    SM_INSTANCE_GROUPS: pyJson(['homogeneousCluster']),
    SM_INSTANCE_GROUPS_DICT: pyJson(training.instance_groups_dict),
    SM_DISTRIBUTION_INSTANCE_GROUPS: '[]',
    SM_IS_HETERO: 'false',
    SM_MODULE_NAME: moduleName,
    SM_LOG_LEVEL: String(o.hyperparameters.logLevel),
    SM_FRAMEWORK_MODULE: FRAMEWORK_MODULES[o.framework] ?? '',
    SM_INPUT_DIR: path.dirname(paths.config),
    SM_INPUT_CONFIG_DIR: paths.config,
    SM_OUTPUT_DIR: paths.output,
    SM_NUM_CPUS: String(o.threads),
    SM_NUM_GPUS: '0',
    SM_NUM_NEURONS: '0',
    SM_MODEL_DIR: paths.model,
    SM_MODULE_DIR: o.submitDirectory,
    SM_TRAINING_ENV: pyJson(training),
    SM_USER_ARGS: pyJson(userArgs),
    SM_OUTPUT_INTERMEDIATE_DIR: training.output_intermediate_dir,
    SM_CHECKPOINT_DIR: paths.checkpoints,
    TRAINING_JOB_NAME: o.jobName,
    AWS_REGION: o.region,
    AWS_DEFAULT_REGION: o.region,
    KILN_OPT_ML: paths.root,
  };
  for (const c of channels) env[`SM_CHANNEL_${c.toUpperCase()}`] = paths.channel(c);
  for (const [k, v] of Object.entries(o.hyperparameters.user)) env[`SM_HP_${k.toUpperCase()}`] = envValue(v);
  return env;
}
