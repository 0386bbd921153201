/**
 * A processing job's container, played on this machine: its filesystem root is the job's
 * working folder, so the container path /opt/ml/processing/input lives at
 * <workDir>/opt/ml/processing/input. AppSpecification's ContainerEntrypoint and
 * ContainerArguments are run with container paths translated, and with the machine's Python
 * (or Node) standing in for the image's interpreter.
 */
import path from 'node:path';
import { JobFailure } from './failure.ts';
import type { Framework } from './framework-images.ts';
import { pythonInterpreter } from './runtimes.ts';

export const PROCESSING_ROOT = '/opt/ml/processing/';

/** The host path of a container path under /opt/ml; anything else is refused. */
export function hostPath(workDir: string, containerPath: string): string {
  const normalized = path.posix.normalize(containerPath);
  if (!normalized.startsWith('/opt/ml/')) throw new JobFailure(`ClientError: '${containerPath}' is not a path under /opt/ml/.`);
  return path.join(workDir, ...normalized.split('/').filter(Boolean));
}

/** Container paths (/opt/ml/...) in an argument, wherever they start a word or follow `=`, as host paths. */
function translate(workDir: string, arg: string): string {
  return arg.replace(/(^|[=\s])(\/opt\/ml\/[^\s'"]*)/g, (_m, lead: string, p: string) => `${lead}${hostPath(workDir, p)}`);
}

const PYTHON_COMMAND = /^python(\d+(\.\d+)?)?$/;

/** The command line that plays the container's entry point, and whether it runs the image's Python. */
export function processingCommand(workDir: string, framework: Framework, entrypoint: string[] | undefined, args: string[] = []): { command: string; args: string[]; python: boolean } {
  if (!entrypoint?.length) {
    throw new JobFailure(
      'ClientError: AppSpecification.ContainerEntrypoint is required: Kiln runs the image\'s framework on this machine, not the image\'s own entry point (e.g. ["python3", "/opt/ml/processing/input/code/preprocess.py"], as the SageMaker Python SDK\'s ScriptProcessor sends).',
    );
  }
  const [head, ...rest] = [...entrypoint, ...args].map((a) => translate(workDir, a));
  const name = path.posix.basename(entrypoint[0]!);
  if (PYTHON_COMMAND.test(name)) {
    if (framework === 'node') throw new JobFailure(`ClientError: The kiln/node image has no Python; its entry point must be node.`);
    return { command: pythonInterpreter(), args: rest, python: true };
  }
  if (name === 'node') return { command: process.execPath, args: rest, python: false };
  return { command: head!, args: rest, python: false };
}
