/**
 * A processing job whose image is the Data Wrangler container, played by Kiln's flow engine
 * instead of a container, with the conventions of Data Wrangler's exported notebooks:
 *
 * - the ProcessingInput named `flow` holds the `.flow` file (LocalPath /opt/ml/processing/flow);
 * - another ProcessingInput named after a source node (its id, or its `name`) is the data that
 *   source reads instead of its own `uri`;
 * - each ProcessingOutput is named `<node id>.<output>` (`default`, or a split's share) and gets
 *   that node's table under `<S3Uri>/<job name>/<node id>/<output>/`, as CSV or Parquet
 *   (`--output-config`, else the destination node's format, else CSV).
 *
 * The `.flow` is Kiln's own format (what `GET /_kiln/api/flows/{name}/file` and `kiln flow get`
 * export) or one written by SageMaker Data Wrangler, translated node by node; a step Kiln cannot
 * run is refused with the node named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { Catalog } from '../data/catalog.ts';
import { isFlowError } from '../data/errors.ts';
import { DEFAULT_OUTPUT, tableOfRequest, writeOutputs, type OutputRequest, type WrittenOutput } from '../data/flow-outputs.ts';
import { readFlowDocument } from '../data/flow-store.ts';
import type { FlowDocument, FlowNode } from '../data/flow.ts';
import { FlowSession } from '../data/session.ts';
import { downloadChannel } from './channels.ts';
import { parseDataWranglerArguments, type OutputSettings } from './data-wrangler-arguments.ts';
import { JobFailure } from './failure.ts';
import { hostPath, PROCESSING_ROOT } from './processing-container.ts';
import type { ProcessingInput, ProcessingJobDoc } from './processing-job.ts';

export const FLOW_INPUT = 'flow';
const FLOW_LOCAL_PATH = `${PROCESSING_ROOT}flow`;
/** Sources whose data is an s3:// `uri` parameter, which a ProcessingInput can replace. */
const FILE_SOURCES = new Set(['csv', 'parquet', 'jsonl']);

export interface DataWranglerJobContext {
  doc: ProcessingJobDoc;
  /** The job's folder, its filesystem root (the flow input lands in <workDir>/opt/ml/processing/flow). */
  workDir: string;
  objects: ObjectStore;
  catalog: Catalog;
  /** DuckDB threads; DuckDB's default (or KILN_DUCKDB_THREADS) when absent. */
  threads?: number;
  log(line: string): void;
  /** True once the job is being stopped (StopProcessingJob, runtime limit, shutdown). */
  interrupted(): boolean;
}

interface PlannedOutput {
  outputName: string;
  request: OutputRequest;
}

const clientError = (message: string) => new JobFailure(`ClientError: ${message}`);

/** Runs the job's flow; returns what each output wrote (nothing more once the job is interrupted). */
export async function runDataWranglerJob(ctx: DataWranglerJobContext): Promise<WrittenOutput[]> {
  const { doc } = ctx;
  if (doc.AppSpecification.ContainerEntrypoint?.length) {
    throw clientError('The Data Wrangler image runs its own entry point (the flow); Kiln does not take a ContainerEntrypoint for it.');
  }
  const args = parseDataWranglerArguments(doc.AppSpecification.ContainerArguments);
  const { flow, file } = await loadFlow(ctx);
  const bound = bindInputs(flow, doc.ProcessingInputs ?? [], ctx.log);
  const outputs = planOutputs(bound, doc, args.outputs);
  ctx.log(`Kiln: running ${file} (${flow.nodes.length} nodes) on Kiln's flow engine for ${outputs.length} output(s)`);
  if (args.refit) {
    ctx.log(`Kiln: --refit-trained-params: Kiln fits every transform (categories, statistics) on the full data at each run${args.refit.outputFlow ? `; no refitted flow '${args.refit.outputFlow}' is written` : ''}`);
  }

  const session = await FlowSession.open(bound, {
    objects: ctx.objects,
    catalog: ctx.catalog,
    scratchDir: path.join(ctx.workDir, 'flow-session'),
    threads: ctx.threads,
    log: (line) => ctx.log(line),
  });
  // A stop interrupts whatever DuckDB statement runs; repeated, since one may start right after another ends.
  const watcher = setInterval(() => ctx.interrupted() && session.interrupt(), 100);
  const written: WrittenOutput[] = [];
  try {
    if (!ctx.interrupted()) {
      const results = await writeOutputs(session, outputs.map((o) => o.request));
      results.forEach((out, i) => {
        written.push(out);
        ctx.log(`Kiln: output '${outputs[i]!.outputName}': ${out.rows} rows of ${out.table} written as ${out.format.toUpperCase()} to ${out.objects.length} object(s) under ${out.uri}`);
      });
    }
  } catch (e) {
    if (ctx.interrupted()) return written;
    if (isFlowError(e)) throw clientError(`The flow failed: ${e.message}`);
    throw e;
  } finally {
    clearInterval(watcher);
    await session.close().catch(() => undefined);
  }
  return written;
}

