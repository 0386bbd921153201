/**
 * Script mode: what SageMaker's framework containers do before and around a user's entry
 * point, done on this machine. The source directory (sagemaker_submit_directory, a tar.gz in
 * S3) is unpacked into /opt/ml/code, requirements.txt is installed when the interpreter lacks
 * something, and the program runs with the runtime its image names; a failing script fails
 * the job with the toolkit's ExecuteUserScriptError reason.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectStore } from '../../store/objects/types.ts';
import { unpackObject } from './artifacts.ts';
import { parseS3Uri } from './channels.ts';
import { JobFailure } from './failure.ts';
import { frameworkLabel, type Framework } from './framework-images.ts';
import type { ResolvedImage } from './images.ts';
import type { ContainerPaths } from './container-layout.ts';
import { entryCommand, missingFramework, pythonInterpreter, runCollect } from './runtimes.ts';
import { toolkitArguments, toolkitEnvironment, type ScriptHyperparameters } from './toolkit-environment.ts';

const UNSATISFIED_REQUIREMENTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'python', 'unsatisfied_requirements.py');

/** The framework a job runs a script with, or undefined when its image runs a built-in algorithm. */
export function scriptFramework(image: ResolvedImage, program: string | undefined): Framework | undefined {
  if (image.kind === 'framework') return image.framework;
  // SageMaker's XGBoost image runs a script instead of the algorithm when it is given one.
  if (image.kind === 'builtin' && image.algorithm === 'xgboost' && program) return 'xgboost';
  return undefined;
}

/** Unpacks sagemaker_submit_directory (s3://…/sourcedir.tar.gz, or a single script) into codeDir. */
export async function fetchSourceDirectory(objects: ObjectStore, submitDirectory: string | undefined, codeDir: string): Promise<void> {
  if (!submitDirectory) {
    throw new JobFailure('ClientError: Script mode needs the hyperparameter sagemaker_submit_directory: the S3 URI of the tar.gz holding the training code (the SageMaker Python SDK sets it from entry_point and source_dir).');
  }
  const location = parseS3Uri(submitDirectory);
  if (!location?.key) throw new JobFailure(`ClientError: sagemaker_submit_directory '${submitDirectory}' is not an S3 URI of a tar.gz file.`);
  try {
    await unpackObject(objects, location, codeDir);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'NoSuchKey' || code === 'NoSuchBucket') throw new JobFailure(`ClientError: The source directory ${submitDirectory} (sagemaker_submit_directory) does not exist.`);
    throw new JobFailure(`ClientError: The source directory ${submitDirectory} could not be unpacked: ${(e as Error).message}`);
  }
}

const NODE_ENTRY = /\.(?:[cm]?js|[cm]?ts)$/;

/** The command that runs `program` from codeDir with the image's runtime, as the toolkit's entry point runner does. */
export function scriptCommand(framework: Framework, codeDir: string, program: string, args: string[]): { command: string; args: string[] } {
  const parts = program.split('/');
  if (program.startsWith('/') || parts.includes('..')) throw new JobFailure(`ClientError: sagemaker_program '${program}' must be a path inside the source directory.`);
  const file = path.join(codeDir, program);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new JobFailure(`ClientError: The entry point '${program}' (sagemaker_program) is not in the source directory.`);
  }
  if (framework === 'node') {
    if (!NODE_ENTRY.test(program)) throw new JobFailure(`ClientError: The Kiln Node runtime runs .js, .mjs, .cjs and .ts entry points, not '${program}'.`);
    return entryCommand('node', program, args);
  }
  if (program.endsWith('.sh')) return { command: '/bin/sh', args: [program, ...args] };
  if (!program.endsWith('.py')) {
    throw new JobFailure(`ClientError: The ${frameworkLabel(framework)} image runs a Python (.py) or shell (.sh) entry point, not '${program}'${NODE_ENTRY.test(program) ? '; use the image kiln/node for JavaScript and TypeScript' : ''}.`);
  }
  return entryCommand(framework, program, args);
}

/**
 * Honours codeDir/requirements.txt for the Python runtime: what the interpreter already
 * satisfies is left alone; the rest is installed with pip into `packagesDir` (returned, to
 * be put on PYTHONPATH). Without a reachable package index pip fails: that is written to
 * the job's log, and the script runs with what the interpreter has (if it needs the missing
 * package, its own ImportError fails the job).
 */
