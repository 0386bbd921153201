/**
 * A production variant's instances: one worker process per instance, each loading the model
 * once. Invocations go to the ready instance with the fewest in flight; a worker that dies
 * is replaced, and the invocations it held are answered with an error (the others keep
 * being served). Draining stops new work, waits for what is in flight, then ends the
 * processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../server/logger.ts';
import { JobLogWriter, type LogSink } from '../jobs/job-logs.ts';
import { statSync } from 'node:fs';
import type { BoosterModel } from '../../algorithms/xgboost/model.ts';
import { loadXgboostModel } from '../models/model-artifacts.ts';
import { encodeFrame, FrameDecoder, FrameKind, type RequestHeader, type ResponseHeader } from './worker-protocol.ts';
import { ServingError, serveXgboost } from './xgboost-serving.ts';

const WORKER_ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'inference-worker.ts');
const TSX_LOADER = import.meta.resolve('tsx');

export interface WorkerReply {
  status: number;
  contentType?: string;
  message?: string;
  body: Buffer;
}

/** Why an invocation got no answer from the container. */
export class InstanceFailure extends Error {
  constructor(
    readonly kind: 'crashed' | 'timeout' | 'stopped' | 'not-ready',
    message: string,
  ) {
    super(message);
  }
}

/** A process that speaks the worker protocol on fd 3 in place of the built-in XGBoost worker (script-mode serving). */
export interface WorkerCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

export interface VariantPoolOptions {
  endpointName: string;
  variantName: string;
  instanceCount: number;
  /** Unpacked model folder (single-model endpoints). */
  modelDir?: string;
  multiModel?: boolean;
  modelCacheSize?: number;
  environment?: Record<string, string>;
  /** V8 heap limit per worker, from the instance type's memory. */
  maxOldSpaceMb?: number;
  /** What each instance runs; the built-in XGBoost inference worker when absent. */
  worker?: WorkerCommand;
  logs: LogSink;
  logGroup: string;
  /** The log stream of an instance (default `<variant>/<instance id>`). */
  logStreamName?: (instanceId: string) => string;
  log: Logger;
  /** Invocation timeout (SageMaker: 60 s). */
  timeoutMs?: number;
  /**
   * How long an invocation waits for an instance when none is up (all starting or being
   * replaced) before it is answered ModelNotReadyException, for the client to retry.
   */
  readyWaitMs?: number;
  /**
   * Payloads up to this many bytes are predicted in the server process itself when the model
   * is small (see INLINE_MODEL_MAX_BYTES); 0 sends everything to the worker processes.
   */
  inlineMaxBytes?: number;
}

/** How long an invocation waits for a starting instance by default. */
export const DEFAULT_READY_WAIT_MS = 10_000;

/** Models up to this size on disk are also loaded into the server for the in-process fast path. */
const INLINE_MODEL_MAX_BYTES = 16 * 1024 * 1024;

interface Pending {
  resolve(reply: WorkerReply): void;
  reject(error: Error): void;
  started: number;
}

interface Instance {
  id: string;
  child: ChildProcess;
  socket: Socket;
  ready: boolean;
  stopping: boolean;
  inflight: Map<number, Pending>;
  writer: JobLogWriter;
  readyPromise: Promise<void>;
}

interface Queued {
  header: RequestHeader;
  body: Buffer;
  resolve(reply: WorkerReply): void;
  reject(error: Error): void;
  started: number;
  /** Ends the wait for an instance: ModelNotReadyException, or the invocation timeout when shorter. */
  waitTimer?: NodeJS.Timeout;
}

let nextRequestId = 1;

function modelBytes(dir: string): number {
  try {
    return statSync(path.join(dir, 'xgboost-model')).size;
  } catch {
    return Infinity;
  }
}

