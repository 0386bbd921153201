/**
 * How batch transform cuts an input file into the requests it sends to the model container:
 * SplitType None sends the whole file; SplitType Line cuts it into records at newlines and
 * BatchStrategy packs them, one per request (SingleRecord) or as many as fit in
 * MaxPayloadInMB (MultiRecord). Reads the file as a stream, so memory stays bounded by the
 * payload size whatever the file's size.
 */
import { JobFailure } from '../jobs/failure.ts';

export interface MiniBatch {
  /** The request body. */
  payload: Buffer;
  /** The records it holds, unfiltered, when they must be joined with the output. */
  records?: string[];
}

export interface SplitOptions {
  splitType: 'None' | 'Line';
  batchStrategy: 'SingleRecord' | 'MultiRecord';
  /** 0 means no limit (only with SplitType None, where the file goes as it is). */
  maxPayloadBytes: number;
  /** Applied to each record before it is sent (DataProcessing.InputFilter). */
  filter?: (record: string) => string;
  /** Keep each batch's original records (DataProcessing.JoinSource Input). */
  keepRecords?: boolean;
  fileName: string;
}

const NEWLINE = 0x0a;

function tooLarge(opts: SplitOptions, what: string): JobFailure {
  const mb = opts.maxPayloadBytes / (1024 * 1024);
  return new JobFailure(
    `ClientError: ${what} in ${opts.fileName} is larger than MaxPayloadInMB (${mb} MB). Raise MaxPayloadInMB, or split the input into smaller records.`,
  );
}

/** Lines of a byte stream, without their line endings; blank lines are skipped. */
async function* lines(input: AsyncIterable<Buffer>, opts: SplitOptions): AsyncGenerator<string> {
  let carry: Buffer | undefined;
  for await (const chunk of input) {
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    let start = 0;
    for (let i = buf.indexOf(NEWLINE, start); i >= 0; i = buf.indexOf(NEWLINE, start)) {
      const end = i > start && buf[i - 1] === 0x0d ? i - 1 : i;
      if (end > start) yield buf.toString('utf8', start, end);
      start = i + 1;
    }
    carry = start < buf.length ? buf.subarray(start) : undefined;
    if (carry && opts.maxPayloadBytes > 0 && carry.length > opts.maxPayloadBytes) throw tooLarge(opts, 'A record');
  }
  if (carry?.length) {
    const text = carry.toString('utf8').replace(/\r$/, '');
    if (text.trim()) yield text;
  }
}

/**
 * The fast path for MultiRecord without filters or joins: cuts the stream at the last newline
 * that keeps a payload under the limit, never looking at the records themselves.
 */
async function* chunksAtNewlines(input: AsyncIterable<Buffer>, opts: SplitOptions): AsyncGenerator<MiniBatch> {
  const limit = opts.maxPayloadBytes;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const take = (): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const window = all.subarray(0, Math.min(limit, all.length));
    const cut = window.lastIndexOf(NEWLINE);
    if (cut < 0) throw tooLarge(opts, 'A record');
    const payload = Buffer.from(all.subarray(0, cut + 1));
    const rest = all.subarray(cut + 1);
    pending = rest.length ? [Buffer.from(rest)] : [];
    pendingBytes = rest.length;
    return payload;
  };
  for await (const chunk of input) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes > limit) yield { payload: take() };
  }
  if (pendingBytes) {
    const last = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    if (last.toString('utf8').trim()) yield { payload: last };
  }
}

export async function* miniBatches(input: AsyncIterable<Buffer>, opts: SplitOptions): AsyncGenerator<MiniBatch> {
  if (opts.splitType === 'None') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of input) {
      size += chunk.length;
      if (opts.maxPayloadBytes > 0 && size > opts.maxPayloadBytes) throw tooLarge(opts, 'The file (SplitType None sends it whole)');
      chunks.push(chunk);
    }
    const payload = Buffer.concat(chunks, size);
    const record = opts.filter || opts.keepRecords ? payload.toString('utf8') : undefined;
    yield {
      payload: opts.filter ? Buffer.from(opts.filter(record!)) : payload,
      ...(opts.keepRecords ? { records: [record!] } : {}),
    };
    return;
  }
  if (opts.batchStrategy === 'MultiRecord' && !opts.filter && !opts.keepRecords) {
    yield* chunksAtNewlines(input, opts);
    return;
  }
  const limit = opts.maxPayloadBytes;
  let parts: string[] = [];
  let originals: string[] = [];
  let bytes = 0;
  const flush = (): MiniBatch => {
    const batch: MiniBatch = { payload: Buffer.from(`${parts.join('\n')}\n`), ...(opts.keepRecords ? { records: originals } : {}) };
    parts = [];
    originals = [];
    bytes = 0;
    return batch;
  };
  for await (const record of lines(input, opts)) {
    const sent = opts.filter ? opts.filter(record) : record;
    const size = Buffer.byteLength(sent) + 1;
    if (limit > 0 && size > limit) throw tooLarge(opts, 'A record');
    if (parts.length && (opts.batchStrategy === 'SingleRecord' || (limit > 0 && bytes + size > limit))) yield flush();
    parts.push(sent);
    if (opts.keepRecords) originals.push(record);
    bytes += size;
  }
  if (parts.length) yield flush();
}
