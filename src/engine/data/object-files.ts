/**
 * Hands DuckDB local files for s3:// URIs. DuckDB has no network access here, so every object a
 * flow reads is linked (a local store) or streamed from the object store into the session's
 * scratch folder first (once).
 */
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../../store/objects/types.ts';
import { FlowError } from './errors.ts';

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new FlowError(`'${uri}' is not an s3:// URI`);
  return { bucket: m[1]!, key: m[2]! };
}

export class ObjectFiles {
  private readonly cache = new Map<string, Promise<string[]>>();
  private counter = 0;

  constructor(
    private readonly objects: ObjectStore,
    private readonly dir: string,
  ) {
    // A folder left by a session that crashed may hold links to stored blobs under the names
    // this one is about to use; writing through such a name would overwrite the stored bytes.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }

  /** The object at `uri`, or every non-empty object under it when it is a prefix, as local files. */
  files(uri: string): Promise<string[]> {
    let p = this.cache.get(uri);
    if (!p) {
      p = this.download(uri);
      this.cache.set(uri, p);
      p.catch(() => this.cache.delete(uri));
    }
    return p;
  }

  private async download(uri: string): Promise<string[]> {
    const { bucket, key } = parseS3Uri(uri);
    const keys = await this.keysOf(bucket, key, uri);
    const out: string[] = [];
    for (const k of keys) {
      const ext = path.extname(k).replace(/[^.a-zA-Z0-9]/g, '');
      const file = path.join(this.dir, `object-${++this.counter}${ext}`);
      // DuckDB only reads these files, so a link to the stored bytes serves as well as a copy.
      if (!(await this.objects.linkObject?.(bucket, k, file))) {
        const { body } = await this.objects.getObject(bucket, k);
        // 'wx': never write through an existing name, which may be a link to a stored blob.
        await pipeline(body, createWriteStream(file, { flags: 'wx' }));
      }
      out.push(file);
    }
    return out;
  }

  private async keysOf(bucket: string, key: string, uri: string): Promise<string[]> {
    try {
      await this.objects.headBucket(bucket);
    } catch {
      throw new FlowError(`bucket '${bucket}' of ${uri} does not exist`, 404, 'NoSuchBucket');
    }
    if (key && !key.endsWith('/')) {
      try {
        const meta = await this.objects.headObject(bucket, key);
        return [meta.key];
      } catch {
        // Not an object: read it as a prefix.
      }
    }
    const prefix = key && !key.endsWith('/') ? `${key}/` : key;
    const keys: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.objects.listObjects({ bucket, prefix, after, maxKeys: 1000 });
      for (const o of page.objects) {
        const name = o.key.slice(o.key.lastIndexOf('/') + 1);
        if (o.size > 0 && !name.startsWith('_') && !name.startsWith('.')) keys.push(o.key);
      }
      if (!page.isTruncated || !page.nextAfter) break;
      after = page.nextAfter;
    }
    if (keys.length === 0) throw new FlowError(`no objects at ${uri}`, 404, 'NoSuchKey');
    return keys;
  }
}
