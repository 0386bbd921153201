/**
 * What Linux namespaces give a job in place of a container, where the OS allows them:
 *
 * - EnableNetworkIsolation: a new network namespace (`unshare --net`), which has only a down
 *   loopback interface, so the job can reach nothing.
 * - /opt/ml: in a private mount namespace the job's own folder is bind-mounted at /opt/ml,
 *   so scripts that write literal paths (/opt/ml/processing/input, /opt/ml/checkpoints, ...)
 *   work unchanged. Kiln does not create /opt/ml on the machine: the mount happens only when
 *   that folder exists (`sudo mkdir /opt/ml` once); KILN_CONTAINER_OPT_ML names another one.
 *
 * Both need CAP_SYS_ADMIN or unprivileged user namespaces; where the OS refuses, the job runs
 * without them and its log says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The shell step that mounts $1 at $2, then runs the job's command in its place. */
const MOUNT_THEN_EXEC = 'mount --bind "$1" "$2" || exit 125; shift 2; exec "$@"';

let netProbe: { available: boolean; reason?: string } | undefined;
const mountProbes = new Map<string, { available: boolean; reason?: string }>();

function probe(args: string[]): { available: boolean; reason?: string } {
  const r = spawnSync('unshare', args, { encoding: 'utf8', timeout: 5_000 });
  return r.status === 0 ? { available: true } : { available: false, reason: (r.error?.message ?? r.stderr?.trim()) || `unshare exited with ${r.status}` };
}

/** Whether `unshare --net` works here; probed once. */
export function networkNamespaceSupport(): { available: boolean; reason?: string } {
  netProbe ??= probe(['--net', '--', 'true']);
  return netProbe;
}

export function containerOptMl(): string {
  return process.env.KILN_CONTAINER_OPT_ML || '/opt/ml';
}

/** Whether a job's folder can be mounted at `target`; probed once per target. */
function mountSupport(target: string): { available: boolean; reason?: string } {
  if (!existsSync(target)) return { available: false, reason: `${target} does not exist on this machine` };
  let known = mountProbes.get(target);
  if (!known) {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'kiln-mount-probe-'));
    known = probe(['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', MOUNT_THEN_EXEC, 'kiln-opt-ml', scratch, target, 'true']);
    rmSync(scratch, { recursive: true, force: true });
    mountProbes.set(target, known);
  }
  return known;
}

export interface NamespacePlan {
  isolateNetwork: boolean;
  /** The job folder to show at `target`. */
  mount?: { source: string; target: string };
  /** Lines for the job's log saying how it runs. */
  logLines: string[];
}

/**
 * How a job runs: with its network taken away when it asks for isolation, and with its
 * folder at /opt/ml when `optMl` is given (script mode and processing jobs).
 */
export function namespacePlan(opts: { isolateNetwork: boolean; optMl?: string }): NamespacePlan {
  const plan: NamespacePlan = { isolateNetwork: false, logLines: [] };
  if (opts.isolateNetwork) {
    const net = networkNamespaceSupport();
    plan.isolateNetwork = net.available;
    plan.logLines.push(
      net.available
        ? 'Kiln: EnableNetworkIsolation: the job runs in its own network namespace, with no network access.'
        : `Kiln: EnableNetworkIsolation is set, but this OS does not let Kiln create a network namespace (${net.reason}); the job runs WITH the machine's network access.`,
    );
  }
  if (opts.optMl) {
    const target = containerOptMl();
    const mount = mountSupport(target);
    if (mount.available) {
      plan.mount = { source: opts.optMl, target };
      plan.logLines.push(`Kiln: the job's folder is mounted at ${target} (private mount namespace).`);
    } else {
      plan.logLines.push(`Kiln: the job's folder is not mounted at ${target} (${mount.reason}): use the paths in the SM_* variables (and KILN_OPT_ML), not literal ${target}/... paths.`);
    }
  }
  return plan;
}

/** The command line that runs `command args` inside the planned namespaces (the pid stays the job's: unshare and sh exec in place). */
export function wrapInNamespaces(plan: Pick<NamespacePlan, 'isolateNetwork' | 'mount'>, command: string, args: string[]): { command: string; args: string[] } {
  if (!plan.isolateNetwork && !plan.mount) return { command, args };
  const flags = [...(plan.isolateNetwork ? ['--net'] : []), ...(plan.mount ? ['--mount', '--propagation', 'private'] : [])];
  const inner = plan.mount ? ['/bin/sh', '-c', MOUNT_THEN_EXEC, 'kiln-opt-ml', plan.mount.source, plan.mount.target, command, ...args] : [command, ...args];
  return { command: 'unshare', args: [...flags, '--', ...inner] };
}
