// main.jsx — the dashboard (M08): header with community, node and state pill, the §5.7
// banner, the live topology, the tabs; the first-run wizard when the node has no
// community (§8.5 → M13); /mobile: Ask, Chat, Marketplace and the banner for a phone.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { startLive } from './live.js';
import { Onboarding, SettingsTab } from './settings.jsx';
import { getState, setState, toast, useStore } from './store.js';
import { AskTab, ChatTab, EmergencyTab, FilesTab, MarketTab } from './tabs.jsx';
import { Topology } from './topology.jsx';
import { Banner, StatePill, Toasts } from './ui.jsx';

const TABS = [
  ['ask', 'Fragen', AskTab],
  ['chat', 'Chat', ChatTab],
  ['market', 'Marktplatz', MarketTab],
  ['files', 'Dateien', FilesTab],
  ['emergency', 'Notfall', EmergencyTab],
  ['settings', 'Einstellungen', SettingsTab],
];
const MOBILE_TABS = TABS.filter(([id]) => ['ask', 'chat', 'market'].includes(id));

const tabFromHash = (tabs) => {
  const id = location.hash.replace(/^#/, '').split('?')[0];
  return tabs.some(([t]) => t === id) ? id : tabs[0][0];
};

function Header({ mobile }) {
  const topology = useStore((s) => s.topology);
  const connected = useStore((s) => s.connected);
  const node = (topology && topology.node) || {};
  const community = (topology && topology.community) || {};
  const online = topology && topology.online_state;
  const peers = ((topology && topology.peers) || []).length;
  return (
    <>
      <header class="top">
        <div class="brand"><img src="/icon.svg" alt="" width="28" height="28" /><span>HearthNet</span></div>
        <div class="who">
          <strong data-testid="community-name-header">{community.name || '…'}</strong>
          {!mobile && <span class="muted"> · {node.display_name} <code>{node.short_id}</code></span>}
        </div>
        <StatePill state={connected ? (online && online.state) : 'offline'} />
      </header>
      {!connected && topology && <div class="banner banner-degraded">Verbindung zum Knoten unterbrochen — wird wiederhergestellt …</div>}
      <Banner online={online} peers={peers} />
    </>
  );
}

function Dashboard({ mobile }) {
  const tabs = mobile ? MOBILE_TABS : TABS;
  const [tab, setTab] = useState(tabFromHash(tabs));
  const theme = useStore((s) => s.theme);
  const topology = useStore((s) => s.topology);
  const offline = topology && topology.online_state && topology.online_state.state !== 'online';
  useEffect(() => {
    const on = () => setTab(tabFromHash(tabs));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  // M08 §7: the emergency look is Spark.
  useEffect(() => { document.documentElement.dataset.theme = offline ? 'spark' : theme; }, [theme, offline]);
  const go = (id) => { location.hash = id; setTab(id); };
  const Current = tabs.find(([id]) => id === tab)[2];
  return (
    <div class={`app ${mobile ? 'mobile' : ''}`}>
      <Header mobile={mobile} />
      {!mobile && <Topology />}
      <nav class="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button key={id} role="tab" aria-selected={tab === id} class={`${tab === id ? 'active' : ''} ${id === 'emergency' && offline ? 'alert' : ''}`}
            onClick={() => go(id)} data-tab={id}>{label}</button>
        ))}
      </nav>
      <main class="tab-body">{topology ? <Current go={go} compact={mobile} /> : <p class="muted">Verbinde mit dem Knoten …</p>}</main>
      <Toasts />
    </div>
  );
}

function App() {
  const [session, setSession] = useState(null);
  const mobile = location.pathname.startsWith('/mobile');
  useEffect(() => {
    // The push channel opens at once, beside the session check (one round trip less
    // before the first topology); a node in setup mode refuses it and it is closed.
    const live = startLive();
    api('/api/session').then((s) => {
      setSession(s);
      if (s.mode !== 'node') live.close();
    }).catch((e) => { live.close(); toast(e); setSession({ mode: 'error' }); });
  }, []);
  useEffect(() => { document.documentElement.dataset.theme = getState().theme; }, []);
  if (!session) return <p class="boot">HearthNet …</p>;
  if (session.mode === 'setup') return <><Onboarding /><Toasts /></>;
  if (session.mode === 'error') return <Toasts />;
  return <Dashboard mobile={mobile} />;
}

if ('serviceWorker' in navigator && location.pathname.startsWith('/mobile')) {
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {});
}
setState({});
render(<App />, document.getElementById('app'));
