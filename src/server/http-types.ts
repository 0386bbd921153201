import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

/** A request as the codecs see it, after the edge has routed it to a service. */
export interface KilnRequest {
  id: string;
  method: string;
  /** The path as received (percent-encoded), after virtual-host rewriting for S3. */
  rawPath: string;
  rawQuery: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body bytes, for operations whose input is not a stream. */
  body?: Buffer;
  /** The body stream (aws-chunked framing already removed), for streaming-payload operations. */
  bodyStream?: Readable;
}

export interface KilnResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer | string | Readable;
}

export const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
};
