// ui.jsx — small shared pieces: toasts (M08 §8.3), the state pill and banner (§5.7), the
// "not available on this mesh" notice, QR codes (qrcode-generator), spinners.
import qrcode from 'qrcode-generator';
import { useMemo, useState } from 'preact/hooks';
import { dismiss, useStore } from './store.js';

export function Toasts() {
  const toasts = useStore((s) => s.toasts);
  return (
    <div class="toasts" role="status">
      {toasts.map((t) => <Toast key={t.id} t={t} />)}
    </div>
  );
}

function Toast({ t }) {
  const [open, setOpen] = useState(false);
  const hasDetails = t.details && Object.keys(t.details).length > 0;
  return (
    <div class={`toast toast-${t.kind}`} data-code={t.code}>
      <div class="toast-head">
        <strong class="toast-code">{t.code}</strong>
        <span class="toast-msg">{t.message}</span>
        <button class="icon" aria-label="close" onClick={() => dismiss(t.id)}>×</button>
      </div>
      {hasDetails && (
        <details open={open} onToggle={(e) => setOpen(e.target.open)}>
          <summary>Details</summary>
          <pre>{JSON.stringify(t.details, null, 2)}</pre>
        </details>
      )}
    </div>
  );
}

// online / degraded / offline (M09) as a coloured pill.
export function StatePill({ state }) {
  const label = { online: 'online', degraded: 'eingeschränkt', offline: 'offline' }[state] || state || '…';
  return <span class={`pill pill-${state || 'unknown'}`} data-state={state}>{label}</span>;
}

// M08 §5.7.
export function Banner({ online, peers }) {
  if (!online || online.state === 'online') return null;
  if (online.state === 'degraded') {
    return <div class="banner banner-degraded">EINGESCHRÄNKTE VERBINDUNG · Lokale Dienste aktiv</div>;
  }
  const since = online.since ? new Date(online.since).toLocaleTimeString('de-DE', { hour: '2-digit', minute: '2-digit' }) : '';
  return (
    <div class="banner banner-offline">
      <div class="banner-title">INTERNET OFFLINE — LOKAL AKTIV</div>
      <div>{since && `seit ${since} · `}{peers} Nachbar*innen erreichbar</div>
    </div>
  );
}

export function Unavailable({ what }) {
  return (
    <div class="unavailable" data-unavailable={what}>
      <p><strong>{what}</strong> — not available on this mesh.</p>
      <p class="muted">No node in the community offers this capability yet. The tab lights up as soon as one does.</p>
    </div>
  );
}

export function Spinner({ label }) {
  return <span class="spinner" role="progressbar"><span class="spin" />{label}</span>;
}

// A QR code as an <img> (GIF data URL), error correction M.
export function Qr({ text, label, cell = 4 }) {
  const src = useMemo(() => {
    const qr = qrcode(0, 'M');
    qr.addData(text, 'Byte');
    qr.make();
    return qr.createDataURL(cell, 4);
  }, [text, cell]);
  return <img class="qr" src={src} alt={label || 'QR code'} data-qr-text={text} />;
}

export function Copyable({ text, testid }) {
  return (
    <div class="copyable">
      <textarea readOnly rows={3} data-testid={testid} value={text} />
      <button onClick={() => navigator.clipboard && navigator.clipboard.writeText(text)}>Kopieren</button>
    </div>
  );
}

export function Field({ label, children }) {
  return <label class="field"><span>{label}</span>{children}</label>;
}

export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString('de-DE', { dateStyle: 'short', timeStyle: 'short' }) : '');
export const fmtBytes = (n) => (n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n > 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} B`);
