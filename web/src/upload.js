// upload.js — a browser file into the node's blob store through `file.put@1.0` (M07;
// doc/design/files.md "file.put's upstream is a sequence of calls"), exactly what
// `hearthnet file put` does: the page chunks the file into CHUNK_SIZE_BYTES pieces, names
// each by its BLAKE3 CID and the blob by its manifest CID (blobs/chunker.h), sends the
// manifest, then the chunks the node says it needs, at most PUT_MAX_CHUNKS_PER_CALL a call.
// The node verifies every chunk and the manifest; nothing here is trusted by it.
import { blake3 } from '@noble/hashes/blake3.js';
import { ApiError, callSelf } from './api.js';

export const CHUNK_SIZE_BYTES = 262144;      // M07, 256 KiB
const PUT_MAX_CHUNKS_PER_CALL = 8;           // services/files/frames.h

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
export const cidOf = (bytes) => `blake3:${hex(blake3(bytes))}`;

// CONTRACT §1 "Binary content": base64url without padding.
export function toBase64Url(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
export function fromBase64Url(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const readSlice = async (file, i) => new Uint8Array(await file.slice(i * CHUNK_SIZE_BYTES, (i + 1) * CHUNK_SIZE_BYTES).arrayBuffer());

// The blob manifest of a File (blobs/chunker.h): the manifest CID is BLAKE3 over the
// canonical JSON of {chunk_size_bytes, chunks: [cid…], size_bytes} — keys already in
// RFC 8785 order, integers and ASCII strings only, so JSON.stringify writes those bytes.
export async function manifestOf(file, onProgress) {
  const n = Math.ceil(file.size / CHUNK_SIZE_BYTES);
  const chunks = [];
  for (let i = 0; i < n; i++) {
    const bytes = await readSlice(file, i);
    chunks.push({ i, cid: cidOf(bytes), size_bytes: bytes.length });
    if (onProgress) onProgress(i + 1, n);
  }
  const projection = JSON.stringify({ chunk_size_bytes: CHUNK_SIZE_BYTES, chunks: chunks.map((c) => c.cid), size_bytes: file.size });
  const manifest = { cid: cidOf(new TextEncoder().encode(projection)), size_bytes: file.size, chunk_size_bytes: CHUNK_SIZE_BYTES, chunks };
  if (file.type) manifest.mime_type = file.type;
  if (file.name) manifest.filename = file.name;
  return manifest;
}

// Puts a File on this node; onProgress({phase: 'hash'|'send', done, total}) in bytes.
// Resolves with {cid, size_bytes, chunks, sent}; rejects with the node's ApiError.
export async function uploadFile(file, { pin = false, onProgress } = {}) {
  const report = (phase, done, total) => onProgress && onProgress({ phase, done, total });
  const manifest = await manifestOf(file, (i, n) => report('hash', i, n));
  const put = (chunks) => callSelf('file.put', { params: {}, input: chunks ? { manifest, chunks, pin } : { manifest, pin } });
  let r = await put(null);
  const needed = ((r.output && r.output.needed) || []).slice();
  const total = needed.reduce((s, i) => s + manifest.chunks[i].size_bytes, 0);
  let sent = 0;
  report('send', 0, total);
  while (needed.length) {
    const batch = needed.splice(0, PUT_MAX_CHUNKS_PER_CALL);
    const frames = [];
    for (const i of batch) {
      const bytes = await readSlice(file, i);
      frames.push({ i, cid: manifest.chunks[i].cid, data_b64: toBase64Url(bytes) });
      sent += bytes.length;
    }
    r = await put(frames);
    report('send', sent, total);
  }
  if (!(r.output && r.output.complete)) {
    throw new ApiError('internal_error', 'the node did not store the whole file', { cid: manifest.cid, needed: r.output && r.output.needed });
  }
  return { cid: manifest.cid, size_bytes: file.size, chunks: manifest.chunks.length, sent, name: file.name, mime_type: file.type };
}
