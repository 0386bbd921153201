/**
 * The files behind objects and parts. Bytes arrive in `<root>/tmp/<uuid>`, are hashed while
 * written, fsynced, and renamed to `<root>/blobs/<bucket id>/<2 hex>/<uuid>`. No path here is
 * ever derived from a bucket name or key; the index stores the relative blob path.
 *
 * This process is the only writer, so liveness is tracked in memory: temp files being written,
 * blobs renamed but not yet committed to the index, and blobs pinned by readers (a multipart
 * completion concatenating parts) whose deletion waits for the last unpin.
 */
import { createReadStream, mkdirSync, openSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Errors } from '../../server/errors.ts';
import { StreamDigests, type FinishedDigests } from './checksums.ts';
import { S3Errors } from './s3-errors.ts';
import type { ChecksumAlgorithm } from './types.ts';

const BLOB_PATH = /^\d+\/[0-9a-f]{2}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ReceiveOptions {
  algorithms: ReadonlySet<ChecksumAlgorithm>;
  md5: boolean;
  sha256Hex: boolean;
  /** Bytes beyond this fail the write with EntityTooLarge. */
  maxSize: number;
}

/** A fully received, not yet fsynced temp file; its handle is still open. */
export interface TempFile {
  readonly name: string;
  readonly path: string;
  readonly digests: FinishedDigests;
  handle: FileHandle | undefined;
}

export class BlobFiles {
  readonly tmpDir: string;
  readonly blobsDir: string;
  private readonly writingTemp = new Set<string>();
  private readonly uncommitted = new Set<string>();
  private readonly pins = new Map<string, number>();
  private readonly deleteOnUnpin = new Set<string>();

