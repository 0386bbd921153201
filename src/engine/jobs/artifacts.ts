/**
 * Packs a job folder (model/, output/data/) as a gzipped tar and stores it, as SageMaker
 * uploads model.tar.gz and output.tar.gz; and unpacks such archives (checkpoints, models).
 */
import { createWriteStream, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { create as createTar, extract as extractTar } from 'tar';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { S3Location } from './channels.ts';

export async function uploadTarGz(objects: ObjectStore, dir: string, target: S3Location): Promise<void> {
  const entries = readdirSync(dir);
  // Entries are named without a leading "./", as in SageMaker's archives.
  const stream = createTar({ gzip: true, cwd: dir, portable: true }, entries.length ? entries : ['.']) as unknown as NodeJS.ReadableStream;
  await objects.putObject({
    bucket: target.bucket,
    key: target.key,
    body: Readable.from(stream as AsyncIterable<Buffer>),
    contentType: 'application/x-tar',
  });
}

export function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}

/** `s3://bucket/prefix` + parts → the location, with exactly one slash between parts. */
export function joinS3(base: S3Location, ...parts: string[]): S3Location {
  const key = [base.key.replace(/\/+$/, ''), ...parts].filter((p) => p !== '').join('/');
  return { bucket: base.bucket, key };
}

/** Unpacks an object into `dir`: a .tar.gz/.tgz is extracted, any other object is written as its file name. */
export async function unpackObject(objects: ObjectStore, source: S3Location, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const { body } = await objects.getObject(source.bucket, source.key);
  if (/\.(tar\.gz|tgz)$/.test(source.key)) await pipeline(body, extractTar({ cwd: dir, strict: true }));
  else await pipeline(body, createWriteStream(path.join(dir, path.basename(source.key))));
}