export class VariantPool {
  private readonly instances: Instance[] = [];
  private readonly queue: Queued[] = [];
  private stopped = false;
  private draining = false;
  private restartDelayMs = 100;
  private readonly sweeper: NodeJS.Timeout;
  /** Set when a worker reported it cannot serve (the endpoint fails with it). */
  fatal: string | undefined;
  desiredCount: number;
  /** The model, loaded in this process for small payloads (single-model variants with small models). */
  private inline: BoosterModel | undefined;
  private readonly inlineMaxBytes: number;

  constructor(private readonly opts: VariantPoolOptions) {
    this.desiredCount = opts.instanceCount;
    this.inlineMaxBytes = opts.multiModel || !opts.modelDir || opts.worker ? 0 : (opts.inlineMaxBytes ?? Number(process.env.KILN_INLINE_PREDICT_MAX_BYTES ?? 16384));
    this.sweeper = setInterval(() => this.sweep(), 1000);
    this.sweeper.unref();
  }

  get variantName(): string {
    return this.opts.variantName;
  }

  get instanceIds(): string[] {
    return this.instances.map((i) => i.id);
  }

  get readyCount(): number {
    return this.instances.filter((i) => i.ready && !i.stopping).length;
  }

  /** Starts the instances; resolves when all are ready, rejects with the reason one cannot start. */
  async start(): Promise<void> {
    const starting: Promise<void>[] = [];
    for (let i = 0; i < this.desiredCount; i++) starting.push(this.spawnInstance().readyPromise);
    await Promise.all(starting);
    if (this.inlineMaxBytes > 0 && this.opts.modelDir && modelBytes(this.opts.modelDir) <= INLINE_MODEL_MAX_BYTES) {
      this.inline = loadXgboostModel(this.opts.modelDir);
    }
  }

  /** Grows or shrinks to `count` instances (UpdateEndpointWeightsAndCapacities). */
  async resize(count: number): Promise<void> {
    this.desiredCount = count;
    const live = this.instances.filter((i) => !i.stopping);
    if (live.length < count) {
      const added: Promise<void>[] = [];
      for (let i = live.length; i < count; i++) added.push(this.spawnInstance().readyPromise);
      await Promise.all(added);
    } else {
      for (const instance of live.slice(count)) void this.retire(instance);
    }
  }

  invoke(header: RequestHeader, body: Buffer): Promise<WorkerReply> {
    if (this.stopped || this.draining) return Promise.reject(new InstanceFailure('stopped', 'The variant is no longer serving.'));
    if (this.inline && body.length <= this.inlineMaxBytes && this.idle()) return Promise.resolve(this.serveInline(header, body));
    const instance = this.pick();
    return new Promise<WorkerReply>((resolve, reject) => {
      if (instance) this.send(instance, header, body, { resolve, reject, started: Date.now() });
      else this.enqueue({ header, body, resolve, reject, started: Date.now() });
    });
  }

  /**
   * Holds an invocation until an instance is ready. If none is within readyWaitMs it is answered
   * ModelNotReadyException; the invocation timeout still bounds the wait when that is shorter.
   */
  private enqueue(q: Queued): void {
    this.queue.push(q);
    const readyWait = this.opts.readyWaitMs ?? DEFAULT_READY_WAIT_MS;
    const timeout = this.opts.timeoutMs ?? 60_000;
    q.waitTimer = setTimeout(() => {
      const at = this.queue.indexOf(q);
      if (at < 0) return;
      this.queue.splice(at, 1);
      q.reject(
        readyWait <= timeout
          ? new InstanceFailure('not-ready', `No instance of variant ${this.opts.variantName} is ready yet: its model server is starting or being replaced. Wait and try your request again.`)
          : new InstanceFailure('timeout', 'No instance of the variant became ready in time to handle the request.'),
      );
    }, Math.min(readyWait, timeout));
    q.waitTimer.unref();
  }

  /** No invocation in flight or queued, and an instance is up (so the variant is healthy). */
  private idle(): boolean {
    if (this.queue.length) return false;
    let ready = false;
    for (const i of this.instances) {
      if (i.inflight.size) return false;
      ready ||= i.ready && !i.stopping;
    }
    return ready;
  }

