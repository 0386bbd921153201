/**
 * Fills a job's input/data/<channel>/ folders from the object store, as SageMaker's File
 * input mode does: every object under an S3Prefix, or every file a manifest lists.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../../store/objects/types.ts';
import { JobFailure } from './failure.ts';

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Uri(uri: string): S3Location | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export interface ChannelSource {
  ChannelName: string;
  DataSource?: { S3DataSource?: { S3DataType?: string; S3Uri?: string }; FileSystemDataSource?: unknown };
  CompressionType?: string;
}

/** A local path for a key relative to the channel folder, never escaping it. */
function safeJoin(dir: string, relative: string): string {
  const parts = relative.split('/').filter((p) => p && p !== '.');
  if (parts.some((p) => p === '..')) throw new JobFailure(`ClientError: Object key '${relative}' cannot be downloaded into a channel folder.`);
  return path.join(dir, ...parts);
}

async function download(objects: ObjectStore, bucket: string, key: string, file: string): Promise<number> {
  mkdirSync(path.dirname(file), { recursive: true });
  const { meta, body } = await objects.getObject(bucket, key);
  await pipeline(body, createWriteStream(file));
  return meta.size;
}

/** Every key under `prefix`, following the listing's pages. */
export async function listKeys(objects: ObjectStore, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await objects.listObjects({ bucket, prefix, after, maxKeys: 1000 });
    keys.push(...page.objects.map((o) => o.key));
    if (!page.isTruncated) return keys;
    after = page.nextAfter ?? page.objects.at(-1)?.key;
  }
}

function describeStoreError(e: unknown, uri: string, channel: string): JobFailure {
  const code = (e as { code?: string }).code;
  if (code === 'NoSuchBucket') return new JobFailure(`ClientError: Data download failed: the bucket of '${uri}' (channel '${channel}') does not exist.`);
  if (code === 'NoSuchKey') return new JobFailure(`ClientError: Data download failed: '${uri}' (channel '${channel}') does not exist.`);
  return new JobFailure(`ClientError: Data download failed for channel '${channel}' from '${uri}': ${(e as Error).message}`);
}

/**
 * Where an object lands in the channel folder: below the prefix when the prefix names a
 * folder (s3://b/data/train → data/train/x.csv → x.csv), its file name when the prefix is
 * the object itself, and below the prefix's parent folder otherwise (data/tr → train/x.csv).
 */
export function relativeToPrefix(key: string, prefix: string): string {
  if (prefix === '' || prefix.endsWith('/')) return key.slice(prefix.length);
  if (key === prefix) return key.slice(key.lastIndexOf('/') + 1);
  if (key.startsWith(`${prefix}/`)) return key.slice(prefix.length + 1);
  return key.slice(prefix.lastIndexOf('/') + 1);
}

/**
 * A manifest file's prefix and the keys it lists relative to it:
 * `[{"prefix": "s3://bucket/prefix/"}, "relative/key", ...]`. `about` says whose manifest it
 * is in messages (e.g. " of channel 'train'"). Store errors reach the caller as they are.
 */
export async function readManifest(objects: ObjectStore, location: S3Location, uri: string, about = ''): Promise<{ prefix: S3Location; entries: string[] }> {
  const { body } = await objects.getObject(location.bucket, location.key);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new JobFailure(`ClientError: The manifest file '${uri}'${about} is not valid JSON.`);
  }
  const [head, ...entries] = Array.isArray(manifest) ? manifest : [];
  const prefix = parseS3Uri((head as { prefix?: string } | undefined)?.prefix ?? '');
  if (!prefix || !entries.every((e) => typeof e === 'string')) {
    throw new JobFailure(`ClientError: The manifest file '${uri}' must be a JSON array: [{"prefix": "s3://bucket/prefix/"}, "relative/key", ...].`);
  }
  return { prefix, entries: entries as string[] };
}

/** Downloads one channel; returns the number of files and bytes placed in `dir`. */
export async function downloadChannel(objects: ObjectStore, channel: ChannelSource, dir: string): Promise<{ files: number; bytes: number }> {
  const source = channel.DataSource?.S3DataSource;
  if (!source?.S3Uri) {
    throw new JobFailure(`ClientError: Channel '${channel.ChannelName}' has no S3DataSource; Kiln reads channels from S3 only.`);
  }
  const uri = source.S3Uri;
  const location = parseS3Uri(uri);
  if (!location) throw new JobFailure(`ClientError: Channel '${channel.ChannelName}' has an invalid S3Uri '${uri}'.`);
  mkdirSync(dir, { recursive: true });
  let files = 0;
  let bytes = 0;
  try {
    const type = source.S3DataType ?? 'S3Prefix';
    if (type === 'S3Prefix') {
      const keys = (await listKeys(objects, location.bucket, location.key)).filter((k) => !k.endsWith('/'));
      if (!keys.length) throw new JobFailure(`ClientError: No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (us-east-1), that objects exist under that S3 prefix, and that the role has access to them.`);
      for (const key of keys) {
        bytes += await download(objects, location.bucket, key, safeJoin(dir, relativeToPrefix(key, location.key)));
        files++;
      }
    } else if (type === 'ManifestFile') {
      const { prefix, entries } = await readManifest(objects, location, uri, ` of channel '${channel.ChannelName}'`);
      for (const relative of entries) {
        bytes += await download(objects, prefix.bucket, prefix.key + relative, safeJoin(dir, relative));
        files++;
      }
      if (!files) throw new JobFailure(`ClientError: The manifest file '${uri}' of channel '${channel.ChannelName}' lists no files.`);
    } else {
      throw new JobFailure(`ClientError: S3DataType '${type}' of channel '${channel.ChannelName}' is not supported by Kiln (S3Prefix and ManifestFile are).`);
    }
  } catch (e) {
    if (e instanceof JobFailure) throw e;
    throw describeStoreError(e, uri, channel.ChannelName);
  }
  return { files, bytes };
}
