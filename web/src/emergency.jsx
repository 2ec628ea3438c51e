// emergency.jsx — the Notfall tab (M08 §5.6, M09), listed while the node is not online:
// big buttons, the neighbours with when each was last seen, how far behind the event log
// may be (the last sync round that reached a peer, events still waiting to be pushed), a
// chat shortcut per neighbour. The page switches to the Spark theme meanwhile (main.jsx).
import { useEffect, useState } from 'preact/hooks';
import { useStore } from './store.js';
import { nodesOf } from './topology.jsx';

// M08 §5.6: "Was tun?" opens the most relevant corpus.
export const EMERGENCY_CORPUS = 'niederrhein-emergency';

// "vor 12 s", "vor 3 min", "vor 2 h".
export function ago(iso, now = Date.now()) {
  if (!iso) return 'nie';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `vor ${s} s`;
  if (s < 3600) return `vor ${Math.round(s / 60)} min`;
  return `vor ${Math.round(s / 3600)} h`;
}

export function EmergencyTab({ go }) {
  const topology = useStore((s) => s.topology);
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), 5000); return () => clearInterval(t); }, []);
  if (!topology) return <section class="tab emergency"><p class="muted">Verbinde …</p></section>;
  const online = topology.online_state || {};
  const peers = nodesOf(topology).filter((n) => !n.self);
  const reachable = peers.filter((p) => p.state === 'online').length;
  const sync = topology.sync || {};
  const push = sync.push || {};
  const log = topology.event_log || {};
  return (
    <section class="tab emergency" data-testid="emergency-tab">
      {online.state === 'online' && <p class="ok-note">Alles in Ordnung — die Verbindung nach draußen steht.</p>}
      <div class="big-buttons">
        <button class="big" onClick={() => go(`ask?corpus=${EMERGENCY_CORPUS}`)} data-testid="emergency-ask">Was tun?</button>
        <button class="big" onClick={() => go('chat')} data-testid="emergency-chat">Nachbar*innen schreiben</button>
        <button class="big" onClick={() => go('market')} data-testid="emergency-market">Hilfe anbieten / suchen</button>
      </div>
      <h3>Nachbar*innen · {reachable} von {peers.length} erreichbar</h3>
      <ul class="neighbours" data-testid="neighbours">
        {peers.map((p) => (
          <li key={p.id} class={`node-${p.state}`} data-testid="neighbour">
            <span class={`dot dot-${p.state}`} /> <strong>{p.name}</strong>
            <span class="last-seen" data-testid="last-seen">zuletzt gesehen {ago(p.peer.last_seen, now)}</span>
            <button onClick={() => go(`chat?peer=${encodeURIComponent(p.id)}`)} data-testid="neighbour-chat">Schreiben</button>
          </li>
        ))}
        {peers.length === 0 && <li class="muted">Niemand erreichbar.</li>}
      </ul>
      <h3>Stand des Protokolls</h3>
      <dl class="log-lag" data-testid="log-lag">
        <dt>Letzter Abgleich</dt><dd data-testid="last-sync">{sync.last_ok_at ? ago(sync.last_ok_at, now) : 'noch keiner'}</dd>
        <dt>Noch zu verteilen</dt><dd>{push.queued || 0} Ereignisse</dd>
        <dt>Abgleich</dt><dd>alle {sync.interval_seconds || '…'} s</dd>
        <dt>Ereignisse hier</dt><dd>{log.events != null ? log.events : '…'} (Lamport {log.head_lamport != null ? log.head_lamport : '…'})</dd>
      </dl>
    </section>
  );
}
