/**
 * The container arguments Data Wrangler's exported notebooks and pipelines pass to its processing
 * container, each one string holding a flag and single-quoted JSON:
 *
 *   --output-config '{"<node id>.default": {"content_type": "CSV"}}'      (CSV or PARQUET; one per output or all in one)
 *   --refit-trained-params '{"refit": false, "output_flow": "x.flow"}'
 *   --parameter-override '{"InputDataUrl": "s3://…"}'
 *
 * The flag and its JSON may also come as two arguments, or as `--flag=<json>`.
 */
import { JobFailure } from './failure.ts';
import type { DestinationSpec } from '../data/destinations.ts';

export interface OutputSettings {
  format?: DestinationSpec['format'];
  delimiter?: string;
}

export interface DataWranglerArguments {
  /** Settings per OutputName, from --output-config. */
  outputs: Map<string, OutputSettings>;
  /** --refit-trained-params, when given. */
  refit?: { refit: boolean; outputFlow?: string };
}

const FLAGS = ['--output-config', '--refit-trained-params', '--parameter-override'] as const;
type Flag = (typeof FLAGS)[number];

const clientError = (message: string) => new JobFailure(`ClientError: ${message}`);

/** Splits the arguments into (flag, JSON text) pairs. */
function pairs(args: string[]): { flag: Flag; text: string }[] {
  const out: { flag: Flag; text: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!.trim();
    const flag = FLAGS.find((f) => arg === f || arg.startsWith(`${f} `) || arg.startsWith(`${f}=`));
    if (!flag) {
      throw clientError(`The Data Wrangler container does not take the argument '${arg.slice(0, 80)}'; Kiln runs --output-config and --refit-trained-params.`);
    }
    let text = arg.slice(flag.length).replace(/^[=\s]+/, '');
    if (text === '') {
      if (i + 1 >= args.length) throw clientError(`${flag} needs a JSON value.`);
      text = args[++i]!.trim();
    }
    if (text.length >= 2 && text.startsWith("'") && text.endsWith("'")) text = text.slice(1, -1);
    out.push({ flag, text });
  }
  return out;
}

function jsonObject(flag: Flag, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw clientError(`${flag} must be followed by JSON: ${(e as Error).message}.`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw clientError(`${flag} must be a JSON object.`);
  return value as Record<string, unknown>;
}

function outputSettings(name: string, raw: unknown): OutputSettings {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw clientError(`--output-config: the settings of '${name}' must be a JSON object such as {"content_type": "CSV"}.`);
  const settings: OutputSettings = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (key === 'content_type') {
      const type = typeof value === 'string' ? value.toUpperCase() : '';
      if (type !== 'CSV' && type !== 'PARQUET') throw clientError(`--output-config: content_type of '${name}' must be CSV or PARQUET, not ${JSON.stringify(value)}.`);
      settings.format = type === 'CSV' ? 'csv' : 'parquet';
    } else if (key === 'delimiter') {
      if (typeof value !== 'string' || value.length !== 1) throw clientError(`--output-config: delimiter of '${name}' must be one character, not ${JSON.stringify(value)}.`);
      settings.delimiter = value;
    } else {
      throw clientError(`--output-config: '${key}' (of '${name}') is not supported by Kiln; it takes content_type (CSV or PARQUET) and delimiter.`);
    }
  }
  if (settings.delimiter !== undefined && settings.format === 'parquet') throw clientError(`--output-config: '${name}' is PARQUET, which has no delimiter.`);
  return settings;
}

export function parseDataWranglerArguments(args: string[] = []): DataWranglerArguments {
  const parsed: DataWranglerArguments = { outputs: new Map() };
  for (const { flag, text } of pairs(args)) {
    const value = jsonObject(flag, text);
    if (flag === '--output-config') {
      for (const [name, raw] of Object.entries(value)) {
        if (parsed.outputs.has(name)) throw clientError(`--output-config names '${name}' twice.`);
        parsed.outputs.set(name, outputSettings(name, raw));
      }
    } else if (flag === '--refit-trained-params') {
      if (typeof value.refit !== 'boolean') throw clientError(`--refit-trained-params needs "refit": true or false.`);
      if (value.output_flow !== undefined && typeof value.output_flow !== 'string') throw clientError(`--refit-trained-params: "output_flow" must be a file name.`);
      parsed.refit = { refit: value.refit, ...(typeof value.output_flow === 'string' ? { outputFlow: value.output_flow } : {}) };
    } else {
      throw clientError(`--parameter-override sets Data Wrangler flow parameters (${Object.keys(value).join(', ')}); Kiln flows have no parameters. Point a source at other data with a ProcessingInput named after the source node instead.`);
    }
  }
  return parsed;
}
