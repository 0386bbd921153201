/**
 * Streaming decoder for S3's `aws-chunked` content encoding:
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer-name>:<value>\r\n ...][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * Passes the decoded bytes through without holding more than one framing line, verifies
 * the chunk signature chain (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) and the trailer
 * signature, and checks the decoded length. Data is pushed downstream before the
 * signature of its chunk has been checked, so a consumer must treat what it wrote as
 * untrusted until this stream ends without an error.
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { AwsError } from './errors.ts';
import { EMPTY_SHA256, type PayloadCheck, type SignedRequestParts, type VerifiedSignature } from './sigv4.ts';

export interface ChunkSigning {
  signingKey: Buffer;
  /** Credential scope: yyyymmdd/region/service/aws4_request. */
  scope: string;
  /** X-Amz-Date of the request. */
  amzDate: string;
  /** The request's own signature, which the first chunk signature chains from. */
  seedSignature: string;
}

export interface AwsChunkedDecoderOptions {
  /** Verify chunk signatures with these; absent for STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  signing?: ChunkSigning;
  /** Trailing headers follow the final chunk (the *-TRAILER encodings); with `signing`, x-amz-trailer-signature is required. */
  trailer?: boolean;
  /** x-amz-decoded-content-length, when the client sent it. */
  decodedContentLength?: number;
}

const MAX_LINE = 4096;
const CHUNK_SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;

const S3_BAD_SIGNATURE =
  'The request signature we calculated does not match the signature you provided. Check your key and signing method.';
const badSignature = () => new AwsError('SignatureDoesNotMatch', S3_BAD_SIGNATURE, 403);
const malformed = (detail: string) => new AwsError('InvalidRequest', `Invalid aws-chunked body: ${detail}.`, 400);
const incomplete = (message = 'The request body terminated unexpectedly') => new AwsError('IncompleteBody', message, 400);

