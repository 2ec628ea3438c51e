// main.jsx — the dashboard (M08): header with community, node and state pill, the §5.7
// banner, the live topology, the tabs; the first-run wizard when the node has no
// community (§8.5 → M13); /mobile: Ask, Chat, Marketplace and the banner for a phone.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { startLive } from './live.js';
import { Onboarding, SettingsTab } from './settings.jsx';
import { getState, setState, toast, useStore } from './store.js';
import { AskTab } from './ask.jsx';
import { ChatTab } from './chat.jsx';
import { EmergencyTab } from './emergency.jsx';
import { FilesTab } from './files.jsx';
import { MarketTab } from './market.jsx';
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

const tabFromHash = () => location.hash.replace(/^#/, '').split('?')[0];

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
  const theme = useStore((s) => s.theme);
  const topology = useStore((s) => s.topology);
  const offline = !!(topology && topology.online_state && topology.online_state.state && topology.online_state.state !== 'online');
  // M08 §4: Notfall is listed only while the node is not online.
  const tabs = (mobile ? MOBILE_TABS : TABS).filter(([id]) => id !== 'emergency' || offline);
  const [wanted, setWanted] = useState(tabFromHash());
  const tab = tabs.some(([id]) => id === wanted) ? wanted : tabs[0][0];
  useEffect(() => {
    const on = () => setWanted(tabFromHash());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  // M08 §7: the emergency look is Spark.
  useEffect(() => { document.documentElement.dataset.theme = offline ? 'spark' : theme; }, [theme, offline]);
  // go('chat') or go('chat?peer=…'): the tab, and what it should open.
  const go = (target) => { location.hash = target; setWanted(target.split('?')[0]); };
  const Current = tabs.find(([id]) => id === tab)[2];
  return (
    <div class={`app ${mobile ? 'mobile' : ''}`}>
      <Header mobile={mobile} />
      {!mobile && <Topology />}
      <nav class="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button key={id} role="tab" aria-selected={tab === id} class={`${tab === id ? 'active' : ''} ${id === 'emergency' ? 'alert' : ''}`}
            onClick={() => go(id)} data-tab={id}>{label}</button>
        ))}
      </nav>
      {/* The tab renders before the first topology push (its box is there at once, M08 §8.3's
          spinner until the mesh is known): the push only enables what the mesh offers. */}
      <main class="tab-body"><Current go={go} compact={mobile} /></main>
      <Toasts />
    </div>
  );
}

// What the server put into index.html for the first paint (src/ui/server.cpp boot_page):
// the mode and the newest topology it knows — the Ask box is drawn, and enabled when the
// mesh has a model, before any round trip. Absent (a cached shell): ask /api/session.
function bootData() {
  try {
    const el = document.getElementById('hn-boot');
    return el ? JSON.parse(el.textContent) : null;
  } catch { return null; }
}

function App() {
  const boot = bootData();
  const [session, setSession] = useState(boot && boot.mode ? { mode: boot.mode } : null);
  const mobile = location.pathname.startsWith('/mobile');
  useEffect(() => {
    if (boot && boot.mode === 'setup') return;
    // The push channel opens at once, beside the session check (one round trip less
    // before the first topology); a node in setup mode refuses it and it is closed.
    const live = startLive();
    if (boot && boot.mode === 'node') return;
    api('/api/session').then((s) => {
      performance.mark('hn-session');  // ui_bench.mjs reads it
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
const initial = bootData();
if (initial && initial.topology) performance.mark('hn-boot-topology');  // ui_bench.mjs reads it
setState(initial && initial.topology ? { topology: initial.topology, connected: true } : {});
// index.html's placeholder goes: Preact renders beside what it did not create.
const root = document.getElementById('app');
root.textContent = '';
render(<App />, root);
