/**
 * What an ML instance type means on this machine: the vCPUs a job may use (capped by the
 * machine's cores), the memory it may hold before it is stopped, and how many jobs of that
 * type may run at once (the per-type quota SageMaker accounts have; beyond it
 * CreateTrainingJob answers ResourceLimitExceeded). README.md documents this table.
 */
import os from 'node:os';

export interface InstanceType {
  vcpus: number;
  memoryGiB: number;
  /** Concurrent training jobs of this type. */
  trainingQuota: number;
}

const t = (vcpus: number, memoryGiB: number, trainingQuota: number): InstanceType => ({ vcpus, memoryGiB, trainingQuota });

export const INSTANCE_TYPES: Readonly<Record<string, InstanceType>> = {
  'ml.t3.medium': t(2, 4, 2),
  'ml.t3.large': t(2, 8, 2),
  'ml.t3.xlarge': t(4, 16, 2),
  'ml.t3.2xlarge': t(8, 32, 2),
  'ml.m4.xlarge': t(4, 16, 4),
  'ml.m4.2xlarge': t(8, 32, 2),
  'ml.m4.4xlarge': t(16, 64, 2),
  'ml.m5.large': t(2, 8, 4),
  'ml.m5.xlarge': t(4, 16, 4),
  'ml.m5.2xlarge': t(8, 32, 2),
  'ml.m5.4xlarge': t(16, 64, 2),
  'ml.m5.12xlarge': t(48, 192, 1),
  'ml.m5.24xlarge': t(96, 384, 1),
  'ml.m6i.large': t(2, 8, 4),
  'ml.m6i.xlarge': t(4, 16, 4),
  'ml.m6i.2xlarge': t(8, 32, 2),
  'ml.c4.xlarge': t(4, 7.5, 4),
  'ml.c4.2xlarge': t(8, 15, 2),
  'ml.c5.large': t(2, 4, 4),
  'ml.c5.xlarge': t(4, 8, 4),
  'ml.c5.2xlarge': t(8, 16, 2),
  'ml.c5.4xlarge': t(16, 32, 2),
  'ml.c5.9xlarge': t(36, 72, 1),
  'ml.r5.large': t(2, 16, 2),
  'ml.r5.xlarge': t(4, 32, 2),
  'ml.r5.2xlarge': t(8, 64, 2),
  'ml.g4dn.xlarge': t(4, 16, 1),
  'ml.g5.xlarge': t(4, 16, 1),
  'ml.p3.2xlarge': t(8, 61, 1),
};

const SIZE_VCPUS: Record<string, number> = { medium: 1, large: 2, xlarge: 4 };

/**
 * A listed type, or one derived from the size in its name (ml.<family>.<n>xlarge → 4n vCPUs,
 * 4 GiB each, one at a time) for the types the API accepts that the table does not list.
 */
export function instanceType(name: string): InstanceType | undefined {
  const listed = INSTANCE_TYPES[name];
  if (listed) return listed;
  const m = /^ml\.[a-z0-9-]+\.(?:(\d+)(xlarge)|(medium|large|xlarge))$/.exec(name);
  if (!m) return undefined;
  const vcpus = m[1] ? Number(m[1]) * 4 : SIZE_VCPUS[m[3]!]!;
  return t(vcpus, vcpus * 4, 1);
}

/** Threads a job of this type gets here: its vCPUs, but never more than the machine has. */
export function effectiveThreads(type: InstanceType): number {
  return Math.max(1, Math.min(type.vcpus, os.availableParallelism()));
}

/** Bytes of resident memory a job may hold: the type's memory, capped by the machine's. */
export function memoryLimitBytes(type: InstanceType): number {
  return Math.min(type.memoryGiB * 1024 ** 3, os.totalmem());
}
