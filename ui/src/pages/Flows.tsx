import { lazy, Suspense, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api';
import { Status } from '../components/Status';
import { usePoll } from '../components/usePoll';
import { when } from '../components/time';
import { href } from '../router';
import { drawable, type VegaLiteSpec } from '../components/vega-lite-spec';

const VegaLiteChart = lazy(() => import('../components/VegaLiteChart').then((m) => ({ default: m.VegaLiteChart })));

interface FlowNode {
  id: string;
  type: 'source' | 'transform' | 'analysis' | 'destination';
  operator: string;
  inputs?: string[];
  parameters?: Record<string, unknown>;
}

export function Flows() {
  const { data, error } = usePoll(() => api.flows<{ flows: any[] }>('GET', 'flows'), [], 10_000);
  return (
    <>
      <h1>Data flows</h1>
      <p className="muted">Flows are built through the REST API, the CLI (<code>kiln flow</code>) or here, node by node.</p>
      {error && <p className="error">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Flow</th>
            <th>Nodes</th>
            <th>Revision</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {(data?.flows ?? []).map((f) => (
            <tr key={f.name}>
              <td>
                <a href={href('flows', f.name)}>{f.name}</a>
              </td>
              <td>{f.nodes}</td>
              <td>{f.revision}</td>
              <td>{when(f.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !data.flows.length && <p className="muted">No flows yet.</p>}
    </>
  );
}

/** Nodes in columns by depth: sources first, each node one column right of its deepest input. */
function layers(nodes: FlowNode[]): FlowNode[][] {
  const depth = new Map<string, number>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const depthOf = (id: string, seen = new Set<string>()): number => {
    if (depth.has(id)) return depth.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const n = byId.get(id);
    const d = n?.inputs?.length ? 1 + Math.max(...n.inputs.map((i) => depthOf(i.split('.')[0]!, seen))) : 0;
    depth.set(id, d);
    return d;
  };
  const out: FlowNode[][] = [];
  for (const n of nodes) (out[depthOf(n.id)] ??= []).push(n);
  return out.filter(Boolean);
}

function Preview({ flow, node }: { flow: string; node: string }) {
  const { data, error } = usePoll(() => api.flows('POST', `flows/${encodeURIComponent(flow)}/preview`, { node, limit: 20 }), [flow, node], 0, () => false);
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p className="loading">Running the flow up to {node}…</p>;
  const columns: { name: string; type: string }[] = data.columns;
  return (
    <>
      <p className="muted">
        {data.rowCount} rows × {columns.length} columns after <strong>{node}</strong>; the first {data.rows.length}:
      </p>
      <div className="scroll">
        <table aria-label="preview">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.name} title={c.type}>
                  {c.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r: any[] | Record<string, unknown>, i: number) => (
              <tr key={i}>
                {columns.map((c, j) => {
                  const v = Array.isArray(r) ? r[j] : r[c.name];
                  return <td key={c.name}>{v === null || v === undefined ? <span className="muted">null</span> : typeof v === 'object' ? JSON.stringify(v) : String(v)}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

function Analysis({ flow, node }: { flow: string; node: string }) {
  const { data, error } = usePoll(() => api.flows('POST', `flows/${encodeURIComponent(flow)}/analyses/${encodeURIComponent(node)}`, {}), [flow, node], 0, () => false);
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p className="loading">Analysing…</p>;
  const charts: VegaLiteSpec[] = (Array.isArray(data.chart) ? data.chart : [data.chart]).filter(Boolean);
  return (
    <>
      <Suspense fallback={<p className="muted">Loading chart…</p>}>
        {charts.filter(drawable).map((spec, i) => (
          <VegaLiteChart key={i} spec={spec} label={`${data.operator} chart`} />
        ))}
      </Suspense>
      <details>
        <summary>Data</summary>
        <pre className="log">{JSON.stringify(data.data, null, 2).slice(0, 20_000)}</pre>
      </details>
    </>
  );
}

function AddNode({ flow, nodes, revision, onAdded }: { flow: string; nodes: FlowNode[]; revision: number; onAdded(): void }) {
  const { data: operators } = usePoll(() => api.flows<Record<string, string[]>>('GET', 'flows/operators'), [], 0, () => false);
  const [type, setType] = useState<FlowNode['type']>('transform');
  const [operator, setOperator] = useState('');
  const [id, setId] = useState('');
  const [input, setInput] = useState('');
  const [parameters, setParameters] = useState('{}');
  const [problem, setProblem] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setProblem(undefined);
    let params: unknown;
    try {
      params = JSON.parse(parameters);
    } catch {
      setProblem('Parameters must be a JSON object.');
      return;
    }
    try {
      const op = operator || operators?.[type]?.[0];
      await api.flows('POST', `flows/${encodeURIComponent(flow)}/nodes`, { revision, node: { id, type, operator: op, inputs: type === 'source' ? [] : [input || nodes.at(-1)?.id], parameters: params } });
      setId('');
      onAdded();
    } catch (err) {
      setProblem((err as Error).message);
    }
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="add a node">
      <h2>Add a node</h2>
      <label>
        Kind
        <select value={type} onChange={(e) => (setType(e.target.value as FlowNode['type']), setOperator(''))} aria-label="node kind">
          {['transform', 'analysis', 'destination', 'source'].map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </label>
      <label>
        Operator
        <select value={operator || operators?.[type]?.[0] || ''} onChange={(e) => setOperator(e.target.value)} aria-label="operator">
          {(operators?.[type] ?? []).map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      </label>
      <label>
        Node id
        <input value={id} onChange={(e) => setId(e.target.value)} required pattern="[A-Za-z][A-Za-z0-9_-]*" aria-label="node id" />
      </label>
      {type !== 'source' && (
        <label>
          Input
          <select value={input || nodes.at(-1)?.id || ''} onChange={(e) => setInput(e.target.value)} aria-label="input node">
            {nodes.filter((n) => n.type === 'source' || n.type === 'transform').map((n) => (
              <option key={n.id}>{n.id}</option>
            ))}
          </select>
        </label>
      )}
      <label>
        Parameters (JSON, as Data Wrangler names them)
        <textarea rows={4} value={parameters} onChange={(e) => setParameters(e.target.value)} spellCheck={false} aria-label="parameters" />
      </label>
      {problem && <p className="error">{problem}</p>}
      <button type="submit">Add node</button>
    </form>
  );
}

export function Flow({ name }: { name: string }) {
  const { data, error, refresh } = usePoll(() => api.flows('GET', `flows/${encodeURIComponent(name)}`), [name], 0, () => false);
  const runs = usePoll(() => api.flows('GET', `flows/${encodeURIComponent(name)}/runs`), [name], 2000, (d: any) => !!d?.runs?.some((r: any) => r.status === 'InProgress'));
  const [selected, setSelected] = useState<string>();
  const nodes: FlowNode[] = data?.flow?.nodes ?? [];
  const columns = useMemo(() => layers(nodes), [nodes]);
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p className="loading">Loading…</p>;
  const chosen = nodes.find((n) => n.id === selected);
  const start = async () => {
    await api.flows('POST', `flows/${encodeURIComponent(name)}/runs`, {});
    void runs.refresh();
  };
  return (
    <>
      <h1>
        <a href={href('flows')}>Data flows</a> / {name}
      </h1>
      <div className="summary">
        <span className="muted">revision {data.revision}</span>
        <a className="button" href={`/_kiln/console/flows-api/flows/${encodeURIComponent(name)}/file`} download>
          Download .flow
        </a>
        <button onClick={start}>Run flow</button>
      </div>
      <div className="dag" aria-label="flow graph">
        {columns.map((layer, i) => (
          <div className="layer" key={i}>
            {layer.map((n) => (
              <button key={n.id} className={`node ${selected === n.id ? 'selected' : ''}`} onClick={() => setSelected(n.id)} aria-label={`node ${n.id}`}>
                <div className="kind">{n.type}</div>
                <div>
                  <strong>{n.id}</strong>
                </div>
                <div className="muted">{n.operator}</div>
                {n.inputs?.length ? <div className="from">← {n.inputs.join(', ')}</div> : null}
              </button>
            ))}
          </div>
        ))}
      </div>
      {chosen && (
        <section>
          <h2>
            {chosen.id} <span className="muted">({chosen.type}: {chosen.operator})</span>
          </h2>
          {chosen.type === 'analysis' ? <Analysis flow={name} node={chosen.id} /> : chosen.type === 'destination' ? <pre className="log">{JSON.stringify(chosen.parameters, null, 2)}</pre> : <Preview flow={name} node={chosen.id} />}
        </section>
      )}
      <section className="columns">
        <AddNode flow={name} nodes={nodes} revision={data.revision} onAdded={() => void refresh()} />
        <div>
          <h2>Runs</h2>
          <table>
            <tbody>
              {(runs.data?.runs ?? []).map((r: any) => (
                <tr key={r.runId}>
                  <td>
                    <code>{r.runId}</code>
                  </td>
                  <td>
                    <Status value={r.status} />
                  </td>
                  <td>{when(r.createdAt ?? r.startedAt)}</td>
                  <td className="error">{r.failureReason}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {runs.data && !runs.data.runs.length && <p className="muted">Not run yet.</p>}
        </div>
      </section>
    </>
  );
}
