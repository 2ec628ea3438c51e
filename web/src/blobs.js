// blobs.js — a blob of the mesh into the browser (M07 over the bus): `file.fetch@1.0`
// pulls it into this node's store from every holder (progress frames), then a streamed
// `file.read@1.0` pinned to this node hands its chunks to the page (CONTRACT §4.7:
// manifest, chunk…, done). Used by Files (download, preview) and Chat (attachments).
import { callSelf, stream } from './api.js';
import { cidOf, fromBase64Url } from './upload.js';

// onProgress({phase: 'fetch'|'read', done, total}); resolves with a Blob (its type from
// the manifest's advisory media type) and the manifest's file name.
export async function loadBlob(cid, { onProgress, signal } = {}) {
  const report = (phase, done, total) => onProgress && onProgress({ phase, done, total });
  const here = await callSelf('file.list', { params: {}, input: { prefix: cid } });
  if (!((here.output && here.output.cids) || []).includes(cid)) {
    await stream('file.fetch', { params: {}, input: { cid } }, (event, d) => {
      if (event === 'progress') report('fetch', d.bytes_done || 0, d.bytes_total || 1);
    }, { node: 'self', signal });
  }
  const parts = [];
  let total = 1;
  let done = 0;
  let type = 'application/octet-stream';
  let name = null;
  await stream('file.read', { params: {}, input: { cid } }, (event, d) => {
    if (event === 'manifest') {
      total = (d.chunks || []).length || 1;
      type = d.mime_type || type;
      name = d.filename || null;
    } else if (event === 'chunk') {
      const bytes = fromBase64Url(d.data_b64 || '');
      // CONTRACT §4.7: clients verify each chunk's BLAKE3.
      if (d.cid && cidOf(bytes) !== d.cid) throw new Error(`chunk ${d.i} does not match its CID`);
      parts[d.i] = bytes;
      report('read', ++done, total);
    }
  }, { node: 'self', signal });
  return { blob: new Blob(parts, { type }), name };
}

// Hands a blob to the browser's downloads under its name.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name || 'download';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
