import type { Logger } from '../../server/logger.ts';

/** Told when a job is created and when it ends (experiment tracking, lineage). */
export interface JobListener<D> {
  created(job: D): Promise<void>;
  ended(job: D): Promise<void>;
}

/** Tells a job's listener about it; what the listener throws is logged and never fails the job. */
export async function notifyListener<D>(listener: JobListener<D> | undefined, event: keyof JobListener<D>, job: D, about: { kind: string; name: string; log: Logger }): Promise<void> {
  try {
    await listener?.[event](job);
  } catch (e) {
    about.log.error(`${about.kind} listener failed on ${event}`, { job: about.name, error: String((e as Error)?.stack ?? e) });
  }
}
