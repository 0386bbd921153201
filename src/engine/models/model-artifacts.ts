/**
 * Model artifacts as SageMaker hands them to a serving container: a model.tar.gz in the
 * object store, unpacked into a folder (the container's /opt/ml/model). Shared by real-time
 * endpoints, multi-model endpoints and batch transform.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadModel } from '../../algorithms/xgboost/model-binary.ts';
import type { BoosterModel } from '../../algorithms/xgboost/model.ts';
import type { ObjectStore } from '../../store/objects/types.ts';
import { unpackObject } from '../jobs/artifacts.ts';
import { parseS3Uri } from '../jobs/channels.ts';

export class ModelArtifactError extends Error {}

/**
 * Downloads and unpacks `s3Uri` (a .tar.gz, or a single uncompressed model file) into a
 * folder under `cacheDir` named by the URI and the object's ETag, reusing it when present.
 */
export async function fetchModelArtifact(objects: ObjectStore, s3Uri: string, cacheDir: string): Promise<string> {
  const location = parseS3Uri(s3Uri);
  if (!location || !location.key) throw new ModelArtifactError(`ModelDataUrl '${s3Uri}' is not an S3 URI of a model file.`);
  let meta;
  try {
    meta = await objects.headObject(location.bucket, location.key);
  } catch {
    throw new ModelArtifactError(`Could not find model data at ${s3Uri}.`);
  }
  const id = createHash('sha256').update(`${s3Uri}\n${meta.etag}`).digest('hex').slice(0, 24);
  const dir = path.join(cacheDir, id);
  if (existsSync(dir)) return dir;
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  try {
    await unpackObject(objects, location, staging);
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (existsSync(dir)) return dir; // another caller finished first
    throw new ModelArtifactError(`Could not unpack the model data at ${s3Uri}: ${(e as Error).message}`);
  }
  return dir;
}

/** Files in a folder tree, relative paths, skipping hidden ones. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel))
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (statSync(path.join(dir, rel, n)).isDirectory() ? files(dir, path.join(rel, n)) : [path.join(rel, n)]));
}

/**
 * The XGBoost model in an unpacked artifact, found as SageMaker's XGBoost container finds
 * it: `xgboost-model` if present, else the only file there.
 */
export function loadXgboostModel(dir: string): BoosterModel {
  const all = files(dir);
  const chosen = all.includes('xgboost-model') ? 'xgboost-model' : all.length === 1 ? all[0]! : undefined;
  if (!chosen) {
    throw new ModelArtifactError(
      all.length ? `Found ${all.length} files in the model artifact (${all.slice(0, 5).join(', ')}); expected xgboost-model or a single model file.` : 'The model artifact is empty.',
    );
  }
  try {
    return loadModel(readFileSync(path.join(dir, chosen)));
  } catch (e) {
    throw new ModelArtifactError(`Unable to load model ${chosen}: ${(e as Error).message}`);
  }
}
