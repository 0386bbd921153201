import { lazy, Suspense, useEffect, useMemo, useState } from 'react';
import { api } from '../api';
import type { Series } from '../components/LineChart';
import { Status } from '../components/Status';
import { usePoll } from '../components/usePoll';
import { when } from '../components/time';
import { href } from '../router';

const LineChart = lazy(() => import('../components/LineChart').then((m) => ({ default: m.LineChart })));
const BarChart = lazy(() => import('../components/BarChart').then((m) => ({ default: m.BarChart })));

export function Experiments() {
  const { data, error } = usePoll(() => api.call('sagemaker', 'ListExperiments', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 }), [], 5000);
  return (
    <>
      <h1>Experiments</h1>
      {error && <p className="error">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Experiment</th>
            <th>Created</th>
            <th>Last modified</th>
          </tr>
        </thead>
        <tbody>
          {(data?.ExperimentSummaries ?? []).map((e: any) => (
            <tr key={e.ExperimentName}>
              <td>
                <a href={href('experiments', e.ExperimentName)}>{e.DisplayName ?? e.ExperimentName}</a>
              </td>
              <td>{when(e.CreationTime)}</td>
              <td>{when(e.LastModifiedTime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !data.ExperimentSummaries.length && <p className="muted">No experiments. The SageMaker Python SDK's Run, or CreateExperiment, makes one.</p>}
    </>
  );
}

interface Run {
  name: string;
  display: string;
  status?: string;
  parameters: Record<string, string | number>;
  metrics: Record<string, { Last?: number; Min?: number; Max?: number; Avg?: number; Count?: number }>;
  created?: string;
}

function toRun(tc: any): Run {
  const parameters: Run['parameters'] = {};
  for (const [k, v] of Object.entries<any>(tc.Parameters ?? {})) parameters[k] = v.NumberValue ?? v.StringValue;
  const metrics: Run['metrics'] = {};
  for (const m of tc.Metrics ?? []) metrics[m.MetricName] = m;
  return { name: tc.TrialComponentName, display: tc.DisplayName ?? tc.TrialComponentName, status: tc.Status?.PrimaryStatus, parameters, metrics, created: tc.CreationTime };
}

const PAGE = 100;

/** One page of an experiment's runs (Search pages them; the page never holds them all). */
async function runsOf(experiment: string, token: string | undefined): Promise<{ runs: Run[]; next?: string }> {
  const page = await api.call('sagemaker', 'Search', {
    Resource: 'ExperimentTrialComponent',
    SearchExpression: { Filters: [{ Name: 'Parents.ExperimentName', Operator: 'Equals', Value: experiment }] },
    SortBy: 'CreationTime',
    SortOrder: 'Ascending',
    MaxResults: PAGE,
    ...(token ? { NextToken: token } : {}),
  });
  return { runs: page.Results.map((r: any) => toRun(r.TrialComponent)), next: page.NextToken };
}

const STATS = ['Last', 'Min', 'Max', 'Avg'] as const;

export function Experiment({ name }: { name: string }) {
  const [tokens, setTokens] = useState<string[]>([]);
  const token = tokens.at(-1);
  const { data: page, error } = usePoll(() => runsOf(name, token), [name, token], 5000);
  const runs = page?.runs;
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [stat, setStat] = useState<(typeof STATS)[number]>('Last');
  const paramNames = useMemo(() => [...new Set((runs ?? []).flatMap((r) => Object.keys(r.parameters)))].sort(), [runs]);
  const metricNames = useMemo(() => [...new Set((runs ?? []).flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const [shownParams, setShownParams] = useState<string[]>();
  const [metric, setMetric] = useState<string>();
  const params = shownParams ?? paramNames.slice(0, 6);
  const chosenMetric = metric ?? metricNames[0];
  if (error) return <p className="error">{error.message}</p>;
  if (!runs) return <p className="loading">Loading…</p>;
  const selected = runs.filter((r) => picked.has(r.name));
  return (
    <>
      <h1>
        <a href={href('experiments')}>Experiments</a> / {name}
      </h1>
      <div className="toolbar">
        <span className="muted">Parameter columns:</span>
        {paramNames.map((p) => (
          <label key={p}>
            <input type="checkbox" checked={params.includes(p)} onChange={(e) => setShownParams(e.target.checked ? [...params, p] : params.filter((x) => x !== p))} /> {p}
          </label>
        ))}
        <label>
          Metric value{' '}
          <select value={stat} onChange={(e) => setStat(e.target.value as (typeof STATS)[number])} aria-label="metric statistic">
            {STATS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      <table>
        <thead>
          <tr>
            <th />
            <th>Run</th>
            <th>Status</th>
            {params.map((p) => (
              <th key={p}>{p}</th>
            ))}
            {metricNames.map((m) => (
              <th key={m}>{m}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.name}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`compare ${r.display}`}
                  checked={picked.has(r.name)}
                  onChange={(e) => {
                    const next = new Set(picked);
                    if (e.target.checked) next.add(r.name);
                    else next.delete(r.name);
                    setPicked(next);
                  }}
                />
              </td>
              <td title={r.name}>{r.display}</td>
              <td>
                <Status value={r.status} />
              </td>
              {params.map((p) => (
                <td key={p}>{r.parameters[p] ?? '—'}</td>
              ))}
              {metricNames.map((m) => (
                <td key={m}>{r.metrics[m]?.[stat] !== undefined ? Number(r.metrics[m]![stat]).toPrecision(4) : '—'}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {!runs.length && <p className="muted">No runs in this experiment yet.</p>}
      <div className="toolbar">
        {tokens.length > 0 && <button onClick={() => setTokens(tokens.slice(0, -1))}>Previous {PAGE}</button>}
        {page?.next && <button onClick={() => setTokens([...tokens, page.next!])}>Next {PAGE}</button>}
      </div>
      {selected.length > 0 && chosenMetric && (
        <section>
          <h2>Compare {selected.length} run(s)</h2>
          <div className="toolbar">
            <label>
              Metric{' '}
              <select value={chosenMetric} onChange={(e) => setMetric(e.target.value)} aria-label="compare metric">
                {metricNames.map((m) => (
                  <option key={m}>{m}</option>
                ))}
              </select>
            </label>
          </div>
          <Suspense fallback={<p className="muted">Loading chart…</p>}>
            <div className="columns">
              <BarChart labels={selected.map((r) => r.display)} values={selected.map((r) => Number(r.metrics[chosenMetric]?.[stat] ?? NaN))} name={`${chosenMetric} (${stat})`} label="compare bar chart" />
              <SeriesChart runs={selected} metric={chosenMetric} />
            </div>
          </Suspense>
        </section>
      )}
    </>
  );
}

/** Each selected run's full series of one metric, by step (or by time when steps are absent). */
function SeriesChart({ runs, metric }: { runs: Run[]; metric: string }) {
  const [series, setSeries] = useState<Series[]>([]);
  const [error, setError] = useState<string>();
  const key = runs.map((r) => r.name).join('|');
  useEffect(() => {
    let cancelled = false;
    Promise.all(
      runs.map(async (r) => {
        const out = await api.metricSeries(r.name, metric);
        const points = (out.Metrics[0]?.Points ?? []).map((p: any, i: number) => [p.Step ?? i, p.Value] as [number, number]);
        return { name: r.display, points };
      }),
    ).then(
      (s) => !cancelled && (setSeries(s), setError(undefined)),
      (e) => !cancelled && setError((e as Error).message),
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, metric]);
  if (error) return <p className="error">{error}</p>;
  return <LineChart series={series} xName="step" label="compare line chart" height={260} />;
}
