import type { Readable } from 'node:stream';
import { AwsError } from './errors.ts';

/** Reads a whole (non-streaming) request body, refusing more than `limit` bytes. */
export async function readBody(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.resume();
      throw new AwsError('RequestEntityTooLarge', `Request body is larger than the ${limit} bytes this operation accepts.`, 413);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
