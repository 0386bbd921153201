import { useEffect, useState } from 'react';
import { api, ApiError, type Identity } from './api';
import { href, useRoute } from './router';
import { SignIn } from './pages/SignIn';
import { Home } from './pages/Home';
import { Storage } from './pages/Storage';
import { TrainingJobs, TrainingJob } from './pages/Training';
import { Endpoints, Endpoint } from './pages/Endpoints';
import { Models } from './pages/Models';
import { TransformJobs, TransformJob } from './pages/Transforms';
import { Experiments, Experiment } from './pages/Experiments';
import { Flows, Flow } from './pages/Flows';

const NAV: [string, string][] = [
  ['', 'Home'],
  ['storage', 'Storage'],
  ['training', 'Training jobs'],
  ['experiments', 'Experiments'],
  ['models', 'Models'],
  ['endpoints', 'Endpoints'],
  ['transforms', 'Batch transforms'],
  ['flows', 'Data flows'],
];

function Page({ route }: { route: string[] }) {
  const [section, name, ...rest] = route;
  switch (section) {
    case undefined:
      return <Home />;
    case 'storage':
      return <Storage bucket={name} prefix={rest.join('/')} />;
    case 'training':
      return name ? <TrainingJob name={name} /> : <TrainingJobs />;
    case 'experiments':
      return name ? <Experiment name={name} /> : <Experiments />;
    case 'models':
      return <Models />;
    case 'endpoints':
      return name ? <Endpoint name={name} /> : <Endpoints />;
    case 'flows':
      return name ? <Flow name={name} /> : <Flows />;
    case 'transforms':
      return name ? <TransformJob name={name} /> : <TransformJobs />;
    default:
      return <p className="error">There is no page {section}.</p>;
  }
}

export function App() {
  const route = useRoute();
  const [identity, setIdentity] = useState<Identity | null>();
  useEffect(() => {
    api.whoAmI().then(setIdentity, (e) => (e instanceof ApiError && e.status === 401 ? setIdentity(null) : setIdentity(null)));
  }, []);
  if (identity === undefined) return <div className="loading">Loading…</div>;
  if (identity === null) return <SignIn onSignedIn={setIdentity} />;
  const section = route[0] ?? '';
  return (
    <div className="shell">
      <nav>
        <div className="brand">Kiln Studio</div>
        {NAV.map(([path, label]) => (
          <a key={path} href={href(...(path ? [path] : []))} className={section === path ? 'active' : ''}>
            {label}
          </a>
        ))}
        <div className="who">
          <div title={identity.arn}>{identity.accessKeyId}</div>
          <div>{identity.region}</div>
          <button className="link" onClick={() => api.signOut().finally(() => setIdentity(null))}>
            Sign out
          </button>
        </div>
      </nav>
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}
