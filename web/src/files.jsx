// files.jsx — the Files tab (M08 §5.5, M07): upload with a progress bar (the page chunks
// and hashes, `file.put` stores — upload.js), the list of what this node and its peers hold
// (`file.list` with detail and remote: name, size, holders, pinned), pin / unpin
// (`file.pin`), download and preview of images, PDF (at a page: a RAG source opens here as
// `#files?cid=…&page=N`) and text (blobs.js: `file.fetch` + `file.read`).
import { useEffect, useRef, useState } from 'preact/hooks';
import { callSelf, shortId } from './api.js';
import { loadBlob, saveBlob } from './blobs.js';
import { hasCapability, toast, useStore } from './store.js';
import { Unavailable, fmtBytes } from './ui.jsx';
import { uploadFile } from './upload.js';

const linkFromHash = () => {
  const q = new URLSearchParams(location.hash.split('?')[1] || '');
  return q.get('cid') ? { cid: q.get('cid'), page: Number(q.get('page')) || 1 } : null;
};
const TEXT_TYPES = /^(text\/|application\/(json|xml|toml|x-sh))/;

export function FilesTab() {
  const topology = useStore((s) => s.topology);
  const ok = hasCapability(topology, 'file.list');
  const canPut = hasCapability(topology, 'file.put');
  const [entries, setEntries] = useState(null);
  const [preview, setPreview] = useState(null);
  const [progress, setProgress] = useState(null);  // {label, done, total}
  const [drag, setDrag] = useState(false);
  const names = {};
  for (const p of (topology && topology.peers) || []) names[p.node_id] = p.display_name || p.short_id;
  if (topology && topology.node) names[topology.node.node_id] = `${topology.node.display_name} (ich)`;
  const peersKey = ((topology && topology.peers) || []).map((p) => p.node_id).join();

  const load = () => callSelf('file.list', { params: {}, input: { detail: true, remote: true } })
    .then((r) => setEntries((r.output && r.output.entries) || [])).catch((e) => { setEntries([]); toast(e); });
  useEffect(() => { if (ok) load(); }, [ok, peersKey]);

  const show = async (cid, page = 1) => {
    try {
      setProgress({ label: 'Lade …', done: 0, total: 1 });
      const { blob, name } = await loadBlob(cid, { onProgress: (p) => setProgress({ label: p.phase === 'fetch' ? 'Hole von den Nachbar*innen …' : 'Lade …', done: p.done, total: p.total }) });
      setProgress(null);
      if (preview && preview.url) URL.revokeObjectURL(preview.url);
      const url = URL.createObjectURL(blob);
      const text = TEXT_TYPES.test(blob.type) ? await blob.slice(0, 256 * 1024).text() : null;
      setPreview({ cid, name, url, type: blob.type, page, text, blob });
      load();
    } catch (e) { setProgress(null); toast(e); }
  };
  const lastLink = useRef(null);
  useEffect(() => {
    const open = () => {
      const link = linkFromHash();
      if (link && ok && JSON.stringify(link) !== lastLink.current) { lastLink.current = JSON.stringify(link); show(link.cid, link.page); }
    };
    open();
    addEventListener('hashchange', open);
    return () => removeEventListener('hashchange', open);
  }, [ok]);
  if (!topology) return <section class="tab files"><p class="muted">Verbinde …</p></section>;
  if (!ok) return <section class="tab files"><Unavailable what="file.list" /></section>;

  const put = async (files) => {
    for (const f of files) {
      try {
        setProgress({ label: `${f.name}: prüfe …`, done: 0, total: f.size || 1 });
        await uploadFile(f, { onProgress: (p) => setProgress({ label: `${f.name}: ${p.phase === 'hash' ? 'prüfe' : 'lade hoch'} …`, done: p.done, total: p.total || 1 }) });
        toast({ code: 'ok', message: `${f.name} gespeichert` }, 'info');
      } catch (e) { toast(e); }
    }
    setProgress(null);
    load();
  };
  const download = async (e) => {
    try {
      const { blob, name } = await loadBlob(e.cid, { onProgress: (p) => setProgress({ label: 'Lade …', done: p.done, total: p.total }) });
      setProgress(null);
      saveBlob(blob, e.name || name || e.cid.replace(':', '_'));
      load();
    } catch (err) { setProgress(null); toast(err); }
  };
  const pin = async (e) => {
    try {
      await callSelf('file.pin', { params: {}, input: { cid: e.cid, pinned: !e.pinned } });
      load();
    } catch (err) { toast(err); }
  };
  return (
    <section class="tab files">
      {canPut && (
        <label class={`dropzone ${drag ? 'drag' : ''}`} data-testid="file-drop"
          onDragOver={(e) => { e.preventDefault(); setDrag(true); }} onDragLeave={() => setDrag(false)}
          onDrop={(e) => { e.preventDefault(); setDrag(false); put([...e.dataTransfer.files]); }}>
          <strong>Datei hochladen</strong> <span class="muted">— hierher ziehen oder auswählen</span>
          <input type="file" multiple data-testid="file-upload" onChange={(e) => { const f = [...e.target.files]; e.target.value = ''; put(f); }} />
        </label>
      )}
      {progress && <div class="progress"><small>{progress.label}</small><progress value={progress.done} max={progress.total} data-testid="file-progress" /></div>}
      <div class="row"><button onClick={load} data-testid="files-refresh">Aktualisieren</button></div>
      <div class="table-scroll">
        <table class="grid files-table">
          <thead><tr><th>Name</th><th>Größe</th><th>Bei</th><th>Angeheftet</th><th /></tr></thead>
          <tbody>
            {(entries || []).map((e) => (
              <tr key={e.cid} data-testid="file-row" data-cid={e.cid} data-local={e.local ? 'yes' : 'no'}>
                <td><span class="file-name">{e.name || shortId(e.cid.replace('blake3:', ''))}</span><br /><code class="muted" title={e.cid}>{e.cid.slice(0, 19)}…</code></td>
                <td>{e.size_bytes != null ? fmtBytes(e.size_bytes) : '—'}</td>
                <td data-testid="file-holders">{(e.holders || []).map((h) => names[h] || shortId(h)).join(', ')}</td>
                <td>{e.local ? <input type="checkbox" checked={!!e.pinned} onChange={() => pin(e)} aria-label="angeheftet" data-testid="file-pin" /> : '—'}</td>
                <td><div class="row">
                  <button onClick={() => show(e.cid)} data-testid="file-preview">Ansehen</button>
                  <button onClick={() => download(e)} data-testid="file-download">Herunterladen</button>
                </div></td>
              </tr>
            ))}
            {entries && entries.length === 0 && <tr><td colSpan={5} class="muted">Keine Dateien.</td></tr>}
            {!entries && <tr><td colSpan={5} class="muted">Lade …</td></tr>}
          </tbody>
        </table>
      </div>
      {preview && (
        <div class="preview panel" data-testid="file-preview-pane" data-type={preview.type}>
          <header class="row"><strong>{preview.name || preview.cid}</strong>
            <button onClick={() => saveBlob(preview.blob, preview.name || preview.cid)}>Herunterladen</button>
            <button onClick={() => { URL.revokeObjectURL(preview.url); setPreview(null); history.replaceState(null, '', '#files'); lastLink.current = null; }}>Schließen</button></header>
          {preview.type.startsWith('image/') && <img src={preview.url} alt={preview.name || preview.cid} data-testid="preview-image" />}
          {preview.type === 'application/pdf' && <iframe src={`${preview.url}#page=${preview.page}`} title="PDF" data-testid="preview-pdf" />}
          {preview.text !== null && <pre data-testid="preview-text">{preview.text}</pre>}
          {!preview.type.startsWith('image/') && preview.type !== 'application/pdf' && preview.text === null && <p class="muted">Keine Vorschau für {preview.type}.</p>}
        </div>
      )}
    </section>
  );
}
