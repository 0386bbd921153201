/**
 * An endpoint instance: the process that plays SageMaker's XGBoost serving container. It
 * loads the model once (single-model endpoints) or on demand into a bounded LRU cache
 * (multi-model endpoints), then answers invocations framed on fd 3 (worker-protocol.ts).
 * Log lines go to stdout, which the pool forwards to the endpoint's log stream.
 *
 * Environment: KILN_MODEL_DIR (single model), KILN_MULTI_MODEL=1, KILN_MODEL_CACHE_SIZE.
 */
import { Socket } from 'node:net';
import type { BoosterModel } from '../../algorithms/xgboost/model.ts';
import { loadXgboostModel } from '../models/model-artifacts.ts';
import { encodeFrame, FrameDecoder, FrameKind, type RequestHeader, type ResponseHeader } from './worker-protocol.ts';
import { ServingError, serveXgboost } from './xgboost-serving.ts';

const channel = new Socket({ fd: 3, readable: true, writable: true });
const multiModel = process.env.KILN_MULTI_MODEL === '1';
const batchTransform = process.env.SAGEMAKER_BATCH === 'true';
const cacheSize = Math.max(1, Number(process.env.KILN_MODEL_CACHE_SIZE ?? 16) || 16);
const log = (line: string) => process.stdout.write(`${line}\n`);

let single: BoosterModel | undefined;
/** Multi-model cache: unpacked folder → model, in least-recently-used order. */
const cache = new Map<string, BoosterModel>();

function modelFor(dir: string, target: string): BoosterModel {
  let model = cache.get(dir);
  if (model) {
    cache.delete(dir);
    cache.set(dir, model);
    return model;
  }
  try {
    model = loadXgboostModel(dir);
  } catch (e) {
    throw new ServingError(507, `Failed to load model ${target}: ${(e as Error).message}`);
  }
  cache.set(dir, model);
  log(`Loaded model ${target}`);
  while (cache.size > cacheSize) {
    const oldest = cache.keys().next().value as string;
    cache.delete(oldest);
    log(`Unloaded model ${oldest} (cache holds ${cacheSize} models)`);
  }
  return model;
}

function handle(id: number, header: RequestHeader, body: Buffer): void {
  let reply: Buffer;
  try {
    const model = multiModel ? modelFor(header.dir ?? '', header.target ?? '') : single!;
    const result = serveXgboost(model, body, header.ct, header.accept, batchTransform);
    reply = encodeFrame(id, FrameKind.Response, { status: 200, ct: result.contentType } satisfies ResponseHeader, result.body);
  } catch (e) {
    const status = e instanceof ServingError ? e.status : 500;
    const message = (e as Error).message;
    log(`Error ${status} handling request: ${message}`);
    reply = encodeFrame(id, FrameKind.Response, { status, message } satisfies ResponseHeader);
  }
  channel.write(reply);
}

const decoder = new FrameDecoder((frame) => {
  if (frame.kind === FrameKind.Request) handle(frame.id, frame.header as RequestHeader, frame.body);
});
channel.on('data', (chunk: Buffer) => decoder.push(chunk));
// The router going away (server stopped or crashed) ends the instance.
channel.on('close', () => process.exit(0));
channel.on('error', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

try {
  if (!multiModel) {
    const started = Date.now();
    single = loadXgboostModel(process.env.KILN_MODEL_DIR ?? '');
    log(`Loaded XGBoost model (${single.trees.length} trees, ${single.numFeature} features, objective ${single.objective}) in ${Date.now() - started} ms`);
  } else {
    log(`Multi-model server started; at most ${cacheSize} models are kept loaded`);
  }
  channel.write(encodeFrame(0, FrameKind.Ready, {}));
} catch (e) {
  const message = (e as Error).message;
  log(`Failed to load the model: ${message}`);
  channel.write(encodeFrame(0, FrameKind.Fatal, { message }), () => process.exit(1));
}