/** Downloads the `flow` input into the job's folder and reads the one .flow file in it. */
async function loadFlow(ctx: DataWranglerJobContext): Promise<{ flow: FlowDocument; file: string }> {
  const input = ctx.doc.ProcessingInputs?.find((i) => i.InputName === FLOW_INPUT);
  if (!input?.S3Input) {
    throw clientError(`A Data Wrangler job needs a ProcessingInput named '${FLOW_INPUT}' whose S3Input is the .flow file (LocalPath ${FLOW_LOCAL_PATH}), as DataWranglerProcessor and the exported notebooks send it.`);
  }
  const s3 = input.S3Input;
  if (s3.S3DataType !== 'S3Prefix') throw clientError(`ProcessingInput '${FLOW_INPUT}' must be an S3Prefix naming the .flow file, not a ${s3.S3DataType}.`);
  const local = hostPath(ctx.workDir, s3.LocalPath ?? FLOW_LOCAL_PATH);
  await downloadChannel(ctx.objects, { ChannelName: FLOW_INPUT, DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: s3.S3Uri } } }, local);
  const files = readdirSync(local, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
  const flowFiles = files.length === 1 ? files : files.filter((f) => f.endsWith('.flow'));
  if (flowFiles.length !== 1) {
    throw clientError(`ProcessingInput '${FLOW_INPUT}' (${s3.S3Uri}) holds ${files.length} files${files.length ? `, ${flowFiles.length} of them .flow files` : ''}; point it at the one .flow file.`);
  }
  const file = path.basename(flowFiles[0]!);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(flowFiles[0]!, 'utf8'));
  } catch (e) {
    throw clientError(`The flow file ${file} is not JSON: ${(e as Error).message}.`);
  }
  try {
    const { flow, notes } = readFlowDocument(parsed);
    for (const note of notes) ctx.log(`Kiln: ${file}: ${note}`);
    return { flow, file };
  } catch (e) {
    if (isFlowError(e)) throw clientError(`The flow file ${file} cannot run on Kiln: ${e.message}.`);
    throw e;
  }
}

/** The flow with each source that a ProcessingInput is named after reading that input's S3 data. */
function bindInputs(flow: FlowDocument, inputs: ProcessingInput[], log: (line: string) => void): FlowDocument {
  const nodes: FlowNode[] = structuredClone(flow.nodes);
  for (const input of inputs) {
    if (input.InputName === FLOW_INPUT) continue;
    const source = nodes.find((n) => n.type === 'source' && (n.id === input.InputName || n.name === input.InputName));
    if (!source) {
      log(`Kiln: ProcessingInput '${input.InputName}' is named after no source node of the flow; nothing reads it`);
      continue;
    }
    const s3 = input.S3Input;
    if (!s3) throw clientError(`ProcessingInput '${input.InputName}': Kiln reads inputs from S3 only (DatasetDefinition is not supported).`);
    if (!FILE_SOURCES.has(source.operator)) throw clientError(`ProcessingInput '${input.InputName}' is named after source '${source.id}', a ${source.operator} source, which reads no files.`);
    if (s3.S3DataType !== 'S3Prefix') throw clientError(`ProcessingInput '${input.InputName}': a source reads an S3Prefix, not a ${s3.S3DataType}.`);
    if (s3.S3InputMode === 'Pipe') throw clientError(`ProcessingInput '${input.InputName}': Kiln supports S3InputMode File only.`);
    source.parameters = { ...source.parameters, uri: s3.S3Uri };
    log(`Kiln: source '${source.id}' reads ProcessingInput '${input.InputName}' (${s3.S3Uri})`);
  }
  return { ...flow, nodes };
}

/** Each ProcessingOutput as the node table it writes and where, checked before anything runs. */
const OUTPUT_PROBLEMS: Record<string, string> = { NoSuchNode: 'names no node of the flow', NoTable: 'names no table of the flow', NoSuchOutput: 'names no table of the flow' };

function planOutputs(flow: FlowDocument, doc: ProcessingJobDoc, settings: Map<string, OutputSettings>): PlannedOutput[] {
  const outputs = doc.ProcessingOutputConfig?.Outputs ?? [];
  if (!outputs.length) throw clientError(`A Data Wrangler job needs a ProcessingOutput named '<node id>.${DEFAULT_OUTPUT}' for each node to write.`);
  for (const name of settings.keys()) {
    if (!outputs.some((o) => o.OutputName === name)) throw clientError(`--output-config names '${name}', which is not the OutputName of a ProcessingOutput of this job.`);
  }
  return outputs.map((o) => {
    const name = o.OutputName;
    if (!o.S3Output) throw clientError(`ProcessingOutput '${name}': Kiln writes flow outputs to S3 only (FeatureStoreOutput is not supported).`);
    const dot = name.indexOf('.');
    if (dot <= 0) throw clientError(`ProcessingOutput '${name}': a Data Wrangler OutputName is '<node id>.<output>', e.g. '${flow.nodes.find((n) => n.type !== 'analysis')?.id ?? 'node'}.${DEFAULT_OUTPUT}'.`);
    const node = name.slice(0, dot);
    const output = name.slice(dot + 1);
    try {
      tableOfRequest(flow, { node, output });
    } catch (e) {
      if (isFlowError(e)) throw clientError(`ProcessingOutput '${name}' ${OUTPUT_PROBLEMS[e.code] ?? 'cannot be written'}: ${e.message}.`);
      throw e;
    }
    const uri = `${o.S3Output.S3Uri.replace(/\/+$/, '')}/${doc.ProcessingJobName}/${node}/${output}/`;
    return { outputName: name, request: { node, output, uri, ...settings.get(name) } };
  });
}
