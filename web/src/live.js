// live.js — the node's push channel for the whole page (GET /api/events): topology and
// traces go to the store, pubsub messages to whoever listens (chat, marketplace, banner).
import { openEvents } from './api.js';
import { getState, setState } from './store.js';

const pubsubListeners = new Set();
export function onPubsub(fn) {
  pubsubListeners.add(fn);
  return () => pubsubListeners.delete(fn);
}

let traceKey = 0;
export function startLive() {
  return openEvents({
    onopen: () => setState({ connected: true }),
    onerror: () => setState({ connected: false }),
    topology: (t) => {
      if (!getState().topology) performance.mark('hn-topology');  // ui_bench.mjs reads it
      setState({ topology: t, connected: true });
    },
    trace: (t) => {
      const item = { ...t, key: ++traceKey };
      setState({ traces: [...getState().traces, item].slice(-20) });
      // An edge shows a call for 5 s (M08 §3.2), then fades.
      setTimeout(() => setState({ traces: getState().traces.filter((x) => x !== item) }), 5000);
    },
    pubsub: (m) => {
      if (m.topic === 'emergency.mode.changed' && getState().topology) {
        const p = m.payload || {};
        setState({ topology: { ...getState().topology, online_state: { state: p.online ? 'online' : (p.state || 'offline'), since: p.since } } });
      }
      for (const fn of pubsubListeners) fn(m);
    },
  });
}
