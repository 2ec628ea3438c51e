// ask.jsx — the Ask tab (M08 §5.1): model picker fed by the mesh's llm.chat providers,
// corpus picker fed by rag.list_corpora (when some node offers it), the answer streamed as
// it is generated, a stop button that cancels the generation, numbered sources that open
// the document at its page. With a corpus: `rag.answer@1.0` (this node's local stream:
// llm.chat's token frames, then {sources}, then done) where offered, else rag.query then
// llm.chat (M08 §5.1's order); without one, plain llm.chat.
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, stream } from './api.js';
import { hasCapability, providers, toast, useStore } from './store.js';
import { Field, Spinner, Unavailable } from './ui.jsx';

// The models the mesh offers (CONTRACT §4.1: params.model, the catalogue in params.models).
export function modelsOf(topology) {
  return [...new Set(providers(topology, 'llm.chat').flatMap((c) => {
    const p = c.params || {};
    return [p.model, ...(Array.isArray(p.models) ? p.models : [])].filter(Boolean);
  }))];
}

// A source as the Files tab opens it: the document's CID and page (M08 §5.1 "clickable").
const sourceHref = (s) => `#files?cid=${encodeURIComponent(s.doc_cid || '')}&page=${s.page || 1}`;

// rag.query's chunks (CONTRACT §4.4) in rag.answer's source shape.
const chunkSources = (chunks) => chunks.map((c, i) => {
  const m = c.metadata || {};
  return { n: i + 1, doc_title: m.doc_title || c.doc_title, page: m.page || c.page, doc_cid: m.doc_cid || c.doc_cid, chunk_id: c.chunk_id, score: c.score, text: c.text };
});

