/**
 * The built-in XGBoost algorithm's container entry point. Kiln's job runner starts it in its
 * own process with the job's /opt/ml-style folder in KILN_OPT_ML; like SageMaker's XGBoost
 * container it reads input/config/*.json and input/data/<channel>/, logs one line per round,
 * writes model/xgboost-model, and on failure writes output/failure and exits non-zero.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadChannel } from './data.ts';
import { HyperparameterError, parseHyperparameters } from './hyperparameters.ts';
import { saveJsonModel } from './model-json.ts';
import { train } from './train.ts';

const root = process.env.KILN_OPT_ML ?? '/opt/ml';
const configDir = path.join(root, 'input', 'config');
const dataDir = path.join(root, 'input', 'data');
const modelDir = path.join(root, 'model');
const failureFile = path.join(root, 'output', 'failure');

/** Raised for problems with the job's input, reported as "ClientError: ..." like the real container. */
class ClientError extends Error {}

function info(message: string): void {
  process.stdout.write(`[${new Date().toISOString().replace('T', ' ').slice(0, 19)}:INFO] ${message}\n`);
}

function readJson(file: string): Record<string, any> {
  const full = path.join(configDir, file);
  if (!existsSync(full)) return {};
  return JSON.parse(readFileSync(full, 'utf8')) as Record<string, any>;
}

/** Every regular file under a channel folder, skipping hidden ones, in a stable order. */
function channelFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue;
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out;
}

async function loadOptionalChannel(name: string, contentType: string, csvWeights: boolean) {
  const dir = path.join(dataDir, name);
  if (!existsSync(dir)) return undefined;
  const files = channelFiles(dir);
  if (!files.length) throw new ClientError(`No data files found in channel '${name}'.`);
  try {
    return await loadChannel(files, contentType, { csvWeights });
  } catch (e) {
    throw new ClientError(`Unable to read data from channel '${name}' as ${contentType}: ${(e as Error).message}`);
  }
}

async function main(): Promise<void> {
  const raw = readJson('hyperparameters.json') as Record<string, string>;
  const channels = readJson('inputdataconfig.json');
  let params;
  try {
    params = parseHyperparameters(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, String(v)])));
  } catch (e) {
    if (e instanceof HyperparameterError) throw new ClientError(e.message);
    throw e;
  }
  if (!channels.train && !existsSync(path.join(dataDir, 'train'))) throw new ClientError("Channel 'train' is required for training.");
  const contentTypeOf = (channel: string) => String(channels[channel]?.ContentType ?? 'text/libsvm');
  const csvWeights = String(raw.csv_weights ?? '0') === '1';
  const nthread = Number(process.env.SM_NUM_CPUS ?? os.availableParallelism());

  info(`Kiln XGBoost: objective ${raw.objective ?? 'reg:squarederror'}, ${raw.num_round} rounds, ${nthread} thread(s)`);
  const trainData = await loadOptionalChannel('train', contentTypeOf('train'), csvWeights);
  if (!trainData) throw new ClientError("Channel 'train' is required for training.");
  const validation = await loadOptionalChannel('validation', contentTypeOf('validation'), csvWeights);
  info(`Train matrix has ${trainData.features.rows} rows and ${trainData.features.cols} columns`);
  if (validation) info(`Validation matrix has ${validation.features.rows} rows`);
  if (validation && validation.features.cols > trainData.features.cols) {
    throw new ClientError(`The validation data has ${validation.features.cols} feature columns but the training data has ${trainData.features.cols}.`);
  }

  const { model } = await train({ ...params, nthread: params.nthread ?? nthread }, trainData, validation, (line) => process.stdout.write(`${line}\n`));
  mkdirSync(modelDir, { recursive: true });
  writeFileSync(path.join(modelDir, 'xgboost-model'), saveJsonModel(model));
  info('Model saved as xgboost-model');
}

try {
  await main();
  process.exit(0);
} catch (e) {
  const message = e instanceof ClientError ? `ClientError: ${e.message}` : `AlgorithmError: ${(e as Error)?.message ?? String(e)}`;
  process.stderr.write(`${message}\n`);
  if (!(e instanceof ClientError)) process.stderr.write(`${(e as Error)?.stack ?? ''}\n`);
  try {
    mkdirSync(path.dirname(failureFile), { recursive: true });
    writeFileSync(failureFile, message);
  } catch {
    // the exit code still tells the runner
  }
  process.exit(1);
}