type State = 'header' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (lower-cased names, trimmed values), complete once the stream has ended. */
  readonly trailers: Record<string, string> = {};
  /** Decoded bytes passed through so far. */
  decodedLength = 0;

  private readonly opts: AwsChunkedDecoderOptions;
  private state: State = 'header';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private chunkHash: Hash | undefined;
  private expectedSignature: string | undefined;
  private previousSignature: string;
  private trailerSignatureSeen = false;
  private blankAfterFinalChunk = false;

  constructor(opts: AwsChunkedDecoderOptions = {}) {
    super();
    this.opts = opts;
    this.previousSignature = opts.signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // Also accepted: a body that stops after the trailer lines without the closing blank line.
    const sawTrailer = Object.keys(this.trailers).length > 0 || this.trailerSignatureSeen || this.blankAfterFinalChunk;
    const ended = this.state === 'done' || (this.state === 'trailer' && this.lineLength === 0 && sawTrailer);
    if (!ended) return callback(incomplete());
    if (this.opts.signing && this.opts.trailer && !this.trailerSignatureSeen) return callback(badSignature());
    const declared = this.opts.decodedContentLength;
    if (declared !== undefined && this.decodedLength !== declared) {
      return callback(incomplete('You did not provide the number of bytes specified by the x-amz-decoded-content-length HTTP header'));
    }
    callback();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          const piece = buf.subarray(i, i + n);
          this.decodedLength += n;
          const declared = this.opts.decodedContentLength;
          if (declared !== undefined && this.decodedLength > declared) {
            throw malformed('more data than x-amz-decoded-content-length declares');
          }
          this.chunkHash?.update(piece);
          this.push(piece);
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) {
            this.checkChunkSignature();
            this.state = 'data-cr';
          }
          break;
        }
        case 'data-cr':
        case 'data-lf':
          if (buf[i] !== (this.state === 'data-cr' ? 0x0d : 0x0a)) throw malformed('chunk data not followed by CRLF');
          i++;
          this.state = this.state === 'data-cr' ? 'data-lf' : 'header';
          break;
        case 'done':
          throw malformed('data after the end of the body');
        default: {
          const nl = buf.indexOf(0x0a, i);
          const end = nl < 0 ? buf.length : nl;
          if (this.lineLength + (end - i) > MAX_LINE) throw malformed('framing line too long');
          if (end > i) {
            this.line.push(Buffer.from(buf.subarray(i, end)));
            this.lineLength += end - i;
          }
          if (nl < 0) {
            i = buf.length;
            break;
          }
          i = nl + 1;
          const raw = Buffer.concat(this.line).toString('latin1');
          this.line = [];
          this.lineLength = 0;
          if (!raw.endsWith('\r')) throw malformed('framing line not terminated by CRLF');
          if (this.state === 'header') this.chunkHeader(raw.slice(0, -1));
          else this.trailerLine(raw.slice(0, -1));
        }
      }
    }
  }

  private chunkHeader(line: string): void {
    const [sizeText = '', ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,13}$/.test(sizeText)) throw malformed(`bad chunk size '${sizeText.slice(0, 32)}'`);
    const size = parseInt(sizeText, 16);
    this.expectedSignature = undefined;
    for (const ext of extensions) {
      const eq = ext.indexOf('=');
      if (eq > 0 && ext.slice(0, eq).trim() === 'chunk-signature') this.expectedSignature = ext.slice(eq + 1).trim();
    }
    if (this.opts.signing) {
      if (!this.expectedSignature || !CHUNK_SIGNATURE_PATTERN.test(this.expectedSignature)) throw badSignature();
      this.chunkHash = createHash('sha256');
    }
    if (size === 0) {
      this.checkChunkSignature();
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  private checkChunkSignature(): void {
    const signing = this.opts.signing;
    if (!signing) return;
    const stringToSign = [
      'AWS4-HMAC-SHA256-PAYLOAD',
      signing.amzDate,
      signing.scope,
      this.previousSignature,
      EMPTY_SHA256,
      this.chunkHash!.digest('hex'),
    ].join('\n');
    this.previousSignature = this.verify(stringToSign, this.expectedSignature!);
  }

  private trailerLine(line: string): void {
    if (line === '') {
      // Some encoders put a blank line between the final chunk and the trailers; when
      // trailers are expected, the body may end there or go on with them.
      const nothingYet = Object.keys(this.trailers).length === 0 && !this.trailerSignatureSeen && !this.blankAfterFinalChunk;
      if (this.opts.trailer && nothingYet) this.blankAfterFinalChunk = true;
      else this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('bad trailer line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (!/^[a-z0-9-]+$/.test(name)) throw malformed('bad trailer name');
    if (this.trailerSignatureSeen) throw malformed('trailer after x-amz-trailer-signature');
    if (name !== 'x-amz-trailer-signature') {
      this.trailers[name] = value;
      return;
    }
    const signing = this.opts.signing;
    if (!signing) return;
    const canonical = Object.keys(this.trailers)
      .sort()
      .map((n) => `${n}:${this.trailers[n]}\n`)
      .join('');
    const stringToSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      signing.amzDate,
      signing.scope,
      this.previousSignature,
      createHash('sha256').update(canonical, 'utf8').digest('hex'),
    ].join('\n');
    this.verify(stringToSign, value);
    this.trailerSignatureSeen = true;
  }

  private verify(stringToSign: string, provided: string): string {
    const computed = createHmac('sha256', this.opts.signing!.signingKey).update(stringToSign, 'utf8').digest('hex');
    const a = Buffer.from(computed);
    const b = Buffer.from(provided);
    if (a.length !== b.length || !timingSafeEqual(a, b)) throw badSignature();
    return computed;
  }
}

/**
 * The decoder a verified request's body needs, or undefined when its payload is not
 * aws-chunked (plain sha256 or unsigned bodies).
 */
export function createAwsChunkedDecoder(
  payload: PayloadCheck,
  headers: SignedRequestParts['headers'],
): AwsChunkedDecoder | undefined {
  if (payload.kind !== 'streaming-signed' && payload.kind !== 'streaming-unsigned-trailer') return undefined;
  const lengthHeader = headers['x-amz-decoded-content-length'];
  const lengthText = Array.isArray(lengthHeader) ? lengthHeader[0] : lengthHeader;
  let decodedContentLength: number | undefined;
  if (lengthText !== undefined) {
    if (!/^\d{1,15}$/.test(lengthText.trim())) {
      throw new AwsError('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer.', 400);
    }
    decodedContentLength = Number(lengthText.trim());
  }
  if (payload.kind === 'streaming-unsigned-trailer') return new AwsChunkedDecoder({ trailer: true, decodedContentLength });
  const { signingKey, scope, amzDate, seedSignature, trailer } = payload;
  return new AwsChunkedDecoder({ signing: { signingKey, scope, amzDate, seedSignature }, trailer, decodedContentLength });
}

/**
 * Decodes an aws-chunked request body as `verified` requires: signed chunks for the
 * STREAMING-AWS4-HMAC-SHA256-* encodings, unsigned (trailers allowed) otherwise. If the
 * decoder fails, the rest of the request body is drained rather than destroyed, so that
 * the error response can still be written on the same connection.
 */
export function decodeAwsChunked(
  body: Readable,
  verified: Pick<VerifiedSignature, 'payload'>,
  headers: SignedRequestParts['headers'],
): AwsChunkedDecoder {
  const payload: PayloadCheck = verified.payload.kind === 'streaming-signed' ? verified.payload : { kind: 'streaming-unsigned-trailer' };
  const decoder = createAwsChunkedDecoder(payload, headers)!;
  body.on('error', (err) => decoder.destroy(err));
  decoder.on('error', () => {
    body.unpipe(decoder);
    body.resume();
  });
  body.pipe(decoder);
  return decoder;
}
