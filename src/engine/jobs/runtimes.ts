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
  // The caller sets PYTHONUNBUFFERED, so log lines reach the job's log as they are printed.
  return { command: pythonInterpreter(), args: [entry, ...args] };
}

const importable = new Map<string, Promise<string | undefined>>();

/** Runs a command to its end and collects its output (both streams), killing it after `timeoutMs`. */
export function runCollect(command: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; onLine?: (line: string) => void; timeoutMs: number }): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer) => {
      const text = d.toString();
      out += text;
      for (const line of text.split('\n')) if (line.trim()) opts.onLine?.(line);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, out: `${command} could not be started: ${e.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * Whether the interpreter has the module, without importing it (find_spec only locates it:
 * milliseconds, where importing sklearn or torch takes seconds); the error when it has not.
 */
async function findModule(python: string, module: string): Promise<string | undefined> {
  const probe = `import importlib.util, sys\nif importlib.util.find_spec(${JSON.stringify(module)}) is None: sys.exit("ModuleNotFoundError: No module named '${module}'")`;
  const r = await runCollect(python, ['-c', probe], { timeoutMs: 30_000 });
  return r.code === 0 ? undefined : r.out.trim().split('\n').at(-1) || `exit code ${r.code}`;
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
    check = findModule(python, module);
    importable.set(key, check);
  }
  const error = await check;
  if (error) {
    importable.delete(key);
    return `The ${frameworkLabel(framework)} image needs the Python module '${module}', which ${python} cannot import (${error}). Install it for that interpreter (e.g. Debian's python3-${module === 'sklearn' ? 'sklearn' : module}) or point KILN_PYTHON at an interpreter that has it.`;
  }
  return undefined;
}
