// topology.jsx — the live mesh (M08 §3.2): every node with display name, state colour and
// capability badges; calls animate along edges coloured by capability prefix; a click
// opens the node's manifest. Fed by the node's `topology` and `trace` pushes (M03 §3.7).
import { useState } from 'preact/hooks';
import { api } from './api.js';
import { useStore } from './store.js';
import { toast } from './store.js';

export const PREFIX_COLOURS = {
  llm: '#14b8a6', rag: '#6d28d9', file: '#d97706', chat: '#2563eb', market: '#15803d',
  community: '#6b7280', embed: '#0891b2', diag: '#9ca3af',
};
const prefixOf = (name) => (name || '').split('.')[0];
const STALE_MS = 90_000;

function nodeState(peer) {
  if (!peer.last_seen) return 'online';
  const age = Date.now() - new Date(peer.last_seen).getTime();
  return age > 3 * STALE_MS ? 'offline' : age > STALE_MS ? 'stale' : 'online';
}

export function nodesOf(topology) {
  if (!topology) return [];
  const self = topology.node || {};
  const caps = topology.capabilities || [];
  const badges = (id) => [...new Set(caps.filter((c) => c.node_id === id).map((c) => prefixOf(c.name)))].sort();
  const list = [{ id: self.node_id, name: self.display_name || 'this node', short: self.short_id, state: 'online', self: true, badges: badges(self.node_id) }];
  for (const p of topology.peers || []) {
    list.push({ id: p.node_id, name: p.display_name || p.short_id, short: p.short_id, state: nodeState(p), peer: p, badges: badges(p.node_id) });
  }
  return list;
}

export function Topology() {
  const topology = useStore((s) => s.topology);
  const traces = useStore((s) => s.traces);
  const [selected, setSelected] = useState(null);
  const nodes = nodesOf(topology);
  const W = 640, H = 260, cx = W / 2, cy = H / 2;
  const pos = {};
  nodes.forEach((n, i) => {
    if (i === 0) { pos[n.id] = [cx, cy]; return; }
    const a = (2 * Math.PI * (i - 1)) / Math.max(1, nodes.length - 1) - Math.PI / 2;
    pos[n.id] = [cx + Math.cos(a) * 230, cy + Math.sin(a) * 95];
  });
  const open = async (n) => {
    if (n.self) {
      try { setSelected({ node: n, manifest: await api('/api/manifest') }); } catch (e) { toast(e); }
    } else {
      const caps = (topology.capabilities || []).filter((c) => c.node_id === n.id);
      setSelected({ node: n, manifest: { ...n.peer, capabilities: caps.map((c) => ({ name: c.name, version: c.version, params: c.params })) } });
    }
  };
  return (
    <section class="topology" aria-label="Topologie">
      <svg viewBox={`0 0 ${W} ${H}`} class="topology-svg" role="img">
        {nodes.slice(1).map((n) => (
          <line key={'e' + n.id} x1={cx} y1={cy} x2={pos[n.id][0]} y2={pos[n.id][1]} class="edge" />
        ))}
        {traces.map((t) => {
          const a = pos[t.from_node] || pos[nodes[0] && nodes[0].id];
          const b = pos[t.to_node];
          if (!a || !b || a === b) return null;
          return <line key={t.key} x1={a[0]} y1={a[1]} x2={b[0]} y2={b[1]} class="edge-call"
            stroke={PREFIX_COLOURS[prefixOf(t.capability)] || '#b45309'} data-capability={t.capability} />;
        })}
        {nodes.map((n) => (
          <g key={n.id} class={`node node-${n.state}`} transform={`translate(${pos[n.id][0]},${pos[n.id][1]})`}
            onClick={() => open(n)} data-node-id={n.id} data-testid="topology-node" tabIndex={0}>
            <circle r={n.self ? 22 : 18} />
            <text y={n.self ? 38 : 34} text-anchor="middle" class="node-name">{n.name}</text>
            <text y={n.self ? 52 : 48} text-anchor="middle" class="node-badges">
              {n.badges.map((b) => <tspan key={b} fill={PREFIX_COLOURS[b] || 'currentColor'}>{b} </tspan>)}
            </text>
          </g>
        ))}
      </svg>
      {selected && (
        <aside class="manifest-panel" data-testid="manifest-panel">
          <header><strong>{selected.node.name}</strong> <code>{selected.node.short}</code>
            <button class="icon" aria-label="close" onClick={() => setSelected(null)}>×</button></header>
          <pre>{JSON.stringify(selected.manifest, null, 2)}</pre>
        </aside>
      )}
    </section>
  );
}
