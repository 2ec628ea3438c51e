// market.jsx — the Marketplace tab (M08 §5.4, M06): cards, category and tag filters, search
// (`market.search`: BM25, blended with embeddings where the mesh has them), a new-post form
// that names what is wrong before anything is sent, "Erledigt" / "Zurückziehen" on our own
// posts (`market.expire`). New and expired posts arrive by push (`marketplace.post.*`).
// Long lists grow as the reader scrolls: cards are drawn a page at a time, and the list
// itself is fetched a page at a time (`market.list`'s `next_cursor`), so a thousand posts
// cost what the visible ones cost and none is out of reach.
import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, callSelf, newClientId, shortId } from './api.js';
import { onPubsub } from './live.js';
import { hasCapability, toast, useStore } from './store.js';
import { Field, Unavailable, fmtTime } from './ui.jsx';

export const CATEGORIES = ['offer', 'request', 'info', 'emergency'];
const CATEGORY_LABEL = { offer: 'Angebot', request: 'Gesuch', info: 'Info', emergency: 'Notfall' };
const PAGE = 20;   // cards drawn at a time (the first screen, then one more page a frame)
const FETCH = 100; // posts asked for at a time (market.list allows 500)

// The market service's limits (services/market/post.h), checked here so the form names
// the field before anything is sent.
export const splitTags = (text) => text.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
export function validatePost(form) {
  const errs = {};
  const title = form.title.trim();
  if (!title) errs.title = 'Titel fehlt';
  else if ([...title].length > 200) errs.title = 'Höchstens 200 Zeichen';
  if ([...form.body].length > 8000) errs.body = 'Höchstens 8000 Zeichen';
  const tags = splitTags(form.tags);
  if (tags.length > 16) errs.tags = 'Höchstens 16 Tags';
  else if (tags.some((t) => [...t].length > 32)) errs.tags = 'Ein Tag hat höchstens 32 Zeichen';
  else if (tags.some((t) => /[\s"]/.test(t))) errs.tags = 'Tags ohne Leerzeichen und Anführungszeichen';
  const days = Number(form.ttl_days);
  if (!(days > 0 && days <= 30)) errs.ttl_days = '1 bis 30 Tage';
  return errs;
}

export function MarketTab() {
  const topology = useStore((s) => s.topology);
  const ok = hasCapability(topology, 'market.list');
  const canSearch = hasCapability(topology, 'market.search');
  const me = topology && topology.node && topology.node.node_id;
  const [posts, setPosts] = useState([]);
  const [category, setCategory] = useState('');
  const [tag, setTag] = useState('');
  const [query, setQuery] = useState('');
  const [searched, setSearched] = useState('');
  const [form, setForm] = useState(null);
  const [shown, setShown] = useState(PAGE);
  const [cursor, setCursor] = useState(null);  // next_cursor of the last page fetched
  const sentinel = useRef(null);
  const seq = useRef(0);
  const fetching = useRef(false);
  const listInput = (more) => {
    const input = { limit: FETCH };
    if (category) input.category = category;
    if (tag.trim()) input.tags = [tag.trim().toLowerCase()];
    if (more) input.cursor = more;
    return input;
  };
  const listed = useRef(0);
  listed.current = posts.length;
  // keep: a reload after a push asks again for as many posts as are listed (the list does not shrink).
  const load = (q = searched, keep = false) => {
    const n = ++seq.current;
    const input = listInput(null);
    if (keep) input.limit = Math.min(500, Math.max(FETCH, Math.ceil(listed.current / FETCH) * FETCH));
    const p = q && canSearch ? call('market.search', { params: {}, input: { query: q, k: 50 } })
      : call('market.list', { params: {}, input });
    p.then((r) => {
      if (n !== seq.current) return;  // an older answer after a newer request
      let list = (r.output && r.output.posts) || [];
      if (q) list = list.filter((x) => (!category || x.category === category) && (!tag.trim() || (x.tags || []).includes(tag.trim().toLowerCase())));
      setPosts(list);
      setCursor(q ? null : (r.output && r.output.next_cursor) || null);
    }).catch(toast);
  };
  // The next page of the list, when the reader has reached the end of what is fetched.
  const more = () => {
    if (!cursor || fetching.current || searched) return;
    const n = seq.current;
    fetching.current = true;
    call('market.list', { params: {}, input: listInput(cursor) }).then((r) => {
      if (n !== seq.current) return;
      const page = (r.output && r.output.posts) || [];
      setPosts((list) => {
        const have = new Set(list.map((x) => x.event_id));
        return list.concat(page.filter((x) => !have.has(x.event_id)));
      });
      setCursor((r.output && r.output.next_cursor) || null);
    }).catch(toast).finally(() => { fetching.current = false; });
  };
  const pending = useRef(null);
  const reload = () => {
    if (pending.current) return;
    pending.current = setTimeout(() => { pending.current = null; load(searched, true); }, 200);
  };
  useEffect(() => () => clearTimeout(pending.current), []);
  useEffect(() => { if (ok) load(); setShown(PAGE); }, [ok, category, tag]);
  useEffect(() => onPubsub((m) => { if (m.topic.startsWith('marketplace.post.') && ok) reload(); }), [ok, category, tag, searched]);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !('IntersectionObserver' in window)) return;
    const io = new IntersectionObserver((es) => {
      if (!es.some((e) => e.isIntersecting)) return;
      if (posts.length > shown) setShown((s) => s + PAGE);
      else more();
    }, { rootMargin: '600px' });
    io.observe(el);
    return () => io.disconnect();
  }, [posts.length > shown || !!cursor, shown, cursor]);
  if (!topology) return <section class="tab market"><p class="muted">Verbinde …</p></section>;
  if (!ok) return <section class="tab market"><Unavailable what="market.list" /></section>;
  const expire = async (post, reason) => {
    try {
      await callSelf('market.expire', { params: {}, input: { client_id: newClientId(), event_id: post.event_id, reason } });
      setPosts((list) => list.filter((p) => p.event_id !== post.event_id));
      toast({ code: 'ok', message: reason === 'fulfilled' ? 'Als erledigt markiert' : 'Zurückgezogen' }, 'info');
    } catch (e) { toast(e); }
  };
  const search = (e) => { e.preventDefault(); setSearched(query.trim()); setShown(PAGE); load(query.trim()); };
  return (
    <section class="tab market">
      <div class="row filters">
        <select value={category} onChange={(e) => setCategory(e.target.value)} aria-label="Kategorie" data-testid="market-category">
          <option value="">Alle Kategorien</option>
          {CATEGORIES.map((c) => <option key={c} value={c}>{CATEGORY_LABEL[c]}</option>)}
        </select>
        <input value={tag} onInput={(e) => setTag(e.target.value)} placeholder="Tag" aria-label="Tag" data-testid="market-tag" size={10} />
        <form onSubmit={search} class="row search">
          <input type="search" value={query} onInput={(e) => { setQuery(e.target.value); if (!e.target.value && searched) { setSearched(''); load(''); } }}
            placeholder={canSearch ? 'Suchen …' : 'Suche nicht verfügbar'} disabled={!canSearch} aria-label="Suche" data-testid="market-search" />
        </form>
        <button onClick={() => setForm({ category: 'offer', title: '', body: '', tags: '', ttl_days: 7 })} data-testid="market-new">Neuer Beitrag</button>
      </div>
      {form && <NewPost form={form} setForm={setForm} done={() => { setForm(null); load(); }} />}
      <p class="muted count" data-testid="market-count" data-count={posts.length}>{posts.length}{cursor && !searched ? '+' : ''} Beiträge{searched && ` zu „${searched}“`}</p>
      <div class="cards">
        {posts.slice(0, shown).map((p) => <PostCard key={p.event_id} p={p} mine={p.author === me} expire={expire} />)}
        {posts.length === 0 && <p class="muted">Keine Beiträge.</p>}
      </div>
      {(posts.length > shown || (cursor && !searched)) && <div ref={sentinel} class="more">
        <button onClick={() => (posts.length > shown ? setShown(shown + PAGE) : more())}>Mehr anzeigen</button></div>}
    </section>
  );
}

