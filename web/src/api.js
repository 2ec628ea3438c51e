// api.js — the page's only way to the node: the UI server's /api routes (same origin, the
// session cookie rides along). Errors carry the contract's code and details (M08 §8.3).

export class ApiError extends Error {
  constructor(code, message, details) {
    super(message || code);
    this.code = code || 'internal_error';
    this.details = details || {};
  }
}

function toError(status, body) {
  // CONTRACT §5.4: {"error": CODE, "message", "detail"?, "retry_after_ms"?, "alt_*"?}
  if (body && typeof body === 'object' && body.error) {
    const { error, message, detail, ...rest } = body;
    return new ApiError(String(error), message, { ...rest, ...(detail || {}) });
  }
  return new ApiError(status === 401 ? 'unauthorized' : 'internal_error', `HTTP ${status}`);
}

export async function api(path, { method = 'GET', body, query } = {}) {
  let url = path;
  if (query) url += '?' + new URLSearchParams(query).toString();
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: method === 'GET' ? {} : { 'Content-Type': 'application/json', 'X-HearthNet-UI': '1' },
      body: method === 'GET' ? undefined : JSON.stringify(body || {}),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw new ApiError('partition', 'Der Knoten ist nicht erreichbar');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw toError(res.status, data);
  return data;
}

// One bus call as the node itself (CONTRACT §4): capability, body, optional version / node.
export function call(capability, body = {}, { version = '1.0', node } = {}) {
  return api('/api/call', { method: 'POST', body: { capability, version, body, node } });
}

// A call served by this node itself (CONTRACT §4 trust `self`: chat.*, file.put/fetch/pin,
// and every write the node signs as its own — doc/design/chat.md "chat.send serves only its
// own node").
export const callSelf = (capability, body = {}, opts = {}) => call(capability, body, { ...opts, node: 'self' });

// A streamed bus call: onFrame(event, data) for each frame; resolves with the done frame's
// data, rejects with ApiError on an error frame or a lost stream ('partition', lost: true).
export async function stream(capability, body, onFrame, { version = '1.0', node, signal } = {}) {
  let res;
  try {
    res = await fetch('/api/call', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-HearthNet-UI': '1' },
      body: JSON.stringify({ capability, version, body, node, stream: true }),
      signal,
    });
  } catch (e) {
    if (signal && signal.aborted) throw new ApiError('cancelled', 'abgebrochen');
    throw new ApiError('partition', 'Verbindung abgerissen', { lost: true });
  }
  if (!res.ok) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw toError(res.status, data);
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (signal && signal.aborted) throw new ApiError('cancelled', 'abgebrochen');
      throw new ApiError('partition', 'Verbindung abgerissen', { lost: true });
    }
    if (chunk.done) break;
    buf += dec.decode(chunk.value, { stream: true });
    let idx;
    while ((idx = buf.indexOf('\n\n')) >= 0) {
      const raw = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      let event = 'message';
      let data = '';
      for (const line of raw.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data += line.slice(5).trim();
      }
      if (!data) continue;
      const parsed = JSON.parse(data);
      if (event === 'done') return parsed;
      if (event === 'error') throw toError(500, parsed);
      onFrame(event, parsed);
    }
  }
  throw new ApiError('partition', 'Verbindung abgerissen', { lost: true });
}

// The node's push channel (GET /api/events, SSE): topology, trace, pubsub, hello.
export function openEvents(handlers) {
  const es = new EventSource('/api/events');
  for (const [name, fn] of Object.entries(handlers)) {
    if (name === 'onerror' || name === 'onopen') continue;
    es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  }
  es.onerror = () => handlers.onerror && handlers.onerror();
  es.onopen = () => handlers.onopen && handlers.onopen();
  return es;
}

export function newClientId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export const shortId = (full) => (full || '').replace(/^ed25519:/, '').slice(0, 8);
