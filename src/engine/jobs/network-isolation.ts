/**
 * EnableNetworkIsolation without containers: the job's process gets a new network namespace
 * (`unshare --net`), which has only a down loopback interface, so it can reach nothing. That
 * needs CAP_SYS_ADMIN or unprivileged user namespaces; where the OS refuses, the job runs
 * with the machine's network and its log says so.
 */
import { spawnSync } from 'node:child_process';

let probed: { available: boolean; reason?: string } | undefined;

/** Whether `unshare --net` works here; probed once. */
export function networkNamespaceSupport(): { available: boolean; reason?: string } {
  if (!probed) {
    const r = spawnSync('unshare', ['--net', '--', 'true'], { encoding: 'utf8', timeout: 5_000 });
    probed = r.status === 0 ? { available: true } : { available: false, reason: (r.error?.message ?? r.stderr?.trim()) || `unshare exited with ${r.status}` };
  }
  return probed;
}

/** Decides how a job asking for isolation runs, and the log line that tells the user. */
export function networkIsolationPlan(requested: boolean): { isolate: boolean; logLine?: string } {
  if (!requested) return { isolate: false };
  const support = networkNamespaceSupport();
  if (support.available) return { isolate: true, logLine: 'Kiln: EnableNetworkIsolation: the job runs in its own network namespace, with no network access.' };
  return {
    isolate: false,
    logLine: `Kiln: EnableNetworkIsolation is set, but this OS does not let Kiln create a network namespace (${support.reason}); the job runs WITH the machine's network access.`,
  };
}
