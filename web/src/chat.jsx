// chat.jsx — the Chat tab (M08 §5.3, M10): peers with unread badges and the last message's
// time (`chat.peers` + the mesh's nodes), the thread with one peer (`chat.history`), its
// receipts (sent / delivered / read, CONTRACT §4.16), attachments uploaded as blobs
// (`file.put`, then the CID rides in `chat.send`), opened with `file.fetch` + `file.read`.
// Live: a message to us arrives on `chat.message.<us>` (pushed); receipts and our own
// sends change the event log, whose head comes with every topology push — both reload
// the open view. Opening a thread marks it read (`chat.read`, read receipts go back).
import { useEffect, useRef, useState } from 'preact/hooks';
import { callSelf, newClientId, shortId } from './api.js';
import { loadBlob, saveBlob } from './blobs.js';
import { onPubsub } from './live.js';
import { hasCapability, toast, useStore } from './store.js';
import { nodesOf } from './topology.jsx';
import { Unavailable, fmtBytes, fmtTime } from './ui.jsx';
import { uploadFile } from './upload.js';
import { VirtualList } from './vlist.jsx';

const peerFromHash = () => new URLSearchParams(location.hash.split('?')[1] || '').get('peer');
let lastPeer = null;  // the open thread, kept while another tab is shown

// chat.history pages (chat.md "Paging"): oldest first, `next` while a page is full.
async function historyWith(peer) {
  const all = [];
  let input = { peer, limit: 1000 };
  for (let page = 0; page < 20; page++) {
    const r = await callSelf('chat.history', { params: {}, input });
    const out = r.output || {};
    all.push(...(out.messages || []));
    if (!out.next) break;
    input = { peer, limit: 1000, ...out.next };
  }
  return all;
}

export function receiptOf(m) {
  if (m.read_at) return 'read';
  if (m.delivered_at) return 'delivered';
  return 'sent';
}
const RECEIPT_LABEL = { sent: '✓ gesendet', delivered: '✓✓ zugestellt', read: '✓✓ gelesen' };

