/** Runs `kiln serve` as a separate process, as `npm start` does, and finds its URL in its log. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const started = new Set<ChildProcess>();

/** Kills every server still running; tests call it in after() so a failed assertion cannot leave one keeping the run alive. */
export function killStartedKilns(): void {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

export interface ChildKiln {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnKiln(env: NodeJS.ProcessEnv): Promise<ChildKiln> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/kiln.ts'), 'serve'], {
    cwd: root,
    env: { ...process.env, KILN_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let output = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln did not start:\n${output}`)), 30_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /"msg":"kiln ready"[^\n]*"url":"([^"]+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, output: () => output, exited });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', () => {
      clearTimeout(timer);
      reject(new Error(`kiln exited before it was ready:\n${output}`));
    });
  });
}
