/**
 * Where a job's process runs. The local executor starts it as a child process in its own
 * process group on this machine; a Kubernetes executor can implement the same interface.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { wrapInNamespaces, type NamespacePlan } from './namespaces.ts';

export interface JobProcessSpec {
  /** Identifies the job's process, so a restarted server can find and end an orphan. */
  jobTag: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Resident memory above which the process is killed. */
  memoryLimitBytes: number;
  /**
   * False for user programs whose argument parsers must see only their own arguments: the
   * job is then tagged through the environment alone (KILN_JOB_TAG).
   */
  tagArgument?: boolean;
  /** Namespaces the process runs in: no network, the job folder at /opt/ml (see namespaces.ts). */
  namespaces?: Pick<NamespacePlan, 'isolateNetwork' | 'mount'>;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface JobExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the executor itself ended the process. */
  killedFor?: 'memory' | 'terminate';
  peakRssBytes: number;
}

export interface JobProcess {
  pid?: number;
  exited: Promise<JobExit>;
  /** SIGTERM now, SIGKILL after the grace period, as SageMaker stops a container. */
  terminate(graceMs: number): void;
}

export interface Executor {
  start(spec: JobProcessSpec): JobProcess;
  /** Ends a process a previous server started for this job, if it still runs. */
  killOrphan(pid: number, jobTag: string): boolean;
}

const JOB_TAG_ARG = '--kiln-job=';
const JOB_TAG_ENV = 'KILN_JOB_TAG=';

function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status);
    return kb ? Number(kb[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Splits a byte stream into lines, keeping an unterminated tail for the next chunk. */
function lineSplitter(emit: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let tail = '';
  return {
    push(chunk) {
      const text = tail + chunk.toString('utf8');
      const lines = text.split('\n');
      tail = lines.pop() ?? '';
      for (const line of lines) emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    },
    end() {
      if (tail) emit(tail);
      tail = '';
    },
  };
}

export class LocalProcessExecutor implements Executor {
  constructor(private readonly memoryPollMs = 250) {}

  start(spec: JobProcessSpec): JobProcess {
    const args = spec.tagArgument === false ? spec.args : [...spec.args, `${JOB_TAG_ARG}${spec.jobTag}`];
    const { command, args: argv } = spec.namespaces ? wrapInNamespaces(spec.namespaces, spec.command, args) : { command: spec.command, args };
    const child = spawn(command, argv, {
      cwd: spec.cwd,
      env: { ...spec.env, KILN_JOB_TAG: spec.jobTag },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let killedFor: JobExit['killedFor'];
    let peak = 0;
    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const watch = setInterval(() => {
      if (child.pid === undefined) return;
      const rss = rssBytes(child.pid);
      peak = Math.max(peak, rss);
      if (rss > spec.memoryLimitBytes && !killedFor) {
        killedFor = 'memory';
        killGroup('SIGKILL');
      }
    }, this.memoryPollMs);
    watch.unref();

    const out = lineSplitter((l) => spec.onLine(l, 'stdout'));
    const err = lineSplitter((l) => spec.onLine(l, 'stderr'));
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));

    const exited = new Promise<JobExit>((resolve) => {
      let spawnError: Error | undefined;
      child.on('error', (e) => {
        spawnError = e;
        spec.onLine(`Kiln could not start the job process: ${e.message}`, 'stderr');
      });
      child.on('close', (code, signal) => {
        clearInterval(watch);
        out.end();
        err.end();
        resolve({ code: spawnError ? 127 : code, signal, killedFor, peakRssBytes: peak });
      });
    });

    return {
      pid: child.pid,
      exited,
      terminate(graceMs) {
        if (!killedFor) killedFor = 'terminate';
        killGroup('SIGTERM');
        setTimeout(() => killGroup('SIGKILL'), graceMs).unref();
      },
    };
  }

  killOrphan(pid: number, jobTag: string): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!cmdline.includes(`${JOB_TAG_ARG}${jobTag}`) && !environ.includes(`${JOB_TAG_ENV}${jobTag}`)) return false;
      process.kill(-pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  }
}
