/**
 * The jobs of one kind that this server is running: each run's stop flag and completion, so a job
 * can be stopped, awaited (by tests and at shutdown) and drained when the server closes. The
 * training, processing and transform job engines keep their runs here.
 */
import type { Logger } from '../../server/logger.ts';

export interface JobRun {
  stopRequested: boolean;
  done: Promise<void>;
}

export class JobRuns<R extends JobRun> {
  private readonly runs = new Map<string, R>();
  /** Set when the server begins to close: running jobs end as failed. */
  private closingNow = false;

  constructor(
    /** What the jobs are, for the log: `training job`. */
    private readonly kind: string,
    private readonly log: Logger,
  ) {}

  get closing(): boolean {
    return this.closingNow;
  }

  /**
   * Runs `execute` for the job in the background. An error it lets escape is logged; when it ends,
   * `cleanup` runs and the run is forgotten.
   */
  start(name: string, run: R, execute: (run: R) => Promise<void>, cleanup?: (run: R) => void): void {
    this.runs.set(name, run);
    run.done = execute(run)
      .catch((e) => this.log.error(`${this.kind} runner failed`, { job: name, error: String((e as Error)?.stack ?? e) }))
      .finally(() => {
        cleanup?.(run);
        this.runs.delete(name);
      });
  }

  /** Marks the job's run, if it is running here, as stopped by request and halts it. */
  stop(name: string, halt: (run: R) => void): void {
    const run = this.runs.get(name);
    if (!run) return;
    run.stopRequested = true;
    halt(run);
  }

  /** Waits until the job's run, if any, has ended. */
  async settled(name: string): Promise<void> {
    await this.runs.get(name)?.done;
  }

  /** Server shutdown: halts every run and waits for all of them to end. */
  async close(halt: (run: R) => void): Promise<void> {
    this.closingNow = true;
    for (const run of this.runs.values()) halt(run);
    await Promise.allSettled([...this.runs.values()].map((r) => r.done));
  }
}