export function AskTab({ compact }) {
  const topology = useStore((s) => s.topology);
  const me = topology && topology.node && topology.node.node_id;
  const hasLlm = hasCapability(topology, 'llm.chat');
  const hasRag = hasCapability(topology, 'rag.list_corpora');
  const [corpora, setCorpora] = useState([]);
  const [corpus, setCorpus] = useState(new URLSearchParams(location.hash.split('?')[1] || '').get('corpus') || '');
  const [model, setModel] = useState('');
  const [history, setHistory] = useState([]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(null);  // the AbortController of the running answer
  const models = modelsOf(topology);
  const inputRef = useRef(null);
  useEffect(() => {
    if (!hasRag) return;
    call('rag.list_corpora', { params: {}, input: {} })
      .then((r) => {
        const list = (r.output && r.output.corpora) || [];
        setCorpora(list);
        setCorpus((c) => (list.some((x) => x.name === c) ? c : ''));
      })
      .catch(toast);
  }, [hasRag]);
  useEffect(() => { if ((!model || !models.includes(model)) && models.length) setModel(models[0]); }, [models.join()]);

  // A corpus counts once the mesh lists it (a link may name one that is not there).
  const picked = corpora.some((c) => c.name === corpus) ? corpus : '';
  const send = async (text) => {
    const corpus = picked;
    const question = (text || input).trim();
    if (!question || busy) return;
    setInput('');
    const turnRef = { current: { q: question, a: '', sources: [], state: 'waiting', corpus } };
    const update = (patch) => setHistory((h) => h.map((t) => (t === turnRef.current ? (turnRef.current = { ...t, ...patch }) : t)));
    setHistory((h) => [...h, turnRef.current]);
    const controller = new AbortController();
    setBusy(controller);
    let answer = '';
    const onFrame = (event, data) => {
      if (event === 'token' || (data && typeof data.text === 'string' && !data.sources)) {
        answer += data.text || '';
        update({ a: answer, state: 'streaming' });
      } else if (data && Array.isArray(data.sources)) {
        update({ sources: data.sources });
      }
    };
    try {
      const past = history.filter((t) => t.state === 'done').flatMap((t) => [{ role: 'user', content: t.q }, { role: 'assistant', content: t.a }]);
      if (corpus && hasCapability(topology, 'rag.answer')) {
        const local = providers(topology, 'rag.answer').some((c) => c.node_id === me);
        const input = { question, corpus, k: 5 };
        if (model) input.model = model;
        const done = await stream('rag.answer', { params: {}, input }, onFrame, { signal: controller.signal, node: local ? 'self' : undefined });
        if (done && Array.isArray(done.sources)) update({ sources: done.sources });
      } else {
        const messages = [...past];
        if (corpus) {
          const r = await call('rag.query', { params: { corpus }, input: { query: question, k: 5 } });
          const sources = chunkSources((r.output && r.output.chunks) || []);
          update({ sources });
          const context = sources.map((s) => `[${s.n}] ${s.doc_title || ''}${s.page ? `, S. ${s.page}` : ''}: ${s.text}`).join('\n\n');
          messages.unshift({ role: 'system', content: `Antworte mit den Quellen und zitiere sie als [n].\n\n${context}` });
        }
        messages.push({ role: 'user', content: question });
        await stream('llm.chat', { params: { model }, input: { messages, stream: true } }, onFrame, { signal: controller.signal });
      }
      update({ state: 'done' });
    } catch (e) {
      if (e.code === 'cancelled') update({ state: 'cancelled' });
      else if (e.details && e.details.lost) update({ state: 'lost' });
      else { update({ state: 'error' }); toast(e); }
    } finally {
      setBusy(null);
      if (inputRef.current) inputRef.current.focus();
    }
  };

  const ready = hasLlm && !!topology;
  useEffect(() => { if (ready) performance.mark('hn-ask-ready'); }, [ready]);  // ui_bench.mjs reads it
  return (
    <section class={`tab ask ${compact ? 'compact' : ''}`}>
      {topology && !hasLlm && <Unavailable what="llm.chat" />}
      <div class="row pickers">
        <Field label="Korpus">
          <select value={picked} onChange={(e) => setCorpus(e.target.value)} data-testid="corpus" disabled={!hasRag}>
            <option value="">{hasRag ? '— ohne —' : '— kein RAG im Netz —'}</option>
            {corpora.map((c) => <option key={c.name} value={c.name}>{c.name} ({c.docs})</option>)}
          </select>
        </Field>
        <Field label="Modell">
          <select value={model} onChange={(e) => setModel(e.target.value)} data-testid="model" disabled={!models.length}>
            {models.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </Field>
      </div>
      <div class="thread" aria-live="polite">
        {history.map((t, i) => (
          <div key={i} class="turn">
            <div class="msg user">{t.q}</div>
            <div class={`msg assistant state-${t.state}`} data-testid="answer" data-state={t.state}>
              {t.state === 'waiting' && <Spinner label="Modell wird geladen …" />}
              <span class="answer-text">{t.a}</span>
              {t.state === 'lost' && <div class="lost">Verbindung abgerissen <button onClick={() => send(t.q)}>Nochmal</button></div>}
              {t.state === 'cancelled' && <div class="muted" data-testid="cancelled">abgebrochen</div>}
              {t.sources.length > 0 && (
                <ol class="sources" data-testid="sources">
                  {t.sources.map((s, j) => (
                    <li key={j} value={s.n || j + 1}><a href={sourceHref(s)}>
                      {s.doc_title || s.doc_cid}{s.page ? `, S. ${s.page}` : ''}</a></li>
                  ))}
                </ol>
              )}
            </div>
          </div>
        ))}
      </div>
      <form class="ask-box row" onSubmit={(e) => { e.preventDefault(); send(); }}>
        <input ref={inputRef} value={input} onInput={(e) => setInput(e.target.value)} placeholder={topology ? 'Frag die Nachbarschaft …' : 'Verbinde mit dem Knoten …'}
          data-testid="ask-input" aria-label="Frage" disabled={!ready} />
        {busy ? <button type="button" class="danger" onClick={() => busy.abort()} data-testid="stop">Stopp</button>
          : <button type="submit" data-testid="ask-send" disabled={!ready}>Senden</button>}
      </form>
    </section>
  );
}
