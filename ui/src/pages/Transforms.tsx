import { api } from '../api';
import { LogView, useLogTail } from '../components/LogTail';
import { ResourceTable } from '../components/ResourceTable';
import { Status } from '../components/Status';
import { usePoll } from '../components/usePoll';
import { elapsed } from '../components/time';
import { href } from '../router';

export function TransformJobs() {
  const { data, error } = usePoll(() => api.call('sagemaker', 'ListTransformJobs', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 }), [], 3000);
  return (
    <>
      <h1>Batch transforms</h1>
      {error && <p className="error">{error.message}</p>}
      <ResourceTable
        page="transforms"
        rows={data?.TransformJobSummaries.map((j: any) => ({ name: j.TransformJobName, status: j.TransformJobStatus, created: j.CreationTime, ended: j.TransformEndTime }))}
        duration
        empty="No batch transform jobs yet."
      />
    </>
  );
}

export function TransformJob({ name }: { name: string }) {
  const running = (d: any) => !d || d.TransformJobStatus === 'InProgress' || d.TransformJobStatus === 'Stopping';
  const { data: job, error } = usePoll(() => api.call('sagemaker', 'DescribeTransformJob', { TransformJobName: name }), [name], 1500, running);
  const live = running(job);
  const logs = useLogTail('/aws/sagemaker/TransformJobs', `${name}/`, live);
  if (error) return <p className="error">{error.message}</p>;
  if (!job) return <p className="loading">Loading…</p>;
  const input = job.TransformInput;
  return (
    <>
      <h1>
        <a href={href('transforms')}>Batch transforms</a> / {name}
      </h1>
      <div className="summary">
        <Status value={job.TransformJobStatus} />
        <span className="muted">
          model {job.ModelName} · {live ? 'running for' : 'took'} {elapsed(job.TransformStartTime ?? job.CreationTime, job.TransformEndTime)}
        </span>
        {live && (
          <button className="danger" onClick={() => api.call('sagemaker', 'StopTransformJob', { TransformJobName: name })}>
            Stop
          </button>
        )}
      </div>
      {job.FailureReason && <p className="error">{job.FailureReason}</p>}
      <table>
        <tbody>
          <tr>
            <td>Input</td>
            <td>
              <code>{input.DataSource.S3DataSource.S3Uri}</code> ({input.DataSource.S3DataSource.S3DataType}, {input.ContentType ?? 'no content type'}, split {input.SplitType}, compression {input.CompressionType})
            </td>
          </tr>
          <tr>
            <td>Output</td>
            <td>
              <code>{job.TransformOutput.S3OutputPath}</code> (assemble {job.TransformOutput.AssembleWith}, accept {job.TransformOutput.Accept ?? 'default'})
            </td>
          </tr>
          <tr>
            <td>Batching</td>
            <td>
              {job.BatchStrategy ?? 'MultiRecord'}, {job.MaxPayloadInMB ?? 6} MB payloads, {job.MaxConcurrentTransforms ?? 'default'} concurrent
            </td>
          </tr>
          {job.DataProcessing && (
            <tr>
              <td>Data processing</td>
              <td>
                input {job.DataProcessing.InputFilter}, join {job.DataProcessing.JoinSource}, output {job.DataProcessing.OutputFilter}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <h2>Log</h2>
      <LogView lines={logs.lines} error={logs.error} />
    </>
  );
}
