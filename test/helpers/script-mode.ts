/** Helpers for script-mode tests: source tarballs as the SageMaker Python SDK uploads them, and job log reading. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create as createTar } from 'tar';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

/** A sourcedir.tar.gz holding the given files (name → content), as the SDK packs entry_point and source_dir. */
export async function sourceTarball(files: Record<string, string>): Promise<Buffer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-src-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    const file = path.join(dir, '..', `${path.basename(dir)}.tar.gz`);
    await createTar({ gzip: true, cwd: dir, file, portable: true }, Object.keys(files));
    const bytes = readFileSync(file);
    rmSync(file);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every message of a job's first log stream. */
export async function jobLog(logs: CloudWatchLogsClient, group: string, job: string): Promise<string[]> {
  const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: `${job}/` }));
  const out: string[] = [];
  for (const stream of streams.logStreams ?? []) {
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: stream.logStreamName!, startFromHead: true, nextToken: token }));
      out.push(...(page.events ?? []).map((e) => e.message!));
      if (!page.events?.length || page.nextForwardToken === token) break;
      token = page.nextForwardToken;
    }
  }
  return out;
}

/** The SDK's hyperparameters for an estimator: the user's, JSON-encoded, plus the sagemaker_* ones. */
export function sdkHyperparameters(user: Record<string, unknown>, program: string, submitDirectory: string): Record<string, string> {
  return {
    ...Object.fromEntries(Object.entries(user).map(([k, v]) => [k, JSON.stringify(v)])),
    sagemaker_program: JSON.stringify(program),
    sagemaker_submit_directory: JSON.stringify(submitDirectory),
    sagemaker_container_log_level: '20',
    sagemaker_region: '"us-east-1"',
  };
}