  /**
   * The fast path: a small payload predicted right here, with the same container code the
   * workers run. It skips two process hops, which on a busy machine cost more than the
   * prediction itself. Taken only while the pool is idle (measured: under concurrent load the
   * server thread is the bottleneck and the worker processes must do the predicting); large
   * payloads, multi-model endpoints and big models always go to the workers.
   */
  private serveInline(header: RequestHeader, body: Buffer): WorkerReply {
    try {
      const result = serveXgboost(this.inline!, body, header.ct, header.accept);
      return { status: 200, contentType: result.contentType, body: result.body };
    } catch (e) {
      const status = e instanceof ServingError ? e.status : 500;
      const message = (e as Error).message;
      const instance = this.pick();
      instance?.writer.write(`Error ${status} handling request: ${message}`);
      return { status, message, body: Buffer.alloc(0) };
    }
  }

  /** Stops new work, waits up to `graceMs` for in-flight invocations, then ends the workers. */
  async drain(graceMs = 30_000): Promise<void> {
    this.draining = true;
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.waitTimer);
      q.reject(new InstanceFailure('stopped', 'The variant was stopped.'));
    }
    const deadline = Date.now() + graceMs;
    while (this.instances.some((i) => i.inflight.size) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await this.stop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    for (const q of this.queue.splice(0)) {
      clearTimeout(q.waitTimer);
      q.reject(new InstanceFailure('stopped', 'The variant was stopped.'));
    }
    await Promise.all(this.instances.slice().map((i) => this.retire(i)));
  }

  private pick(): Instance | undefined {
    let best: Instance | undefined;
    for (const i of this.instances) {
      if (!i.ready || i.stopping) continue;
      if (!best || i.inflight.size < best.inflight.size) best = i;
    }
    return best;
  }

  private send(instance: Instance, header: RequestHeader, body: Buffer, pending: Pending): void {
    const id = nextRequestId;
    nextRequestId = nextRequestId >= 0xfffffff0 ? 1 : nextRequestId + 1;
    instance.inflight.set(id, pending);
    instance.socket.write(encodeFrame(id, FrameKind.Request, header, body));
  }

  private spawnInstance(): Instance {
    const id = `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      LANG: process.env.LANG ?? 'C.UTF-8',
      ...this.opts.environment,
      KILN_MODEL_DIR: this.opts.modelDir ?? '',
      KILN_MULTI_MODEL: this.opts.multiModel ? '1' : '0',
      KILN_MODEL_CACHE_SIZE: String(this.opts.modelCacheSize ?? 16),
      SAGEMAKER_ENDPOINT_NAME: this.opts.endpointName,
      SAGEMAKER_VARIANT_NAME: this.opts.variantName,
    };
    const tag = `--kiln-endpoint=${this.opts.endpointName}/${this.opts.variantName}/${id}`;
    const worker = this.opts.worker;
    const args = worker ? [...worker.args, tag] : ['--import', TSX_LOADER, ...(this.opts.maxOldSpaceMb ? [`--max-old-space-size=${this.opts.maxOldSpaceMb}`] : []), WORKER_ENTRY, tag];
    const child = spawn(worker?.command ?? process.execPath, args, { env: worker ? { ...env, ...worker.env } : env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const socket = child.stdio[3] as Socket;
    const stream = this.opts.logStreamName?.(id) ?? `${this.opts.variantName}/${id}`;
    const writer = new JobLogWriter(this.opts.logs, this.opts.logGroup, stream, (e) =>
      this.opts.log.warn('endpoint log write failed', { endpoint: this.opts.endpointName, error: String(e) }),
    );
    let settleReady!: { resolve(): void; reject(e: Error): void };
    const readyPromise = new Promise<void>((resolve, reject) => (settleReady = { resolve, reject }));
    readyPromise.catch(() => undefined);
    const instance: Instance = { id, child, socket, ready: false, stopping: false, inflight: new Map(), writer, readyPromise };
    this.instances.push(instance);
    void writer.open().catch(() => undefined);

    const lines = (stream: NodeJS.ReadableStream) => {
      let tail = '';
      stream.on('data', (d: Buffer) => {
        const parts = (tail + d.toString('utf8')).split('\n');
        tail = parts.pop() ?? '';
        for (const line of parts) writer.write(line);
      });
      stream.on('end', () => tail && writer.write(tail));
    };
    lines(child.stdout!);
    lines(child.stderr!);

    const decoder = new FrameDecoder((frame) => {
      if (frame.kind === FrameKind.Response) {
        const pending = instance.inflight.get(frame.id);
        if (!pending) return;
        instance.inflight.delete(frame.id);
        const h = frame.header as ResponseHeader;
        pending.resolve({ status: h.status, contentType: h.ct, message: h.message, body: Buffer.from(frame.body) });
      } else if (frame.kind === FrameKind.Ready) {
        instance.ready = true;
        this.restartDelayMs = 100;
        settleReady.resolve();
        this.pump();
      } else if (frame.kind === FrameKind.Fatal) {
        const message = (frame.header as { message?: string }).message ?? 'the model could not be loaded';
        this.fatal = message;
        settleReady.reject(new Error(message));
      }
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => undefined);
    child.on('error', (e) => {
      this.fatal = `The inference worker could not be started: ${e.message}`;
      settleReady.reject(new Error(this.fatal));
    });
    child.on('exit', (code, signal) => {
      const wasReady = instance.ready;
      instance.ready = false;
      const index = this.instances.indexOf(instance);
      if (index >= 0) this.instances.splice(index, 1);
      const how = signal ? `signal ${signal}` : `code ${code}`;
      for (const pending of instance.inflight.values()) {
        pending.reject(new InstanceFailure('crashed', `The model container for instance ${id} exited (${how}) while handling the request.`));
      }
      instance.inflight.clear();
      settleReady.reject(new Error(this.fatal ?? `The inference worker exited (${how}) before it was ready.`));
      if (!instance.stopping) writer.write(`Kiln: worker exited (${how}); ${this.stopped || this.draining ? 'not restarting' : 'starting a replacement'}`);
      void writer.flush();
      if (instance.stopping || this.stopped || this.draining) return;
      this.opts.log.warn('endpoint worker exited; replacing it', { endpoint: this.opts.endpointName, variant: this.opts.variantName, instance: id, how });
      if (!wasReady && this.fatal) return; // the model cannot load: restarting cannot help
      const delay = this.restartDelayMs;
      this.restartDelayMs = Math.min(this.restartDelayMs * 2, 5_000);
      setTimeout(() => {
        if (!this.stopped && !this.draining && this.instances.filter((i) => !i.stopping).length < this.desiredCount) this.spawnInstance();
      }, wasReady ? 0 : delay).unref();
    });
    return instance;
  }

  /** Hands queued invocations to instances that became ready. */
  private pump(): void {
    while (this.queue.length) {
      const instance = this.pick();
      if (!instance) return;
      const q = this.queue.shift()!;
      clearTimeout(q.waitTimer);
      this.send(instance, q.header, q.body, q);
    }
  }

  private async retire(instance: Instance): Promise<void> {
    if (instance.stopping && instance.child.exitCode !== null) return;
    instance.stopping = true;
    const deadline = Date.now() + 10_000;
    while (instance.inflight.size && Date.now() < deadline && !this.stopped) await new Promise((r) => setTimeout(r, 20));
    if (instance.child.exitCode === null && instance.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => instance.child.once('exit', () => resolve()));
      instance.child.kill('SIGTERM');
      const timer = setTimeout(() => instance.child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
    await instance.writer.flush();
  }

  private sweep(): void {
    const limit = this.opts.timeoutMs ?? 60_000;
    const now = Date.now();
    for (const instance of this.instances) {
      for (const [id, pending] of instance.inflight) {
        if (now - pending.started > limit) {
          instance.inflight.delete(id);
          pending.reject(new InstanceFailure('timeout', 'Your invocation timed out while waiting for a response from container primary. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.'));
        }
      }
    }
  }
}
