import { useRef, useState } from 'react';
import { api } from '../api';
import { usePoll } from '../components/usePoll';
import { bytes, when } from '../components/time';
import { href } from '../router';

function Buckets() {
  const { data, error, refresh } = usePoll(() => api.call('s3', 'ListBuckets'), [], 10_000);
  const [name, setName] = useState('');
  const [problem, setProblem] = useState<string>();
  const create = async () => {
    setProblem(undefined);
    try {
      await api.call('s3', 'CreateBucket', { Bucket: name });
      setName('');
      void refresh();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  return (
    <>
      <h1>Storage</h1>
      <div className="toolbar">
        <input placeholder="new-bucket-name" value={name} onChange={(e) => setName(e.target.value)} aria-label="bucket name" />
        <button onClick={create} disabled={!name}>
          Create bucket
        </button>
      </div>
      {(problem || error) && <p className="error">{problem ?? error?.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Bucket</th>
            <th>Created</th>
          </tr>
        </thead>
        <tbody>
          {(data?.Buckets ?? []).map((b: any) => (
            <tr key={b.Name}>
              <td>
                <a href={href('storage', b.Name)}>{b.Name}</a>
              </td>
              <td>{when(b.CreationDate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !data.Buckets.length && <p className="muted">No buckets yet.</p>}
    </>
  );
}

function Objects({ bucket, prefix }: { bucket: string; prefix: string }) {
  const folder = prefix ? `${prefix.replace(/\/?$/, '/')}` : '';
  const [token, setToken] = useState<string>();
  const { data, error, refresh } = usePoll(
    () => api.call('s3', 'ListObjectsV2', { Bucket: bucket, Prefix: folder, Delimiter: '/', MaxKeys: 200, ...(token ? { ContinuationToken: token } : {}) }),
    [bucket, folder, token],
    10_000,
  );
  const input = useRef<HTMLInputElement>(null);
  const [status, setStatus] = useState<string>();
  const upload = async (files: FileList | null) => {
    if (!files?.length) return;
    try {
      for (const [i, file] of [...files].entries()) {
        setStatus(`Uploading ${file.name} (${i + 1} of ${files.length}, ${bytes(file.size)})…`);
        await api.upload(bucket, folder + file.name, file);
      }
      setStatus(`Uploaded ${files.length} file(s).`);
    } catch (e) {
      setStatus(`Upload failed: ${(e as Error).message}`);
    }
    if (input.current) input.current.value = '';
    void refresh();
  };
  const remove = async (key: string) => {
    if (!window.confirm(`Delete s3://${bucket}/${key}?`)) return;
    await api.call('s3', 'DeleteObject', { Bucket: bucket, Key: key }).catch((e) => setStatus(e.message));
    void refresh();
  };
  const parts = folder.split('/').filter(Boolean);
  return (
    <>
      <h1>
        <a href={href('storage')}>Storage</a> / <a href={href('storage', bucket)}>{bucket}</a>
        {parts.map((p, i) => (
          <span key={i}>
            {' / '}
            <a href={href('storage', bucket, ...parts.slice(0, i + 1))}>{p}</a>
          </span>
        ))}
      </h1>
      <div className="toolbar">
        <label className="button">
          Upload files
          <input ref={input} type="file" multiple hidden onChange={(e) => upload(e.target.files)} aria-label="upload files" />
        </label>
        {status && <span className="notice">{status}</span>}
      </div>
      {error && <p className="error">{error.message}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Size</th>
            <th>Last modified</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(data?.CommonPrefixes ?? []).map((p: any) => (
            <tr key={p.Prefix}>
              <td>
                <a href={href('storage', bucket, ...p.Prefix.split('/').filter(Boolean))}>{p.Prefix.slice(folder.length)}</a>
              </td>
              <td colSpan={3} className="muted">
                folder
              </td>
            </tr>
          ))}
          {(data?.Contents ?? []).map((o: any) => (
            <tr key={o.Key}>
              <td>
                <a href={api.objectUrl(bucket, o.Key)} download>
                  {o.Key.slice(folder.length)}
                </a>
              </td>
              <td>{bytes(o.Size)}</td>
              <td>{when(o.LastModified)}</td>
              <td>
                <button className="link danger" onClick={() => remove(o.Key)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !data.KeyCount && <p className="muted">This folder is empty.</p>}
      {data?.IsTruncated && <button onClick={() => setToken(data.NextContinuationToken)}>Next page</button>}
    </>
  );
}

export function Storage({ bucket, prefix }: { bucket?: string; prefix: string }) {
  return bucket ? <Objects bucket={bucket} prefix={prefix} /> : <Buckets />;
}
