import { useState } from 'react';
import { api } from '../api';
import { usePoll } from '../components/usePoll';
import { Status } from '../components/Status';
import { elapsed, when } from '../components/time';
import { href } from '../router';

interface Overview {
  training: any[];
  processing: any[];
  transforms: any[];
  endpoints: any[];
}

async function overview(): Promise<Overview> {
  const [t, p, b, e] = await Promise.all([
    api.call('sagemaker', 'ListTrainingJobs', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 20 }),
    api.call('sagemaker', 'ListProcessingJobs', { StatusEquals: 'InProgress', MaxResults: 100 }),
    api.call('sagemaker', 'ListTransformJobs', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 20 }),
    api.call('sagemaker', 'ListEndpoints', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 }),
  ]);
  return { training: t.TrainingJobSummaries, processing: p.ProcessingJobSummaries, transforms: b.TransformJobSummaries, endpoints: e.Endpoints };
}

interface Billable {
  kind: 'Training job' | 'Processing job' | 'Transform job' | 'Endpoint';
  name: string;
  status: string;
  since: string;
  link: string;
}

function billable(o: Overview): Billable[] {
  return [
    ...o.training.filter((j) => j.TrainingJobStatus === 'InProgress').map((j) => ({ kind: 'Training job' as const, name: j.TrainingJobName, status: j.TrainingJobStatus, since: j.CreationTime, link: href('training', j.TrainingJobName) })),
    ...o.processing.map((j) => ({ kind: 'Processing job' as const, name: j.ProcessingJobName, status: j.ProcessingJobStatus, since: j.CreationTime, link: '' })),
    ...o.transforms.filter((j) => j.TransformJobStatus === 'InProgress').map((j) => ({ kind: 'Transform job' as const, name: j.TransformJobName, status: j.TransformJobStatus, since: j.CreationTime, link: href('transforms', j.TransformJobName) })),
    ...o.endpoints.filter((e) => e.EndpointStatus !== 'Deleting').map((e) => ({ kind: 'Endpoint' as const, name: e.EndpointName, status: e.EndpointStatus, since: e.CreationTime, link: href('endpoints', e.EndpointName) })),
  ];
}

async function cleanUp(item: Billable): Promise<void> {
  if (item.kind === 'Training job') await api.call('sagemaker', 'StopTrainingJob', { TrainingJobName: item.name });
  else if (item.kind === 'Processing job') await api.call('sagemaker', 'StopProcessingJob', { ProcessingJobName: item.name });
  else if (item.kind === 'Transform job') await api.call('sagemaker', 'StopTransformJob', { TransformJobName: item.name });
  else await api.call('sagemaker', 'DeleteEndpoint', { EndpointName: item.name });
}

export function Home() {
  const { data, error, refresh } = usePoll(overview, [], 3000);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string>();
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p className="loading">Loading…</p>;
  const items = billable(data);
  const key = (b: Billable) => `${b.kind}:${b.name}`;
  const act = async () => {
    const chosen = items.filter((i) => picked.has(key(i)));
    if (!chosen.length || !window.confirm(`Stop or delete ${chosen.length} resource(s)?`)) return;
    const results = await Promise.allSettled(chosen.map(cleanUp));
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    setMessage(failed.length ? `Failed: ${failed.map((f) => f.reason.message).join('; ')}` : `Done: ${chosen.length} resource(s) stopped or deleted.`);
    setPicked(new Set());
    void refresh();
  };
  return (
    <>
      <h1>Home</h1>
      <section>
        <h2>Running and billable</h2>
        {items.length === 0 ? (
          <p className="muted">Nothing is running. Training jobs, transform jobs and endpoints you start appear here.</p>
        ) : (
          <>
            <table>
              <thead>
                <tr>
                  <th />
                  <th>Kind</th>
                  <th>Name</th>
                  <th>Status</th>
                  <th>Running for</th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => (
                  <tr key={key(i)}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`select ${i.name}`}
                        checked={picked.has(key(i))}
                        onChange={(e) => {
                          const next = new Set(picked);
                          if (e.target.checked) next.add(key(i));
                          else next.delete(key(i));
                          setPicked(next);
                        }}
                      />
                    </td>
                    <td>{i.kind}</td>
                    <td>{i.link ? <a href={i.link}>{i.name}</a> : i.name}</td>
                    <td>
                      <Status value={i.status} />
                    </td>
                    <td>{elapsed(i.since)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <button onClick={act} disabled={!picked.size}>
              Stop or delete selected
            </button>
          </>
        )}
        {message && <p className="notice">{message}</p>}
      </section>
      <section className="columns">
        <div>
          <h2>Recent training jobs</h2>
          <ul className="plain">
            {data.training.slice(0, 8).map((j) => (
              <li key={j.TrainingJobName}>
                <a href={href('training', j.TrainingJobName)}>{j.TrainingJobName}</a> <Status value={j.TrainingJobStatus} /> <span className="muted">{when(j.CreationTime)}</span>
              </li>
            ))}
            {!data.training.length && <li className="muted">None yet.</li>}
          </ul>
        </div>
        <div>
          <h2>Endpoints</h2>
          <ul className="plain">
            {data.endpoints.slice(0, 8).map((e) => (
              <li key={e.EndpointName}>
                <a href={href('endpoints', e.EndpointName)}>{e.EndpointName}</a> <Status value={e.EndpointStatus} />
              </li>
            ))}
            {!data.endpoints.length && <li className="muted">None yet.</li>}
          </ul>
        </div>
      </section>
    </>
  );
}
