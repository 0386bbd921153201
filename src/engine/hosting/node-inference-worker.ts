/**
 * The Kiln Node runtime's inference server, one per endpoint instance: the JavaScript /
 * TypeScript counterpart of the Python framework containers. It imports the user's module
 * (SAGEMAKER_PROGRAM from KILN_CODE_DIR), loads the model once with model_fn(modelDir), and
 * answers invocations on fd 3 (worker-protocol.ts) with transform_fn, or
 * input_fn → predict_fn → output_fn. Hooks may be async and may use camelCase names
 * (modelFn, inputFn, predictFn, outputFn, transformFn). Defaults:
 *
 *   input_fn   application/json → JSON.parse; text/csv → number[][]; other types → 415
 *   predict_fn model.predict(data)
 *   output_fn  application/json → JSON; text/csv → one line per row
 *
 * A hook's result goes on the wire as: { body, contentType } as given; a string, Buffer or
 * Uint8Array as the Accept type; anything else as JSON.
 */
import { Socket } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { encodeFrame, FrameDecoder, FrameKind, type RequestHeader, type ResponseHeader } from './worker-protocol.ts';

type Hook = (...args: any[]) => unknown;

class HandlerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const channel = new Socket({ fd: 3, readable: true, writable: true });
const log = (line: string) => process.stdout.write(`${line}\n`);
const MODEL_DIR = process.env.KILN_MODEL_DIR ?? '/opt/ml/model';
const DEFAULT_ACCEPT = process.env.SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT || 'application/json';
const UTF8_TYPES = new Set(['application/json', 'text/csv']);

const unsupported = (type: string) =>
  new HandlerError(415, `Content type ${type} is not supported by the Kiln Node runtime's default handlers. Export input_fn to deserialize the request data or output_fn to serialize the response.`);

function defaultInput(data: string | Buffer, contentType: string): unknown {
  if (contentType === 'application/json') return JSON.parse(String(data));
  if (contentType === 'text/csv') return String(data).trim().split(/\r?\n/).map((row) => row.split(',').map(Number));
  throw unsupported(contentType);
}

async function defaultPredict(data: unknown, model: unknown): Promise<unknown> {
  const predict = (model as { predict?: Hook } | null)?.predict;
  if (typeof predict !== 'function') throw new HandlerError(500, 'The model has no predict() method: export predict_fn to say how it predicts.');
  return predict.call(model, data);
}

function defaultOutput(prediction: unknown, accept: string): { body: string; contentType: string } {
  if (accept === 'application/json') return { body: JSON.stringify(prediction), contentType: accept };
  if (accept === 'text/csv') {
    const rows = Array.isArray(prediction) ? prediction : [prediction];
    return { body: `${rows.map((r) => (Array.isArray(r) ? r.join(',') : String(r))).join('\n')}\n`, contentType: accept };
  }
  throw unsupported(accept);
}

function wire(result: unknown, accept: string): { body: Buffer; contentType: string } {
  if (result && typeof result === 'object' && 'body' in result && 'contentType' in result) {
    const r = result as { body: unknown; contentType: string };
    return { body: wire(r.body, r.contentType).body, contentType: r.contentType };
  }
  if (typeof result === 'string') return { body: Buffer.from(result), contentType: accept };
  if (result instanceof Uint8Array) return { body: Buffer.from(result), contentType: accept };
  if (result === undefined || result === null) return { body: Buffer.alloc(0), contentType: accept };
  return { body: Buffer.from(JSON.stringify(result)), contentType: 'application/json' };
}

async function loadHandlers() {
  const program = process.env.SAGEMAKER_PROGRAM;
  const module: Record<string, unknown> = program ? await import(pathToFileURL(path.join(process.env.KILN_CODE_DIR ?? '', program)).href) : {};
  const hook = (snake: string, camel: string) => (module[snake] ?? module[camel] ?? (module.default as Record<string, unknown> | undefined)?.[snake] ?? (module.default as Record<string, unknown> | undefined)?.[camel]) as Hook | undefined;
  const modelFn = hook('model_fn', 'modelFn');
  if (!modelFn) throw new Error(`Please provide a model_fn (or modelFn) export in ${program || 'the inference module (SAGEMAKER_PROGRAM)'}.`);
  const transformFn = hook('transform_fn', 'transformFn');
  const io = [hook('input_fn', 'inputFn'), hook('predict_fn', 'predictFn'), hook('output_fn', 'outputFn')];
  if (transformFn && io.some(Boolean)) throw new Error('Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn');
  const [inputFn = defaultInput, predictFn = defaultPredict, outputFn = defaultOutput] = io as [Hook?, Hook?, Hook?];
  const model = await modelFn(MODEL_DIR);
  return async (body: Buffer, contentType: string, accept: string) => {
    const data = UTF8_TYPES.has(contentType) ? body.toString('utf8') : body;
    if (transformFn) return wire(await transformFn(model, data, contentType, accept), accept);
    return wire(await outputFn(await predictFn(await inputFn(data, contentType), model), accept), accept);
  };
}

const mediaType = (value: string | undefined) => (value ?? '').split(',')[0]!.split(';')[0]!.trim();

async function main(): Promise<void> {
  let invoke: Awaited<ReturnType<typeof loadHandlers>>;
  try {
    invoke = await loadHandlers();
    log(`Loaded the model from ${MODEL_DIR} with ${process.env.SAGEMAKER_PROGRAM} (Kiln Node runtime)`);
  } catch (e) {
    const message = `${(e as Error).name}: ${(e as Error).message}`;
    log(`Failed to load the model: ${(e as Error).stack ?? message}`);
    channel.write(encodeFrame(0, FrameKind.Fatal, { message }), () => process.exit(1));
    return;
  }
  const decoder = new FrameDecoder((frame) => {
    if (frame.kind !== FrameKind.Request) return;
    const header = frame.header as RequestHeader;
    const accept = mediaType(header.accept);
    const body = Buffer.from(frame.body);
    invoke(body, mediaType(header.ct) || 'application/json', !accept || accept === '*/*' ? DEFAULT_ACCEPT : accept)
      .then((r) => channel.write(encodeFrame(frame.id, FrameKind.Response, { status: 200, ct: r.contentType } satisfies ResponseHeader, r.body)))
      .catch((e: Error) => {
        const status = e instanceof HandlerError ? e.status : 500;
        log(`Error ${status} handling the request: ${e.stack ?? e.message}`);
        const message = e instanceof HandlerError ? e.message : JSON.stringify({ error: e.name, 'error-message': e.message });
        channel.write(encodeFrame(frame.id, FrameKind.Response, { status, message } satisfies ResponseHeader));
      });
  });
  channel.on('data', (chunk: Buffer) => decoder.push(chunk));
  channel.write(encodeFrame(0, FrameKind.Ready, {}));
}

channel.on('close', () => process.exit(0));
channel.on('error', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
void main();
