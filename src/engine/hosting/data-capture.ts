/**
 * Data capture for Model Monitor: a sample of an endpoint's requests and responses written
 * as JSON Lines to `<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm-ss-mmm>-<uuid>.jsonl`
 * in SageMaker's capture record format. Invocations only append to an in-memory buffer;
 * a timer (and shutdown) writes the files, never the request.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Logger } from '../../server/logger.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import { parseS3Uri } from '../jobs/channels.ts';
import type { DataCaptureConfig } from './models.ts';

export interface CapturedInvocation {
  variant: string;
  time: number;
  inferenceId?: string;
  inputContentType?: string;
  input: Buffer;
  outputContentType?: string;
  output: Buffer;
}

const DEFAULT_CSV = ['text/csv'];
const DEFAULT_JSON = ['application/json'];

const media = (ct: string | undefined) => (ct ?? '').split(';')[0]!.trim().toLowerCase();

export class DataCapture {
  private readonly buffers = new Map<string, string[]>();
  private readonly timer: NodeJS.Timeout;
  private readonly captureInput: boolean;
  private readonly captureOutput: boolean;
  private readonly csv: Set<string>;
  private readonly json: Set<string>;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly endpointName: string,
    readonly config: DataCaptureConfig,
    private readonly objects: ObjectStore,
    private readonly log: Logger,
    flushIntervalMs = Number(process.env.KILN_CAPTURE_FLUSH_MS ?? 2000),
  ) {
    const modes = new Set((config.CaptureOptions ?? []).map((o) => o.CaptureMode));
    this.captureInput = modes.has('Input') || modes.has('InputAndOutput') || modes.size === 0;
    this.captureOutput = modes.has('Output') || modes.has('InputAndOutput') || modes.size === 0;
    // Without CaptureContentTypeHeader, CSV and JSON are kept as text; with it, only the types it lists.
    const header = config.CaptureContentTypeHeader;
    this.csv = new Set((header ? (header.CsvContentTypes ?? []) : DEFAULT_CSV).map(media));
    this.json = new Set((header ? (header.JsonContentTypes ?? []) : DEFAULT_JSON).map(media));
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref();
  }

  get enabled(): boolean {
    return this.config.EnableCapture !== false;
  }

  /** Decides by sampling whether to keep an invocation; cheap, synchronous. */
  offer(inv: CapturedInvocation): void {
    if (!this.enabled || Math.random() * 100 >= this.config.InitialSamplingPercentage) return;
    const captureData: Record<string, unknown> = {};
    if (this.captureInput) captureData.endpointInput = this.encode(inv.inputContentType, inv.input, 'INPUT');
    if (this.captureOutput) captureData.endpointOutput = this.encode(inv.outputContentType, inv.output, 'OUTPUT');
    const record = {
      captureData,
      eventMetadata: {
        eventId: randomUUID(),
        ...(inv.inferenceId ? { inferenceId: inv.inferenceId } : {}),
        inferenceTime: new Date(inv.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
      eventVersion: '0',
    };
    let lines = this.buffers.get(inv.variant);
    if (!lines) this.buffers.set(inv.variant, (lines = []));
    lines.push(JSON.stringify(record));
    if (lines.length >= 5000) void this.flush();
  }

  private encode(contentType: string | undefined, data: Buffer, mode: 'INPUT' | 'OUTPUT') {
    const m = media(contentType);
    const encoding = this.csv.has(m) ? 'CSV' : this.json.has(m) ? 'JSON' : 'BASE64';
    return {
      observedContentType: contentType ?? '',
      mode,
      data: encoding === 'BASE64' ? data.toString('base64') : data.toString('utf8'),
      encoding,
    };
  }

  /** Writes every buffered record (one file per variant per flush). */
  flush(): Promise<void> {
    const batches = [...this.buffers.entries()].filter(([, lines]) => lines.length);
    this.buffers.clear();
    if (!batches.length) return this.writing;
    this.writing = this.writing.then(async () => {
      const destination = parseS3Uri(this.config.DestinationS3Uri);
      if (!destination) return;
      const now = new Date();
      const p2 = (n: number, w = 2) => String(n).padStart(w, '0');
      const hourPath = `${now.getUTCFullYear()}/${p2(now.getUTCMonth() + 1)}/${p2(now.getUTCDate())}/${p2(now.getUTCHours())}`;
      const file = `${p2(now.getUTCMinutes())}-${p2(now.getUTCSeconds())}-${p2(now.getUTCMilliseconds(), 3)}-${randomUUID()}.jsonl`;
      for (const [variant, lines] of batches) {
        const prefix = destination.key.replace(/\/+$/, '');
        const key = `${prefix ? `${prefix}/` : ''}${this.endpointName}/${variant}/${hourPath}/${file}`;
        const body = Buffer.from(`${lines.join('\n')}\n`);
        try {
          await this.objects.putObject({ bucket: destination.bucket, key, body: Readable.from([body]), contentType: 'application/jsonlines' });
        } catch (e) {
          this.log.warn('data capture write failed', { endpoint: this.endpointName, variant, key, error: String((e as Error)?.message ?? e) });
        }
      }
    });
    return this.writing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