export function ChatTab() {
  const topology = useStore((s) => s.topology);
  const ok = hasCapability(topology, 'chat.send') && hasCapability(topology, 'chat.history');
  const me = topology && topology.node && topology.node.node_id;
  const head = topology && topology.event_log && topology.event_log.fingerprint;
  const [conversations, setConversations] = useState([]);
  const [peer, setPeer] = useState(peerFromHash() || lastPeer);
  lastPeer = peer;
  const [thread, setThread] = useState([]);
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState([]);
  const [upload, setUpload] = useState(null);
  const peerRef = useRef(peer);
  peerRef.current = peer;

  const loadPeers = () => callSelf('chat.peers', { params: {}, input: {} })
    .then((r) => setConversations((r.output && r.output.peers) || [])).catch(toast);
  const loadThread = async (p) => {
    if (!p) return;
    try {
      const list = await historyWith(p);
      if (peerRef.current !== p) return;
      setThread(list);
      if (list.some((m) => m.from === p && !m.read_at) && document.visibilityState !== 'hidden') {
        await callSelf('chat.read', { params: {}, input: { peer: p } });
        loadPeers();
      }
    } catch (e) { toast(e); }
  };
  // One reload at a time, coalescing bursts (a seeded thread brings many pushes).
  const pending = useRef(null);
  const reload = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => { pending.current = null; loadPeers(); loadThread(peerRef.current); }, 150);
  };
  useEffect(() => () => clearTimeout(pending.current), []);
  useEffect(() => { if (ok) loadPeers(); }, [ok]);
  useEffect(() => { if (ok) { setThread([]); loadThread(peer); } }, [ok, peer]);
  useEffect(() => { if (ok && head) reload(); }, [head]);
  useEffect(() => onPubsub((m) => { if (m.topic.startsWith('chat.message.') && ok) reload(); }), [ok]);
  useEffect(() => {
    const on = () => { const p = peerFromHash(); if (p) setPeer(p); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  if (!topology) return <section class="tab chat"><p class="muted">Verbinde …</p></section>;
  if (!ok) return <section class="tab chat"><Unavailable what="chat.send / chat.history" /></section>;

  // Everyone we can write to or have written with: the mesh's nodes, then conversations.
  const names = {};
  for (const n of nodesOf(topology)) names[n.id] = n.name;
  const byId = {};
  for (const c of conversations) byId[c.node_id] = c;
  const ids = [...new Set([...nodesOf(topology).filter((n) => !n.self).map((n) => n.id), ...conversations.map((c) => c.node_id)])];
  ids.sort((a, b) => String((byId[b] && byId[b].last_at) || '').localeCompare(String((byId[a] && byId[a].last_at) || '')));

  const pick = async (e) => {
    const files = [...e.target.files];
    e.target.value = '';
    for (const f of files) {
      try {
        setUpload({ name: f.name, done: 0, total: f.size || 1 });
        const r = await uploadFile(f, { onProgress: (p) => p.phase === 'send' && setUpload({ name: f.name, done: p.done, total: p.total || 1 }) });
        setAttachments((a) => [...a, { cid: r.cid, name: f.name, size_bytes: f.size }]);
      } catch (err) { toast(err); }
    }
    setUpload(null);
  };
  const send = async (e) => {
    e.preventDefault();
    if ((!text.trim() && !attachments.length) || !peer) return;
    try {
      const input = { client_id: newClientId(), recipient: peer, body: text };
      if (attachments.length) input.attachments = attachments.map(({ cid, name }) => ({ cid, name }));
      await callSelf('chat.send', { params: {}, input });
      setText('');
      setAttachments([]);
      loadPeers();
      loadThread(peer);
    } catch (err) { toast(err); }
  };
  const open = async (a) => {
    try {
      const { blob, name } = await loadBlob(a.cid);
      saveBlob(blob, a.name || name);
    } catch (err) { toast(err); }
  };
  const choose = (id) => { setPeer(id); history.replaceState(null, '', `#chat?peer=${encodeURIComponent(id)}`); };

  return (
    <section class="tab chat split">
      <ul class="peer-list" data-testid="chat-peers">
        {ids.map((id) => {
          const c = byId[id] || {};
          return (
            <li key={id} class={peer === id ? 'active' : ''} onClick={() => choose(id)} data-peer={id}>
              <span class="peer-name">{names[id] || shortId(id)}</span>
              {c.unread > 0 && <span class="badge" data-testid="unread">{c.unread}</span>}
              {c.last_at && <small class="muted">{fmtTime(c.last_at)}</small>}
            </li>
          );
        })}
        {ids.length === 0 && <li class="muted">Noch keine Nachbar*innen</li>}
      </ul>
      <div class="thread-pane">
        {peer ? (
          <VirtualList key={peer} class="thread chat-thread" items={thread} itemKey={(m) => m.event_id} estimate={64}
            same={(x, y) => x.event_id === y.event_id && x.delivered_at === y.delivered_at && x.read_at === y.read_at} stickToBottom testid="chat-thread"
            render={(m) => (
              <div class={`msg ${m.from === me ? 'user' : 'assistant'}`} data-testid="chat-message">
                {m.body}
                {(m.attachments || []).map((a) => (
                  <button key={a.cid} type="button" class="attachment" onClick={() => open(a)} data-cid={a.cid}>Anhang: {a.name || shortId(a.cid)}</button>
                ))}
                <small class="receipt" data-receipt={m.from === me ? receiptOf(m) : undefined}>
                  {m.from === me ? `${RECEIPT_LABEL[receiptOf(m)]} · ` : ''}{fmtTime(m.created_at)}
                </small>
              </div>
            )} />
        ) : <div class="thread"><p class="muted">Wähle eine*n Nachbar*in.</p></div>}
        {attachments.length > 0 && (
          <div class="row attachments">
            {attachments.map((a) => <span key={a.cid} class="tag" data-testid="pending-attachment">{a.name} ({fmtBytes(a.size_bytes)})
              <button type="button" class="icon" aria-label="entfernen" onClick={() => setAttachments(attachments.filter((x) => x !== a))}>×</button></span>)}
          </div>
        )}
        {upload && <progress value={upload.done} max={upload.total} data-testid="chat-upload-progress" />}
        <form class="row chat-box" onSubmit={send}>
          <input value={text} onInput={(e) => setText(e.target.value)} placeholder="Nachricht …" disabled={!peer} aria-label="Nachricht" data-testid="chat-input" />
          <label class={`button ${!peer || !hasCapability(topology, 'file.put') ? 'disabled' : ''}`} title="Datei anhängen">Anhang
            <input type="file" multiple onChange={pick} disabled={!peer || !hasCapability(topology, 'file.put')} data-testid="chat-attach" hidden />
          </label>
          <button type="submit" disabled={!peer || !!upload} data-testid="chat-send">Senden</button>
        </form>
        <small class="muted">Unverschlüsselt zwischen den Knoten der Gemeinschaft (Ende-zu-Ende: Phase 2)</small>
      </div>
    </section>
  );
}
