import { lazy, Suspense, useMemo, useState } from 'react';
import { api } from '../api';
import type { Series } from '../components/LineChart';
import { LogView, useLogTail, type LogLine } from '../components/LogTail';
import { ResourceTable } from '../components/ResourceTable';
import { Status } from '../components/Status';
import { usePoll } from '../components/usePoll';
import { elapsed } from '../components/time';
import { href } from '../router';

const STATUSES = ['', 'InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped'];

// The charting library is loaded only by pages that draw charts.
const LineChart = lazy(() => import('../components/LineChart').then((m) => ({ default: m.LineChart })));

export function TrainingJobs() {
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const [tokens, setTokens] = useState<string[]>([]);
  const token = tokens.at(-1);
  const { data, error } = usePoll(
    () =>
      api.call('sagemaker', 'ListTrainingJobs', {
        SortBy: 'CreationTime',
        SortOrder: 'Descending',
        MaxResults: 50,
        ...(status ? { StatusEquals: status } : {}),
        ...(name ? { NameContains: name } : {}),
        ...(token ? { NextToken: token } : {}),
      }),
    [status, name, token],
    3000,
  );
  return (
    <>
      <h1>Training jobs</h1>
      <div className="toolbar">
        <input placeholder="Name contains" value={name} onChange={(e) => (setName(e.target.value), setTokens([]))} aria-label="name filter" />
        <select value={status} onChange={(e) => (setStatus(e.target.value), setTokens([]))} aria-label="status filter">
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s || 'Any status'}
            </option>
          ))}
        </select>
      </div>
      {error && <p className="error">{error.message}</p>}
      <ResourceTable
        page="training"
        rows={data?.TrainingJobSummaries.map((j: any) => ({ name: j.TrainingJobName, status: j.TrainingJobStatus, created: j.CreationTime, ended: j.TrainingEndTime }))}
        duration
        empty="No training jobs match."
      />
      <div className="toolbar">
        {tokens.length > 0 && <button onClick={() => setTokens(tokens.slice(0, -1))}>Previous</button>}
        {data?.NextToken && <button onClick={() => setTokens([...tokens, data.NextToken])}>Next</button>}
      </div>
    </>
  );
}

/** Per-round metrics from the algorithm's log lines, e.g. "[12]#011train-error:0.04#011validation-error:0.07". */
export function metricSeries(lines: LogLine[]): Series[] {
  const byName = new Map<string, [number, number][]>();
  for (const { message } of lines) {
    const m = /^\[(\d+)\]#011(.*)$/.exec(message);
    if (!m) continue;
    for (const part of m[2]!.split('#011')) {
      const [metric, value] = part.split(':');
      if (!metric || value === undefined || !Number.isFinite(Number(value))) continue;
      if (!byName.has(metric)) byName.set(metric, []);
      byName.get(metric)!.push([Number(m[1]), Number(value)]);
    }
  }
  return [...byName].map(([name, points]) => ({ name, points }));
}

export function TrainingJob({ name }: { name: string }) {
  const running = (d: any) => !d || d.TrainingJobStatus === 'InProgress' || d.TrainingJobStatus === 'Stopping';
  const { data: job, error } = usePoll(() => api.call('sagemaker', 'DescribeTrainingJob', { TrainingJobName: name }), [name], 1500, running);
  const live = running(job);
  const logs = useLogTail('/aws/sagemaker/TrainingJobs', `${name}/`, live);
  const series = useMemo(() => metricSeries(logs.lines), [logs.lines]);
  if (error) return <p className="error">{error.message}</p>;
  if (!job) return <p className="loading">Loading…</p>;
  const stop = () => api.call('sagemaker', 'StopTrainingJob', { TrainingJobName: name });
  return (
    <>
      <h1>
        <a href={href('training')}>Training jobs</a> / {name}
      </h1>
      <div className="summary">
        <Status value={job.TrainingJobStatus} />
        <span>{job.SecondaryStatus}</span>
        <span className="muted">
          {live ? 'running for' : 'took'} {elapsed(job.TrainingStartTime ?? job.CreationTime, job.TrainingEndTime)}
        </span>
        {live && (
          <button className="danger" onClick={stop}>
            Stop
          </button>
        )}
      </div>
      {job.FailureReason && <p className="error">{job.FailureReason}</p>}
      <section className="columns">
        <div>
          <h2>Status</h2>
          <ol className="timeline">
            {job.SecondaryStatusTransitions.map((t: any, i: number) => (
              <li key={i}>
                <strong>{t.Status}</strong> <span className="muted">{elapsed(t.StartTime, t.EndTime ?? (live ? undefined : t.StartTime))}</span>
                <div className="muted">{t.StatusMessage}</div>
              </li>
            ))}
          </ol>
        </div>
        <div>
          <h2>Hyperparameters</h2>
          <table>
            <tbody>
              {Object.entries(job.HyperParameters ?? {}).map(([k, v]) => (
                <tr key={k}>
                  <td>{k}</td>
                  <td>{String(v)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Output</h2>
          <p>
            {job.ModelArtifacts?.S3ModelArtifacts ? <code>{job.ModelArtifacts.S3ModelArtifacts}</code> : <span className="muted">No model yet.</span>}
          </p>
          {job.FinalMetricDataList?.length > 0 && (
            <table>
              <tbody>
                {job.FinalMetricDataList.map((m: any) => (
                  <tr key={m.MetricName}>
                    <td>{m.MetricName}</td>
                    <td>{m.Value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      </section>
      <h2>Metrics</h2>
      {series.length ? (
        <Suspense fallback={<p className="muted">Loading chart…</p>}>
          <LineChart series={series} xName="round" label="metrics chart" />
        </Suspense>
      ) : (
        <p className="muted">No metrics logged yet.</p>
      )}
      <h2>Log</h2>
      <LogView lines={logs.lines} error={logs.error} />
    </>
  );
}
