/**
 * Serving a script-mode model: which inference server an endpoint instance runs when its
 * model names a framework image (or the XGBoost image with SAGEMAKER_PROGRAM), and where the
 * handler code comes from, as SageMaker's framework serving containers find it:
 *
 *   SAGEMAKER_SUBMIT_DIRECTORY = s3://…/sourcedir.tar.gz   the code the training job ran
 *   SAGEMAKER_SUBMIT_DIRECTORY = /opt/ml/model/code        code packed into model.tar.gz
 *   (unset)                                                 code/ inside model.tar.gz, if any
 *
 * and SAGEMAKER_PROGRAM the module to import (default inference.py, as the inference toolkit).
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectStore } from '../../store/objects/types.ts';
import type { Framework } from '../jobs/framework-images.ts';
import type { ResolvedImage } from '../jobs/images.ts';
import { missingFramework, pythonInterpreter, TSX_LOADER } from '../jobs/runtimes.ts';
import { fetchModelArtifact } from '../models/model-artifacts.ts';
import type { WorkerCommand } from './variant-pool.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON_SERVER = path.join(HERE, 'python', 'kiln_inference_server.py');
const NODE_SERVER = path.join(HERE, 'node-inference-worker.ts');
const CONTAINER_MODEL_DIR = '/opt/ml/model';

/** The framework a model is served with in script mode, or undefined for the built-in XGBoost container. */
export function servingFramework(image: ResolvedImage, environment: Record<string, string> | undefined): Framework | undefined {
  if (image.kind === 'framework') return image.framework;
  if (image.kind === 'builtin' && environment?.SAGEMAKER_PROGRAM) return 'xgboost';
  return undefined;
}

export interface ScriptServingOptions {
  framework: Framework;
  environment: Record<string, string> | undefined;
  modelDir: string;
  objects: ObjectStore;
  /** Where downloaded source directories are unpacked (shared with model artifacts). */
  cacheDir: string;
}

/** Where the handler code is, per SAGEMAKER_SUBMIT_DIRECTORY. */
async function codeDirectory(o: ScriptServingOptions): Promise<string | undefined> {
  const submit = o.environment?.SAGEMAKER_SUBMIT_DIRECTORY;
  if (!submit) {
    const packed = path.join(o.modelDir, 'code');
    return existsSync(packed) ? packed : undefined;
  }
  if (submit.startsWith('s3://')) {
    try {
      return await fetchModelArtifact(o.objects, submit, o.cacheDir);
    } catch (e) {
      throw new Error(`ClientError: The inference code at SAGEMAKER_SUBMIT_DIRECTORY ${submit} could not be downloaded: ${(e as Error).message}`);
    }
  }
  if (submit === CONTAINER_MODEL_DIR || submit.startsWith(`${CONTAINER_MODEL_DIR}/`)) {
    const rel = submit.slice(CONTAINER_MODEL_DIR.length).split('/').filter(Boolean);
    if (rel.includes('..')) throw new Error(`ClientError: SAGEMAKER_SUBMIT_DIRECTORY ${submit} leaves the model folder.`);
    return path.join(o.modelDir, ...rel);
  }
  throw new Error(`ClientError: SAGEMAKER_SUBMIT_DIRECTORY must be an s3:// URI of the source tar.gz or a folder under /opt/ml/model, not '${submit}'.`);
}

/** The inference server process of one instance; fails with a ClientError reason when it cannot run. */
export async function scriptServingWorker(o: ScriptServingOptions): Promise<WorkerCommand> {
  const missing = o.framework === 'node' ? undefined : await missingFramework(o.framework);
  if (missing) throw new Error(`ClientError: ${missing}`);
  const codeDir = await codeDirectory(o);
  const program = o.environment?.SAGEMAKER_PROGRAM ?? (codeDir && existsSync(path.join(codeDir, 'inference.py')) ? 'inference.py' : '');
  if (program && (!codeDir || !existsSync(path.join(codeDir, program)))) {
    throw new Error(`ClientError: The inference script '${program}' (SAGEMAKER_PROGRAM) is not in the source directory ${o.environment?.SAGEMAKER_SUBMIT_DIRECTORY ?? 'code/ of the model artifact'}.`);
  }
  const env: Record<string, string> = {
    KILN_MODEL_DIR: o.modelDir,
    KILN_CODE_DIR: codeDir ?? '',
    KILN_FRAMEWORK: o.framework,
    SAGEMAKER_PROGRAM: program,
  };
  if (o.framework === 'node') return { command: process.execPath, args: ['--import', TSX_LOADER, NODE_SERVER], env };
  return { command: pythonInterpreter(), args: ['-u', PYTHON_SERVER], env: { ...env, PYTHONPATH: codeDir ?? '', PYTHONUNBUFFERED: '1' } };
}

/** A model with no ModelDataUrl still gets a (empty) model folder, as the container has /opt/ml/model. */
export function emptyModelDir(dataDir: string): string {
  const dir = path.join(dataDir, 'hosting', 'empty-model');
  mkdirSync(dir, { recursive: true });
  return dir;
}
