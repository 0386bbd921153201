import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion and collects its output (never throws on exit code). */
export function run(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading its input closes the pipe first: that is not a failure.
    child.stdin.on('error', (e: NodeJS.ErrnoException) => e.code !== 'EPIPE' && reject(e));
    child.stdin.end(opts.input ?? '');
  });
}

/** Debian's interpreter, which sees Debian's python3-boto3. */
export const PYTHON = '/usr/bin/python3';
/** Debian's aws CLI v2. */
export const AWS_CLI = '/usr/bin/aws';
