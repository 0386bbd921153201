/**
 * The machine's interpreters that stand in for a framework image: Python (KILN_PYTHON,
 * default Debian's /usr/bin/python3 with its packages) and Node (this very Node, with tsx for
 * .ts entry points). A framework image promises a module (sklearn, torch, ...); a runtime
 * that cannot import it is reported by name instead of failing later inside the user's code.
 */
import { spawn } from 'node:child_process';
import { FRAMEWORK_MODULE, frameworkLabel, type Framework } from './framework-images.ts';

export const TSX_LOADER = import.meta.resolve('tsx');

export function pythonInterpreter(): string {
  return process.env.KILN_PYTHON || '/usr/bin/python3';
}

/** The command line that runs an entry point file with the runtime its image names. */
export function entryCommand(framework: Framework, entry: string, args: string[]): { command: string; args: string[] } {
  if (framework === 'node') {
    const loader = /\.[cm]?ts$/.test(entry) ? ['--import', TSX_LOADER] : [];
    return { command: process.execPath, args: [...loader, entry, ...args] };
  }
  // -u: unbuffered, so log lines reach the job's log as they are printed.
  return { command: pythonInterpreter(), args: ['-u', entry, ...args] };
}

const importable = new Map<string, Promise<string | undefined>>();

/** Runs `python -c 'import <module>'`; resolves to the interpreter's error, or undefined when it imports. */
function tryImport(python: string, module: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(python, ['-c', `import ${module}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve(`${python} could not be started: ${e.message}`));
    child.on('close', (code) => resolve(code === 0 ? undefined : err.trim().split('\n').at(-1) || `exit code ${code}`));
  });
}

/**
 * Why the runtime cannot run this framework's image, or undefined when it can. Successful
 * checks are remembered; failed ones are retried, so installing the package fixes the next job.
 */
export async function missingFramework(framework: Framework): Promise<string | undefined> {
  const module = FRAMEWORK_MODULE[framework];
  if (!module) return undefined;
  const python = pythonInterpreter();
  const key = `${python}\0${module}`;
  let check = importable.get(key);
  if (!check) {
    check = tryImport(python, module);
    importable.set(key, check);
  }
  const error = await check;
  if (error) {
    importable.delete(key);
    return `The ${frameworkLabel(framework)} image needs the Python module '${module}', which ${python} cannot import (${error}). Install it for that interpreter (e.g. Debian's python3-${module === 'sklearn' ? 'sklearn' : module}) or point KILN_PYTHON at an interpreter that has it.`;
  }
  return undefined;
}
