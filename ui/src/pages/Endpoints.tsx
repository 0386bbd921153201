import { useState } from 'react';
import { api } from '../api';
import { ResourceTable } from '../components/ResourceTable';
import { Status } from '../components/Status';
import { usePoll } from '../components/usePoll';
import { href } from '../router';

export function Endpoints() {
  const { data, error } = usePoll(() => api.call('sagemaker', 'ListEndpoints', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 }), [], 3000);
  return (
    <>
      <h1>Endpoints</h1>
      {error && <p className="error">{error.message}</p>}
      <ResourceTable
        page="endpoints"
        rows={data?.Endpoints.map((e: any) => ({ name: e.EndpointName, status: e.EndpointStatus, created: e.CreationTime }))}
        empty="No endpoints. Deploy a model with CreateEndpoint."
      />
    </>
  );
}

const CONTENT_TYPES = ['text/csv', 'application/json', 'application/jsonlines', 'text/libsvm'];
const ACCEPTS = ['text/csv', 'application/json', 'application/jsonlines'];

function InvokePanel({ endpoint, variants }: { endpoint: string; variants: string[] }) {
  const [body, setBody] = useState('');
  const [contentType, setContentType] = useState('text/csv');
  const [accept, setAccept] = useState('text/csv');
  const [target, setTarget] = useState('');
  const [result, setResult] = useState<{ ok: boolean; text: string; meta?: string }>();
  const [busy, setBusy] = useState(false);
  const invoke = async () => {
    setBusy(true);
    const started = performance.now();
    try {
      const out = await api.call('sagemaker-runtime', 'InvokeEndpoint', { EndpointName: endpoint, Body: body, ContentType: contentType, Accept: accept, ...(target ? { TargetVariant: target } : {}) });
      setResult({ ok: true, text: out.Body, meta: `${out.InvokedProductionVariant} · ${out.ContentType} · ${Math.round(performance.now() - started)} ms` });
    } catch (e) {
      setResult({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="invoke">
      <h2>Invoke</h2>
      <div className="toolbar">
        <label>
          Content type{' '}
          <select value={contentType} onChange={(e) => setContentType(e.target.value)} aria-label="content type">
            {CONTENT_TYPES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Accept{' '}
          <select value={accept} onChange={(e) => setAccept(e.target.value)} aria-label="accept">
            {ACCEPTS.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        {variants.length > 1 && (
          <label>
            Variant{' '}
            <select value={target} onChange={(e) => setTarget(e.target.value)} aria-label="target variant">
              <option value="">by weight</option>
              {variants.map((v) => (
                <option key={v}>{v}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      <textarea
        aria-label="request body"
        rows={6}
        value={body}
        onChange={(e) => setBody(e.target.value)}
        placeholder={contentType === 'application/json' ? '{"instances": [{"features": [1, 2, 3]}]}' : 'one CSV row per line, features only'}
        spellCheck={false}
      />
      <button onClick={invoke} disabled={busy || !body.trim()}>
        {busy ? 'Invoking…' : 'Invoke'}
      </button>
      {result && (
        <div className={result.ok ? 'response' : 'error'}>
          {result.meta && <div className="muted">{result.meta}</div>}
          <pre aria-label="response">{result.text}</pre>
        </div>
      )}
    </section>
  );
}

export function Endpoint({ name }: { name: string }) {
  const busy = (d: any) => !d || ['Creating', 'Updating', 'Deleting', 'SystemUpdating', 'RollingBack'].includes(d.EndpointStatus);
  const { data: ep, error } = usePoll(() => api.call('sagemaker', 'DescribeEndpoint', { EndpointName: name }), [name], 1000, busy);
  const { data: counts } = usePoll(() => api.invocations(name), [name], 2000);
  if (error) return <p className="error">{error.message}</p>;
  if (!ep) return <p className="loading">Loading…</p>;
  const remove = async () => {
    if (window.confirm(`Delete endpoint ${name}?`)) await api.call('sagemaker', 'DeleteEndpoint', { EndpointName: name }).then(() => (window.location.hash = href('endpoints')));
  };
  return (
    <>
      <h1>
        <a href={href('endpoints')}>Endpoints</a> / {name}
      </h1>
      <div className="summary">
        <Status value={ep.EndpointStatus} />
        <span className="muted">config {ep.EndpointConfigName}</span>
        <button className="danger" onClick={remove}>
          Delete
        </button>
      </div>
      {ep.FailureReason && <p className="error">{ep.FailureReason}</p>}
      <h2>Variants</h2>
      <table>
        <thead>
          <tr>
            <th>Variant</th>
            <th>Weight</th>
            <th>Instances</th>
            <th>Serverless</th>
            <th>Invocations</th>
            <th>4xx / 5xx errors</th>
          </tr>
        </thead>
        <tbody>
          {(ep.ProductionVariants ?? []).map((v: any) => (
            <tr key={v.VariantName}>
              <td>{v.VariantName}</td>
              <td>{v.CurrentWeight}</td>
              <td>{v.CurrentInstanceCount ?? '—'}</td>
              <td>{v.CurrentServerlessConfig ? `${v.CurrentServerlessConfig.MemorySizeInMB} MB, ${v.CurrentServerlessConfig.MaxConcurrency} concurrent` : '—'}</td>
              <td aria-label={`invocations of ${v.VariantName}`}>{counts?.Variants?.[v.VariantName]?.Invocations ?? 0}</td>
              <td>
                {counts?.Variants?.[v.VariantName]?.Invocation4XXErrors ?? 0} / {counts?.Variants?.[v.VariantName]?.Invocation5XXErrors ?? 0}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Counts since the Kiln server started.</p>
      {ep.EndpointStatus === 'InService' && <InvokePanel endpoint={name} variants={(ep.ProductionVariants ?? []).map((v: any) => v.VariantName)} />}
    </>
  );
}
