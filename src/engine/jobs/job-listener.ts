/** Told when a job is created and when it ends (experiment tracking, lineage); failures are logged, not raised. */
export interface JobListener<D> {
  created(job: D): Promise<void>;
  ended(job: D): Promise<void>;
}
