// store.js — the page's shared state: the topology pushed by the node, toasts, the theme.
// A tiny observable (no framework store needed for a handful of values).
import { useEffect, useRef, useState } from 'preact/hooks';

const state = {
  topology: null,       // {node, community, online_state, peers, capabilities}
  traces: [],           // recent call animations
  toasts: [],
  theme: localStorage.getItem('hn-theme') || 'hearth',
  connected: false,
};
const listeners = new Set();

export function getState() { return state; }
export function setState(patch) {
  Object.assign(state, patch);
  for (const l of listeners) l();
}
// A component re-renders only when what it selects changes (Object.is): a trace or a toast
// must not redraw a tab of a thousand cards.
export function useStore(select) {
  const [, force] = useState(0);
  const selected = select(state);
  const ref = useRef({ select, selected });
  ref.current = { select, selected };
  useEffect(() => {
    const l = () => {
      if (!Object.is(ref.current.select(state), ref.current.selected)) force((n) => n + 1);
    };
    listeners.add(l);
    l();  // a change between the first render and this subscription is not lost
    return () => listeners.delete(l);
  }, []);
  return selected;
}

let toastId = 0;
// M08 §8.3: a toast with the contract's code and a details expander.
export function toast(err, kind = 'error') {
  const t = { id: ++toastId, kind, code: err.code || kind, message: err.message || String(err), details: err.details || null };
  setState({ toasts: [...state.toasts, t] });
  setTimeout(() => setState({ toasts: state.toasts.filter((x) => x.id !== t.id) }), kind === 'error' ? 12000 : 4000);
}
export function dismiss(id) { setState({ toasts: state.toasts.filter((x) => x.id !== id) }); }

export function setTheme(theme) {
  localStorage.setItem('hn-theme', theme);
  setState({ theme });
}

// Whether some node of the mesh offers a capability (name, or a prefix ending in '.').
export function hasCapability(topology, name) {
  if (!topology) return false;
  return topology.capabilities.some((c) => (name.endsWith('.') ? c.name.startsWith(name) : c.name === name));
}
export function providers(topology, name) {
  if (!topology) return [];
  return topology.capabilities.filter((c) => c.name === name);
}