  constructor(root: string) {
    this.tmpDir = path.join(root, 'tmp');
    this.blobsDir = path.join(root, 'blobs');
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.blobsDir, { recursive: true });
  }

  pathOf(blob: string): string {
    if (!BLOB_PATH.test(blob)) throw Errors.internal(`corrupt blob reference ${JSON.stringify(blob)}`);
    return path.join(this.blobsDir, blob);
  }

  /** Streams `body` into a new temp file, hashing every chunk. Deletes the file if anything fails. */
  async receive(body: Readable, options: ReceiveOptions): Promise<TempFile> {
    const name = randomUUID();
    const tmpPath = path.join(this.tmpDir, name);
    this.writingTemp.add(name);
    // An error emitted before iteration starts (while the file opens) must not go unhandled;
    // the iterator still reports it, since the stream stays errored.
    const ignore = () => {};
    body.on('error', ignore);
    let handle: FileHandle | undefined;
    try {
      handle = await open(tmpPath, 'wx', 0o600);
      const digests = new StreamDigests(options.algorithms, { md5: options.md5, sha256Hex: options.sha256Hex });
      // Not destroyOnReturn: destroying an HTTP request would leave no way to send the error.
      for await (const chunk of body.iterator({ destroyOnReturn: false })) {
        const bytes = toBuffer(chunk);
        if (digests.size + bytes.length > options.maxSize) {
          throw S3Errors.entityTooLarge(digests.size + bytes.length, options.maxSize);
        }
        digests.update(bytes);
        await writeFully(handle, bytes);
      }
      return { name, path: tmpPath, digests: digests.finish(), handle };
    } catch (error) {
      await handle?.close().catch(() => {});
      await this.deleteTemp(name, tmpPath);
      throw error;
    } finally {
      body.off('error', ignore);
    }
  }

  async discard(temp: TempFile): Promise<void> {
    await this.closeTemp(temp).catch(() => {});
    await this.deleteTemp(temp.name, temp.path);
  }

  /**
   * Makes the temp file durable and moves it to a fresh blob path. The blob counts as live
   * (safe from recover()) until `settle()` is called once the index commit has succeeded or failed.
   */
  async promote(temp: TempFile, bucketId: number): Promise<string> {
    const id = randomUUID();
    const blob = `${bucketId}/${id.slice(0, 2)}/${id}`;
    const target = this.pathOf(blob);
    try {
      await temp.handle?.sync();
      await this.closeTemp(temp);
      this.uncommitted.add(blob);
      await renameCreatingDir(temp.path, target);
      this.writingTemp.delete(temp.name);
      await fsyncDir(path.dirname(target));
      return blob;
    } catch (error) {
      this.uncommitted.delete(blob);
      await unlinkQuietly(target);
      await this.discard(temp);
      throw error;
    }
  }

  /** The index commit for `blob` is over; from now on the index alone says whether it lives. */
  settle(blob: string): void {
    this.uncommitted.delete(blob);
  }

  /** Opens synchronously so callers can do it in the same tick as the index read. */
  openForRead(blob: string): number {
    try {
      return openSync(this.pathOf(blob), 'r');
    } catch (error) {
      throw Errors.internal(`object data missing (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  readStream(blob: string, range?: { start: number; end: number }): Readable {
    const fd = this.openForRead(blob);
    return createReadStream(this.pathOf(blob), { fd, ...(range ?? {}) });
  }

  /** One stream of all blobs in order; pin them first so they outlive concurrent replacement. */
  concatenate(blobs: string[]): Readable {
    const files = blobs.map((blob) => this.pathOf(blob));
    return Readable.from(
      (async function* () {
        for (const file of files) yield* createReadStream(file, { highWaterMark: 1024 * 1024 });
      })(),
      { objectMode: false },
    );
  }

  pin(blobs: string[]): void {
    for (const blob of blobs) this.pins.set(blob, (this.pins.get(blob) ?? 0) + 1);
  }

  async unpin(blobs: string[]): Promise<void> {
    const released: string[] = [];
    for (const blob of blobs) {
      const count = (this.pins.get(blob) ?? 1) - 1;
      if (count > 0) {
        this.pins.set(blob, count);
        continue;
      }
      this.pins.delete(blob);
      if (this.deleteOnUnpin.delete(blob)) released.push(blob);
    }
    await this.remove(released);
  }

  /** Deletes blobs no longer referenced by the index (deferred while pinned). */
  async remove(blobs: (string | undefined)[]): Promise<void> {
    const now: string[] = [];
    for (const blob of blobs) {
      if (blob === undefined) continue;
      if (this.pins.has(blob)) this.deleteOnUnpin.add(blob);
      else now.push(blob);
    }
    await Promise.all(now.map((blob) => unlinkQuietly(this.pathOf(blob))));
  }

  /**
   * Deletes temp files and blobs the index does not reference. Files are listed first, then the
   * index and the in-memory live sets are read in one synchronous step, so a write that commits
   * concurrently is seen either as uncommitted or as referenced, never as an orphan.
   */
  async recover(referencedBlobs: () => ReadonlySet<string>): Promise<{ removedTempFiles: number; removedOrphans: number }> {
    const tempNames = await readdir(this.tmpDir);
    const { files: blobPaths, dirs } = await walk(this.blobsDir);

    const referenced = referencedBlobs();
    const liveTemp = new Set(this.writingTemp);
    const live = (blob: string) => referenced.has(blob) || this.uncommitted.has(blob) || this.pins.has(blob);

    let removedTempFiles = 0;
    for (const name of tempNames) {
      if (liveTemp.has(name)) continue;
      await rm(path.join(this.tmpDir, name), { recursive: true, force: true });
      removedTempFiles++;
    }
    let removedOrphans = 0;
    for (const blob of blobPaths) {
      if (live(blob)) continue;
      await rm(path.join(this.blobsDir, blob), { recursive: true, force: true });
      removedOrphans++;
    }
    await removeEmptyDirs(dirs);
    return { removedTempFiles, removedOrphans };
  }

  private async closeTemp(temp: TempFile): Promise<void> {
    const handle = temp.handle;
    temp.handle = undefined;
    await handle?.close();
  }

  private async deleteTemp(name: string, tmpPath: string): Promise<void> {
    await unlinkQuietly(tmpPath);
    this.writingTemp.delete(name);
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError('object body must yield bytes');
}

async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** recover() may prune an empty directory between our mkdir and rename; retry once. */
async function renameCreatingDir(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(path.dirname(to), { recursive: true });
    try {
      await rename(from, to);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw error;
    }
  }
}

/** A rename is durable only once its directory is synced. */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function unlinkQuietly(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Relative file paths ('/'-separated) and directories (deepest first) under `root`. */
async function walk(root: string): Promise<{ files: string[]; dirs: string[] }> {
  const files: string[] = [];
  const dirs: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        pending.push(child);
        dirs.push(path.join(root, child));
      } else {
        files.push(child);
      }
    }
  }
  dirs.sort((a, b) => b.length - a.length);
  return { files, dirs };
}

async function removeEmptyDirs(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    await rmdir(dir).catch(() => {});
  }
}
