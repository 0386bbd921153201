import { api } from '../api';
import { usePoll } from '../components/usePoll';
import { when } from '../components/time';

interface ModelRow {
  name: string;
  created: string;
  image?: string;
  data?: string;
  mode?: string;
}

async function models(): Promise<ModelRow[]> {
  const { Models } = await api.call('sagemaker', 'ListModels', { SortBy: 'CreationTime', SortOrder: 'Descending', MaxResults: 100 });
  return Promise.all(
    Models.map(async (m: any) => {
      const d = await api.call('sagemaker', 'DescribeModel', { ModelName: m.ModelName });
      const c = d.PrimaryContainer ?? d.Containers?.[0] ?? {};
      return { name: m.ModelName, created: m.CreationTime, image: c.Image, data: c.ModelDataUrl, mode: c.Mode };
    }),
  );
}

export function Models() {
  const { data, error } = usePoll(models, [], 10_000);
  return (
    <>
      <h1>Models</h1>
      {error && <p className="error">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Image</th>
            <th>Model data</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {(data ?? []).map((m) => (
            <tr key={m.name}>
              <td>{m.name}</td>
              <td>
                <code>{m.image}</code>
              </td>
              <td>
                <code>{m.data}</code> {m.mode === 'MultiModel' && <span className="muted">(multi-model)</span>}
              </td>
              <td>{when(m.created)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !data.length && <p className="muted">No models. CreateModel registers one from a model.tar.gz.</p>}
    </>
  );
}
