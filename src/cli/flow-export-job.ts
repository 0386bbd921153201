/**
 * `kiln flow export-job`: what Data Wrangler's "Save to S3" notebook does, for a Kiln flow. The
 * flow's `.flow` file is uploaded to S3 and CreateProcessingJob is called with the Data Wrangler
 * image, the `flow` input and one output per node; each call is a signed AWS call of its own.
 */
import { dataWranglerImageUri } from '../engine/jobs/data-wrangler-image.ts';
import type { KilnApiClient } from '../services/kiln-api/client.ts';

export interface ExportJobOptions {
  flow: string;
  /** `<node>` or `<node>.<output>` → the S3 prefix its table goes under. */
  outputs: { name: string; uri: string }[];
  format?: 'csv' | 'parquet';
  /** Where the .flow file is uploaded; `s3://<first output's bucket>/data_wrangler_flows/<job>.flow` by default. */
  flowUri?: string;
  jobName?: string;
  instanceType: string;
  roleArn: string;
  region: string;
  wait: boolean;
  print(line: string): void;
}

interface Described {
  ProcessingJobStatus: string;
  FailureReason?: string;
}

const s3Parts = (uri: string) => /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);

/** Starts the job (and waits for it with `wait`); returns its final or current status. */
export async function exportFlowAsJob(api: KilnApiClient, o: ExportJobOptions): Promise<string> {
  const flowFile = await api.request<unknown>('GET', `/_kiln/api/flows/${encodeURIComponent(o.flow)}/file`);
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const jobName = o.jobName ?? `${o.flow.slice(0, 48)}-${stamp}`;
  const outputs = o.outputs.map(({ name, uri }) => ({ name: name.includes('.') ? name : `${name}.default`, uri }));
  const flowUri = o.flowUri ?? `s3://${s3Parts(outputs[0]!.uri)?.[1]}/data_wrangler_flows/${jobName}.flow`;
  const target = s3Parts(flowUri);
  if (!target?.[2]) throw new Error(`--flow-uri must be s3://bucket/key.flow, not '${flowUri}'`);
  await api.putObject(target[1]!, target[2], Buffer.from(`${typeof flowFile === 'string' ? flowFile : JSON.stringify(flowFile, null, 2)}\n`), 'application/json');
  o.print(`uploaded flow ${o.flow} to ${flowUri}`);

  const outputConfig = o.format ? Object.fromEntries(outputs.map((x) => [x.name, { content_type: o.format!.toUpperCase() }])) : undefined;
  const created = await api.awsJson<{ ProcessingJobArn: string }>('sagemaker', 'SageMaker.CreateProcessingJob', {
    ProcessingJobName: jobName,
    RoleArn: o.roleArn,
    AppSpecification: { ImageUri: dataWranglerImageUri(o.region) ?? 'kiln/data-wrangler', ...(outputConfig ? { ContainerArguments: [`--output-config '${JSON.stringify(outputConfig)}'`] } : {}) },
    ProcessingInputs: [{ InputName: 'flow', S3Input: { S3Uri: flowUri, LocalPath: '/opt/ml/processing/flow', S3DataType: 'S3Prefix', S3InputMode: 'File', S3DataDistributionType: 'FullyReplicated' } }],
    ProcessingOutputConfig: {
      Outputs: outputs.map((x) => ({ OutputName: x.name, S3Output: { S3Uri: x.uri, LocalPath: `/opt/ml/processing/output/${x.name.replace('.', '-')}`, S3UploadMode: 'EndOfJob' } })),
    },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: o.instanceType, VolumeSizeInGB: 30 } },
  });
  o.print(`processing job ${jobName} created (${created.ProcessingJobArn})`);
  for (const x of outputs) o.print(`${x.name} → ${x.uri.replace(/\/+$/, '')}/${jobName}/${x.name.replace('.', '/')}/`);
  let job = await api.awsJson<Described>('sagemaker', 'SageMaker.DescribeProcessingJob', { ProcessingJobName: jobName });
  while (o.wait && (job.ProcessingJobStatus === 'InProgress' || job.ProcessingJobStatus === 'Stopping')) {
    await new Promise((r) => setTimeout(r, 500));
    job = await api.awsJson<Described>('sagemaker', 'SageMaker.DescribeProcessingJob', { ProcessingJobName: jobName });
  }
  o.print(`${jobName} ${job.ProcessingJobStatus}${job.FailureReason ? `: ${job.FailureReason}` : ''}`);
  return job.ProcessingJobStatus;
}
