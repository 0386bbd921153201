import { useState, type FormEvent } from 'react';
import { api, type Identity } from '../api';

export function SignIn({ onSignedIn }: { onSignedIn(identity: Identity): void }) {
  const [id, setId] = useState('');
  const [secret, setSecret] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await api.signIn(id, secret));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="signin" onSubmit={submit}>
      <h1>Kiln Studio</h1>
      <p>Sign in with an access key pair (<code>npm run kiln credentials</code> prints the root pair).</p>
      <label>
        Access key ID
        <input name="accessKeyId" value={id} onChange={(e) => setId(e.target.value)} autoComplete="username" required />
      </label>
      <label>
        Secret access key
        <input name="secretAccessKey" type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="current-password" required />
      </label>
      {error && <p className="error">{error}</p>}
      <button type="submit" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