export async function installRequirements(codeDir: string, packagesDir: string, env: Record<string, string>, log: (line: string) => void): Promise<string | undefined> {
  const file = path.join(codeDir, 'requirements.txt');
  if (!existsSync(file)) return undefined;
  const python = pythonInterpreter();
  const check = await runCollect(python, [UNSATISFIED_REQUIREMENTS, file], { cwd: codeDir, env, timeoutMs: 30_000 });
  if (check.code !== 0) {
    log(`Kiln: could not check requirements.txt with ${python}: ${check.out.trim().split('\n').at(-1)}`);
    return undefined;
  }
  const missing = check.out.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!missing.length) {
    log(`Kiln: requirements.txt is already satisfied by ${python}; nothing to install`);
    return undefined;
  }
  log(`Kiln: installing from requirements.txt with pip: ${missing.join(', ')}`);
  mkdirSync(packagesDir, { recursive: true });
  const pip = await runCollect(
    python,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--retries', '0', '--timeout', '10', '--target', packagesDir, ...missing],
    { cwd: codeDir, env: { ...env, PIP_BREAK_SYSTEM_PACKAGES: '1' }, onLine: (l) => log(`pip: ${l}`), timeoutMs: 600_000 },
  );
  if (pip.code !== 0) {
    log(`Kiln: requirements.txt could NOT be installed (pip exited with ${pip.code}; is a package index reachable from this machine?). Not installed: ${missing.join(', ')}. The script runs with the packages ${python} already has.`);
  }
  return packagesDir;
}

/** The last lines a job's process wrote to stderr, for its failure reason. */
export class StderrTail {
  private readonly lines: string[] = [];

  constructor(private readonly max = 60) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.shift();
  }

  /** From the last Python traceback on, or the last few lines. */
  errorMessage(): string {
    let start = this.lines.length - 1;
    while (start >= 0 && !this.lines[start]!.startsWith('Traceback (most recent call last)')) start--;
    const chosen = start >= 0 ? this.lines.slice(start) : this.lines.slice(-10);
    const text = chosen.join('\n').trim();
    return text.length > 700 ? `...${text.slice(-700)}` : text;
  }
}

/** The toolkit's ExecuteUserScriptError, as SageMaker shows it in FailureReason. */
export function scriptFailureReason(exit: { code: number | null; signal: NodeJS.Signals | null }, commandLine: string, tail: StderrTail): string {
  const code = exit.code ?? (exit.signal ? `${exit.signal}` : 'unknown');
  return `AlgorithmError: ExecuteUserScriptError:\nExitCode ${code}\nErrorMessage "${tail.errorMessage()}"\nCommand "${commandLine}", exit code: ${code}`;
}

export interface ScriptLaunchOptions {
  framework: Framework;
  paths: ContainerPaths;
  codeDir: string;
  hyperparameters: ScriptHyperparameters;
  jobName: string;
  channels: string[];
  instanceType: string;
  threads: number;
  region: string;
  /** The process environment before the toolkit's variables (PATH, the job's Environment, ...). */
  baseEnv: Record<string, string>;
  log: (line: string) => void;
}

export interface ScriptLaunch {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** The command as the failure reason shows it, with the program relative to the code folder. */
  commandLine: string;
}

/** Everything the toolkit does between "the code is unpacked" and "the script starts". */
export async function prepareScriptLaunch(o: ScriptLaunchOptions): Promise<ScriptLaunch> {
  const missing = o.framework === 'node' ? undefined : await missingFramework(o.framework);
  if (missing) throw new JobFailure(`ClientError: ${missing}`);
  const program = o.hyperparameters.program!;
  const userArgs = toolkitArguments(o.hyperparameters.user);
  const { command, args } = scriptCommand(o.framework, o.codeDir, program, userArgs);
  const toolkit = toolkitEnvironment(o.paths, {
    jobName: o.jobName,
    framework: o.framework,
    program,
    submitDirectory: o.hyperparameters.submitDirectory ?? '',
    hyperparameters: o.hyperparameters,
    channels: o.channels,
    instanceType: o.instanceType,
    threads: o.threads,
    region: o.region,
    codeDir: o.codeDir,
  });
  const env: Record<string, string> = { ...o.baseEnv, ...toolkit };
  const pythonPath = [o.codeDir];
  if (o.framework !== 'node') {
    const packages = await installRequirements(o.codeDir, path.join(path.dirname(o.paths.root), 'python-packages'), env, o.log);
    if (packages) pythonPath.unshift(packages);
  }
  env.PYTHONPATH = [...pythonPath, ...(o.baseEnv.PYTHONPATH ? [o.baseEnv.PYTHONPATH] : [])].join(':');
  env.PYTHONUNBUFFERED = '1';
  const commandLine = [command, ...args].join(' ');
  return { command, args, cwd: o.codeDir, env, commandLine };
}