// One card; redrawn only when its post (or whether it is ours) changes.
const PostCard = memo(({ p, mine, expire }) => (
  <article class={`card cat-${p.category}`} data-testid="post-card" data-event-id={p.event_id}>
    <header><span class="tag">{CATEGORY_LABEL[p.category] || p.category}</span> <strong class="post-title">{p.title}</strong></header>
    <p>{p.body}</p>
    <footer class="muted">
      {(p.tags || []).map((t) => <span key={t} class="tag">#{t}</span>)} · {mine ? 'ich' : shortId(p.author)} · {fmtTime(p.created_at)}
      {mine && <span class="row own">
        <button onClick={() => expire(p, 'fulfilled')} data-testid="post-fulfilled">Erledigt</button>
        <button onClick={() => expire(p, 'withdrawn')} data-testid="post-withdraw">Zurückziehen</button></span>}
    </footer>
  </article>
), (a, b) => a.p === b.p && a.mine === b.mine);

function NewPost({ form, setForm, done }) {
  const [errors, setErrors] = useState({});
  const [sending, setSending] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    const errs = validatePost(form);
    setErrors(errs);
    if (Object.keys(errs).length || sending) return;
    setSending(true);
    try {
      await callSelf('market.post', { params: {}, input: {
        client_id: newClientId(), category: form.category, title: form.title.trim(), body: form.body.trim(),
        tags: splitTags(form.tags), ttl_seconds: Math.round(Number(form.ttl_days) * 86400) } });
      done();
    } catch (err) { toast(err); } finally { setSending(false); }
  };
  const err = (k) => errors[k] && <em class="error" data-testid={`error-${k}`}>{errors[k]}</em>;
  return (
    <form class="modal-form" onSubmit={submit} data-testid="market-form" noValidate>
      <Field label="Kategorie"><select value={form.category} onChange={set('category')} data-testid="post-category">{CATEGORIES.map((c) => <option key={c} value={c}>{CATEGORY_LABEL[c]}</option>)}</select></Field>
      <Field label="Titel"><input value={form.title} onInput={set('title')} data-testid="post-title" />{err('title')}</Field>
      <Field label="Text"><textarea value={form.body} onInput={set('body')} data-testid="post-body" />{err('body')}</Field>
      <Field label="Tags (Komma)"><input value={form.tags} onInput={set('tags')} data-testid="post-tags" />{err('tags')}</Field>
      <Field label="Gültig (Tage)"><input type="number" value={form.ttl_days} onInput={set('ttl_days')} data-testid="post-ttl" />{err('ttl_days')}</Field>
      <div class="row"><button type="submit" data-testid="post-submit" disabled={sending}>Veröffentlichen</button><button type="button" onClick={() => setForm(null)}>Abbrechen</button></div>
    </form>
  );
}
