// tabs.jsx — Ask, Chat, Marketplace, Files and Emergency (M08 §5.1–5.6): thin views over
// the bus calls of CAPABILITY_CONTRACT §4. A tab whose capability no node offers says so.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, newClientId, stream, shortId } from './api.js';
import { hasCapability, providers, toast, useStore } from './store.js';
import { Field, Spinner, Unavailable, fmtBytes, fmtTime } from './ui.jsx';
import { nodesOf } from './topology.jsx';
import { onPubsub } from './live.js';

// ---- Ask (§5.1): rag.query for sources, llm.chat streamed --------------------------------
export function AskTab({ compact }) {
  const topology = useStore((s) => s.topology);
  const hasLlm = hasCapability(topology, 'llm.chat');
  const hasRag = hasCapability(topology, 'rag.list_corpora');
  const [corpora, setCorpora] = useState([]);
  const [corpus, setCorpus] = useState('');
  const [model, setModel] = useState('');
  const [history, setHistory] = useState([]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(null);  // {controller, waiting}
  const models = [...new Set(providers(topology, 'llm.chat').flatMap((c) => {
    const p = c.params || {};
    return [p.model, ...(Array.isArray(p.models) ? p.models : [])].filter(Boolean);
  }))];
  useEffect(() => {
    if (!hasRag) return;
    call('rag.list_corpora', { params: {}, input: {} })
      .then((r) => setCorpora((r.output && r.output.corpora) || []))
      .catch(toast);
  }, [hasRag]);
  useEffect(() => { if (!model && models.length) setModel(models[0]); }, [models.join()]);

  const send = async (text) => {
    const question = (text || input).trim();
    if (!question || busy) return;
    setInput('');
    let sources = [];
    const turn = { q: question, a: '', sources: [], state: 'waiting' };
    const update = (patch) => setHistory((h) => h.map((t) => (t === turnRef.current ? (turnRef.current = { ...t, ...patch }) : t)));
    const turnRef = { current: turn };
    setHistory((h) => [...h, turn]);
    const controller = new AbortController();
    setBusy({ controller });
    try {
      const messages = history.flatMap((t) => [{ role: 'user', content: t.q }, { role: 'assistant', content: t.a }]);
      if (corpus) {
        const r = await call('rag.query', { params: { corpus }, input: { query: question, k: 5 } });
        sources = (r.output && r.output.chunks) || [];
        update({ sources });
        const context = sources.map((c, i) => `[${i + 1}] ${c.metadata && c.metadata.doc_title}: ${c.text}`).join('\n\n');
        messages.unshift({ role: 'system', content: `Antworte mit den Quellen und zitiere sie als [n].\n\n${context}` });
      }
      messages.push({ role: 'user', content: question });
      let answer = '';
      await stream('llm.chat', { params: { model }, input: { messages, stream: true } }, (event, data) => {
        if (event === 'token') {
          answer += data.text || '';
          update({ a: answer, state: 'streaming' });
        }
      }, { signal: controller.signal });
      update({ state: 'done' });
    } catch (e) {
      if (e.code === 'cancelled') update({ state: 'cancelled' });
      else if (e.details && e.details.lost) update({ state: 'lost' });
      else { update({ state: 'error' }); toast(e); }
    } finally {
      setBusy(null);
    }
  };

  return (
    <section class={`tab ask ${compact ? 'compact' : ''}`}>
      {!hasLlm && <Unavailable what="llm.chat" />}
      <div class="row pickers">
        <Field label="Korpus">
          <select value={corpus} onChange={(e) => setCorpus(e.target.value)} data-testid="corpus" disabled={!hasRag}>
            <option value="">— ohne —</option>
            {corpora.map((c) => <option key={c.name} value={c.name}>{c.name} ({c.docs})</option>)}
          </select>
        </Field>
        <Field label="Modell">
          <select value={model} onChange={(e) => setModel(e.target.value)} data-testid="model">
            {models.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </Field>
      </div>
      <div class="thread">
        {history.map((t, i) => (
          <div key={i} class="turn">
            <div class="msg user">{t.q}</div>
            <div class="msg assistant" data-testid="answer">
              {t.state === 'waiting' && <Spinner label="Modell wird geladen …" />}
              {t.a}
              {t.state === 'lost' && <div class="lost">Verbindung abgerissen <button onClick={() => send(t.q)}>Nochmal</button></div>}
              {t.state === 'cancelled' && <div class="muted">abgebrochen</div>}
              {t.sources.length > 0 && (
                <ol class="sources">
                  {t.sources.map((c, j) => (
                    <li key={j}><a href={`#files?cid=${encodeURIComponent(c.metadata.doc_cid)}&page=${c.metadata.page || 1}`}>
                      {c.metadata.doc_title || c.metadata.doc_cid}{c.metadata.page ? `, S. ${c.metadata.page}` : ''}</a></li>
                  ))}
                </ol>
              )}
            </div>
          </div>
        ))}
      </div>
      <form class="ask-box row" onSubmit={(e) => { e.preventDefault(); send(); }}>
        <input value={input} onInput={(e) => setInput(e.target.value)} placeholder="Frag die Nachbarschaft …" data-testid="ask-input" aria-label="Frage" disabled={!hasLlm} />
        {busy ? <button type="button" class="danger" onClick={() => busy.controller.abort()} data-testid="stop">Stopp</button>
          : <button type="submit" data-testid="ask-send" disabled={!hasLlm}>Senden</button>}
      </form>
    </section>
  );
}

// ---- Chat (§5.3) ----------------------------------------------------------------------
export function ChatTab() {
  const topology = useStore((s) => s.topology);
  const ok = hasCapability(topology, 'chat.send') && hasCapability(topology, 'chat.history');
  const [messages, setMessages] = useState([]);
  const [peer, setPeer] = useState(null);
  const [text, setText] = useState('');
  const [seen, setSeen] = useState({});
  const me = topology && topology.node && topology.node.node_id;
  const load = () => call('chat.history', { params: {}, input: {} })
    .then((r) => setMessages((r.output && r.output.messages) || []))
    .catch(toast);
  useEffect(() => { if (ok) load(); }, [ok]);
  useEffect(() => onPubsub((m) => { if (m.topic.startsWith('chat.message.') && ok) load(); }), [ok]);
  if (!ok) return <section class="tab chat"><Unavailable what="chat.send / chat.history" /></section>;
  const other = (m) => (m.sender === me ? m.recipient : m.sender);
  const peers = nodesOf(topology).filter((n) => !n.self);
  const byPeer = {};
  for (const m of messages) (byPeer[other(m)] = byPeer[other(m)] || []).push(m);
  const thread = peer ? byPeer[peer] || [] : [];
  const send = async (e) => {
    e.preventDefault();
    if (!text.trim() || !peer) return;
    try {
      await call('chat.send', { params: {}, input: { client_id: newClientId(), recipient: peer, body: text } });
      setText('');
      load();
    } catch (err) { toast(err); }
  };
  return (
    <section class="tab chat split">
      <ul class="peer-list">
        {peers.map((p) => {
          const list = byPeer[p.id] || [];
          const last = list[list.length - 1];
          const unread = list.filter((m) => m.sender === p.id && !(seen[p.id] >= (m.lamport || 0))).length;
          return (
            <li key={p.id} class={peer === p.id ? 'active' : ''} onClick={() => { setPeer(p.id); setSeen({ ...seen, [p.id]: last ? last.lamport : 0 }); }}>
              <span>{p.name}</span>
              {unread > 0 && <span class="badge">{unread}</span>}
              {last && <small class="muted">{fmtTime(last.created_at || last.ts)}</small>}
            </li>
          );
        })}
        {peers.length === 0 && <li class="muted">Noch keine Nachbar*innen</li>}
      </ul>
      <div class="thread-pane">
        <div class="thread">
          {thread.map((m) => (
            <div key={m.event_id} class={`msg ${m.sender === me ? 'user' : 'assistant'}`}>
              {m.body}
              <small class="receipt muted">{m.status || m.delivered || ''} {fmtTime(m.created_at || m.ts)}</small>
            </div>
          ))}
          {!peer && <p class="muted">Wähle links eine*n Nachbar*in.</p>}
        </div>
        <form class="row" onSubmit={send}>
          <input value={text} onInput={(e) => setText(e.target.value)} placeholder="Nachricht …" disabled={!peer} aria-label="Nachricht" />
          <button type="submit" disabled={!peer}>Senden</button>
        </form>
        <small class="muted">🔒 Ende-zu-Ende-Verschlüsselung folgt (Phase 2)</small>
      </div>
    </section>
  );
}

// ---- Marketplace (§5.4) -----------------------------------------------------------------
const CATEGORIES = ['offer', 'request', 'info', 'emergency'];
export function MarketTab() {
  const topology = useStore((s) => s.topology);
  const ok = hasCapability(topology, 'market.list');
  const canSearch = hasCapability(topology, 'market.search');
  const me = topology && topology.node && topology.node.node_id;
  const [posts, setPosts] = useState([]);
  const [category, setCategory] = useState('');
  const [tag, setTag] = useState('');
  const [query, setQuery] = useState('');
  const [form, setForm] = useState(null);
  const load = () => {
    const input = { limit: 500 };
    if (category) input.category = category;
    if (tag) input.tags = [tag];
    const p = query && canSearch ? call('market.search', { params: {}, input: { query, k: 50 } })
      : call('market.list', { params: {}, input });
    p.then((r) => setPosts((r.output && r.output.posts) || [])).catch(toast);
  };
  useEffect(() => { if (ok) load(); }, [ok, category, tag]);
  useEffect(() => onPubsub((m) => { if (m.topic.startsWith('marketplace.post.') && ok) load(); }), [ok, category, tag, query]);
  if (!ok) return <section class="tab market"><Unavailable what="market.list" /></section>;
  const expire = async (post, reason) => {
    try {
      await call('market.expire', { params: {}, input: { client_id: newClientId(), event_id: post.event_id, reason } });
      load();
    } catch (e) { toast(e); }
  };
  return (
    <section class="tab market">
      <div class="row filters">
        <select value={category} onChange={(e) => setCategory(e.target.value)} aria-label="Kategorie">
          <option value="">Alle Kategorien</option>
          {CATEGORIES.map((c) => <option key={c} value={c}>{c}</option>)}
        </select>
        <input value={tag} onInput={(e) => setTag(e.target.value)} placeholder="Tag" aria-label="Tag" />
        <form onSubmit={(e) => { e.preventDefault(); load(); }} class="row">
          <input value={query} onInput={(e) => setQuery(e.target.value)} placeholder={canSearch ? 'Suchen …' : 'Suche nicht verfügbar'} disabled={!canSearch} aria-label="Suche" />
        </form>
        <button onClick={() => setForm({ category: 'offer', title: '', body: '', tags: '', ttl_days: 7 })}>Neuer Beitrag</button>
      </div>
      {form && <NewPost form={form} setForm={setForm} done={() => { setForm(null); load(); }} />}
      <div class="cards">
        {posts.map((p) => (
          <article key={p.event_id} class={`card cat-${p.category}`} data-testid="post-card">
            <header><span class="tag">{p.category}</span> <strong>{p.title}</strong></header>
            <p>{p.body}</p>
            <footer class="muted">
              {(p.tags || []).map((t) => <span key={t} class="tag">#{t}</span>)} · {shortId(p.author)} · {fmtTime(p.created_at)}
              {p.author === me && <span class="row own">
                <button onClick={() => expire(p, 'fulfilled')}>Erledigt</button>
                <button onClick={() => expire(p, 'withdrawn')}>Zurückziehen</button></span>}
            </footer>
          </article>
        ))}
        {posts.length === 0 && <p class="muted">Keine Beiträge.</p>}
      </div>
    </section>
  );
}

function NewPost({ form, setForm, done }) {
  const [errors, setErrors] = useState({});
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    const errs = {};
    if (!form.title.trim()) errs.title = 'Titel fehlt';
    if (form.title.length > 120) errs.title = 'Höchstens 120 Zeichen';
    if (!form.body.trim()) errs.body = 'Text fehlt';
    const days = Number(form.ttl_days);
    if (!(days > 0 && days <= 30)) errs.ttl_days = '1 bis 30 Tage';
    setErrors(errs);
    if (Object.keys(errs).length) return;
    try {
      await call('market.post', { params: {}, input: {
        client_id: newClientId(), category: form.category, title: form.title.trim(), body: form.body.trim(),
        tags: form.tags.split(',').map((t) => t.trim()).filter(Boolean), ttl_seconds: Math.round(days * 86400) } });
      done();
    } catch (err) { toast(err); }
  };
  return (
    <form class="modal-form" onSubmit={submit}>
      <Field label="Kategorie"><select value={form.category} onChange={set('category')}>{CATEGORIES.map((c) => <option key={c}>{c}</option>)}</select></Field>
      <Field label="Titel"><input value={form.title} onInput={set('title')} />{errors.title && <em class="error">{errors.title}</em>}</Field>
      <Field label="Text"><textarea value={form.body} onInput={set('body')} />{errors.body && <em class="error">{errors.body}</em>}</Field>
      <Field label="Tags (Komma)"><input value={form.tags} onInput={set('tags')} /></Field>
      <Field label="Gültig (Tage)"><input type="number" value={form.ttl_days} onInput={set('ttl_days')} />{errors.ttl_days && <em class="error">{errors.ttl_days}</em>}</Field>
      <div class="row"><button type="submit">Veröffentlichen</button><button type="button" onClick={() => setForm(null)}>Abbrechen</button></div>
    </form>
  );
}

// ---- Files (§5.5) -----------------------------------------------------------------------
export function FilesTab() {
  const topology = useStore((s) => s.topology);
  const ok = hasCapability(topology, 'file.list');
  const [cids, setCids] = useState([]);
  const [preview, setPreview] = useState(null);
  const [progress, setProgress] = useState(null);
  useEffect(() => {
    if (!ok) return;
    call('file.list', { params: {}, input: {} }).then((r) => setCids((r.output && r.output.cids) || [])).catch(toast);
  }, [ok]);
  if (!ok) return <section class="tab files"><Unavailable what="file.list" /></section>;
  const holders = (cid) => (topology.capabilities || []).filter((c) => c.name === 'file.read').length;
  const fetchBlob = async (cid) => {
    const parts = [];
    let total = 0;
    let mime = 'application/octet-stream';
    setProgress({ cid, done: 0, total: 1 });
    await stream('file.read', { params: {}, input: { cid } }, (event, data) => {
      if (event === 'manifest') { total = (data.chunks || []).length; mime = data.mime || mime; }
      if (event === 'chunk') {
        parts[data.i] = Uint8Array.from(atob(data.data_b64), (c) => c.charCodeAt(0));
        setProgress({ cid, done: parts.filter(Boolean).length, total: total || 1 });
      }
    });
    setProgress(null);
    return new Blob(parts, { type: mime });
  };
  const open = async (cid, download) => {
    try {
      const blob = await fetchBlob(cid);
      const url = URL.createObjectURL(blob);
      if (download) {
        const a = document.createElement('a');
        a.href = url; a.download = cid.replace(':', '_'); a.click();
      } else {
        setPreview({ cid, url, type: blob.type, text: blob.type.startsWith('text/') ? await blob.text() : null });
      }
    } catch (e) { setProgress(null); toast(e); }
  };
  return (
    <section class="tab files">
      <p class="muted">Hochladen: über <code>hearthnet</code> bzw. sobald der Dateidienst es anbietet.</p>
      {progress && <progress value={progress.done} max={progress.total} data-testid="file-progress" />}
      <table class="grid">
        <thead><tr><th>CID</th><th>Anbieter</th><th /></tr></thead>
        <tbody>
          {cids.map((c) => (
            <tr key={c}><td><code>{c.slice(0, 20)}…</code></td><td>{holders(c)}</td>
              <td class="row"><button onClick={() => open(c, false)}>Ansehen</button><button onClick={() => open(c, true)}>Herunterladen</button></td></tr>
          ))}
          {cids.length === 0 && <tr><td colSpan={3} class="muted">Keine Dateien.</td></tr>}
        </tbody>
      </table>
      {preview && (
        <div class="preview">
          {preview.type.startsWith('image/') && <img src={preview.url} alt={preview.cid} />}
          {preview.type === 'application/pdf' && <object data={preview.url} type="application/pdf" aria-label="PDF" />}
          {preview.text !== null && <pre>{preview.text}</pre>}
          <button onClick={() => setPreview(null)}>Schließen</button>
        </div>
      )}
    </section>
  );
}

// ---- Emergency / Notfall (§5.6, M09) -------------------------------------------------------
export function EmergencyTab({ go }) {
  const topology = useStore((s) => s.topology);
  const online = topology && topology.online_state;
  const peers = nodesOf(topology).filter((n) => !n.self);
  return (
    <section class="tab emergency">
      {(!online || online.state === 'online') && <p class="ok-note">Alles in Ordnung — die Verbindung nach draußen steht. Diese Seite hilft, wenn das Internet ausfällt.</p>}
      <div class="big-buttons">
        <button class="big" onClick={() => go('ask')}>Was tun?</button>
        <button class="big" onClick={() => go('chat')}>Nachbar*innen schreiben</button>
        <button class="big" onClick={() => go('market')}>Hilfe anbieten / suchen</button>
      </div>
      <h3>Nachbar*innen</h3>
      <ul class="neighbours">
        {peers.map((p) => <li key={p.id} class={`node-${p.state}`}><strong>{p.name}</strong> — zuletzt gesehen {fmtTime(p.peer.last_seen)}</li>)}
        {peers.length === 0 && <li class="muted">Niemand erreichbar.</li>}
      </ul>
      <h3>Stand</h3>
      <p data-testid="log-lag">Abgleich alle {topology && topology.sync ? topology.sync.interval_seconds : '…'} s · {peers.filter((p) => p.state === 'online').length} von {peers.length} erreichbar</p>
    </section>
  );
}

export { fmtBytes };
