/**
 * The framing between an endpoint's router (the Kiln server) and its inference worker
 * processes, over one socket per worker (the child's fd 3). Kept binary and small because
 * every invocation crosses it twice:
 *
 *   u32 length of what follows | u32 request id | u8 kind | u16 header length | header (JSON) | body
 *
 * The header carries the few strings a message needs (content type, accept, target model,
 * status); the body is the payload bytes untouched.
 */

export const FrameKind = {
  /** router → worker: an invocation. */
  Request: 1,
  /** worker → router: the container's answer (any HTTP status). */
  Response: 2,
  /** worker → router: the model is loaded, requests are welcome. */
  Ready: 3,
  /** worker → router: the worker cannot serve (e.g. the model does not load); it exits next. */
  Fatal: 4,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export interface RequestHeader {
  /** Content-Type of the payload. */
  ct?: string;
  accept?: string;
  /** Multi-model endpoints: the unpacked model folder to use, and the TargetModel name. */
  dir?: string;
  target?: string;
}

export interface ResponseHeader {
  status: number;
  ct?: string;
  /** The container's message when status is not 2xx. */
  message?: string;
}

export interface Frame {
  id: number;
  kind: FrameKind;
  header: unknown;
  body: Buffer;
}

const PREFIX = 4 + 4 + 1 + 2;

export function encodeFrame(id: number, kind: FrameKind, header: unknown, body?: Uint8Array): Buffer {
  const head = Buffer.from(JSON.stringify(header ?? {}), 'utf8');
  const bodyLength = body ? body.length : 0;
  const out = Buffer.allocUnsafe(PREFIX + head.length + bodyLength);
  out.writeUInt32LE(out.length - 4, 0);
  out.writeUInt32LE(id >>> 0, 4);
  out.writeUInt8(kind, 8);
  out.writeUInt16LE(head.length, 9);
  head.copy(out, PREFIX);
  if (body && bodyLength) out.set(body, PREFIX + head.length);
  return out;
}

/**
 * Splits a byte stream into frames; chunks may hold partial or several frames. A large frame
 * arrives in many small chunks: they are kept as a list and joined once the frame is whole,
 * so receiving a frame costs linear time in its size.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes the frame at the head of the buffer needs in all (0 while its length is unknown). */
  private needed = 0;

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.needed === 0 && this.buffered >= 4) this.needed = 4 + this.head().readUInt32LE(0);
    if (this.needed === 0 || this.buffered < this.needed) return;
    const buf = this.head();
    this.chunks = [];
    this.buffered = 0;
    this.needed = 0;
    let offset = 0;
    while (buf.length - offset >= 4) {
      const length = buf.readUInt32LE(offset);
      if (buf.length - offset - 4 < length) break;
      const start = offset + 4;
      const id = buf.readUInt32LE(start);
      const kind = buf.readUInt8(start + 4) as FrameKind;
      const headLength = buf.readUInt16LE(start + 5);
      const headStart = start + 7;
      const header = headLength ? JSON.parse(buf.toString('utf8', headStart, headStart + headLength)) : {};
      const body = buf.subarray(headStart + headLength, start + length);
      offset = start + length;
      this.onFrame({ id, kind, header, body });
    }
    if (offset < buf.length) this.push(Buffer.from(buf.subarray(offset)));
  }

  /** Everything buffered as one Buffer (joined at most once per frame). */
  private head(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }
}
