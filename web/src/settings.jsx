// settings.jsx — Settings (M08 §5.2) and the first-run wizard (M08 §8.5 → M13): identity,
// members and levels, community policy, invites as QR + text, theme, erase; create or join.
import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { setTheme, toast, useStore } from './store.js';
import { nodesOf } from './topology.jsx';
import { Copyable, Field, Qr, Spinner, fmtTime } from './ui.jsx';

// The mesh's AI providers (llm.chat, embed.text) with their models, node by node, and this
// node's own backends as its llm service reports them (status → services.llm.health).
// The node's log level, changed at once (POST /node/v1/log-level) until the node restarts;
// `[observability] log_level` in config.toml is the one it starts with.
const LEVELS = ['debug', 'info', 'warning', 'error'];
function LogLevel({ current }) {
  const [level, setLevel] = useState(null);
  const shown = level || current || 'info';
  const change = async (e) => {
    const want = e.target.value;
    try {
      const r = await api('/api/node/log-level', { method: 'POST', body: { level: want } });
      setLevel(r.level);
      toast({ code: 'ok', message: `Log-Level ${r.level} (vorher ${r.was})` }, 'info');
    } catch (err) { toast(err); }
  };
  return (
    <div>
      <Field label="Log-Level"><select value={shown} onChange={change} data-testid="log-level">{LEVELS.map((l) => <option key={l}>{l}</option>)}</select></Field>
      <p class="muted">Gilt sofort, bis zum nächsten Start; beim Start gilt <code>[observability] log_level</code> aus config.toml. <code>hearthnet log --follow</code> zeigt die Zeilen.</p>
    </div>
  );
}

function Backends({ topology, status }) {
  const names = {};
  for (const n of nodesOf(topology)) names[n.id] = n.name;
  const rows = ((topology && topology.capabilities) || [])
    .filter((c) => c.name === 'llm.chat' || c.name === 'embed.text' || c.name.startsWith('rag.'))
    .map((c) => {
      const p = c.params || {};
      const models = [...new Set([p.model, ...(Array.isArray(p.models) ? p.models : [])].filter(Boolean))];
      return { key: `${c.node_id}/${c.name}`, node: names[c.node_id] || c.node_id, name: c.name, models };
    });
  const health = (status && status.services && status.services.llm && status.services.llm.health) || null;
  const failed = (health && health.backends_failed) || [];
  return (
    <>
      <table class="grid" data-testid="backends">
        <thead><tr><th>Knoten</th><th>Fähigkeit</th><th>Modelle</th></tr></thead>
        <tbody>
          {rows.map((r) => <tr key={r.key}><td>{r.node}</td><td><code>{r.name}</code></td><td>{r.models.join(', ') || '—'}</td></tr>)}
          {rows.length === 0 && <tr><td colSpan={3} class="muted">Kein Sprachmodell im Netz.</td></tr>}
        </tbody>
      </table>
      {failed.length > 0 && (
        <ul class="error" data-testid="backends-failed">
          {failed.map((f, i) => <li key={i}>{typeof f === 'string' ? f : `${f.name || ''}: ${f.error || JSON.stringify(f)}`}</li>)}
        </ul>
      )}
      <p class="muted">Backends stehen in <code>[[llm.backends]]</code> der config.toml (wirkt nach Neustart).</p>
    </>
  );
}

const POLICY_FIELDS = [
  ['min_signatures_to_invite', 'Signaturen für Einladung', 'number'],
  ['min_signatures_to_demote', 'Signaturen für Herabstufung', 'number'],
  ['min_signatures_to_revoke', 'Signaturen für Ausschluss', 'number'],
  ['default_member_can_invite', 'Mitglieder dürfen einladen', 'checkbox'],
  ['federation_enabled', 'Föderation erlaubt', 'checkbox'],
];

function PolicyForm({ policy, onSave, onChange, saveLabel = 'Speichern' }) {
  const [p, setPRaw] = useState(policy || {});
  const setP = (next) => { setPRaw(next); if (onChange) onChange(next); };
  useEffect(() => setPRaw(policy || {}), [JSON.stringify(policy)]);
  return (
    <form class="policy" onSubmit={(e) => { e.preventDefault(); onSave(p); }}>
      {POLICY_FIELDS.map(([k, label, type]) => (
        <Field key={k} label={label}>
          {type === 'checkbox'
            ? <input type="checkbox" checked={!!p[k]} onChange={(e) => setP({ ...p, [k]: e.target.checked })} />
            : <input type="number" min={1} max={10} value={p[k] ?? ''} onInput={(e) => setP({ ...p, [k]: Number(e.target.value) })} />}
        </Field>
      ))}
      {onSave && <button type="submit">{saveLabel}</button>}
    </form>
  );
}

export function SettingsTab() {
  const theme = useStore((s) => s.theme);
  const topology = useStore((s) => s.topology);
  const [status, setStatus] = useState(null);
  const [community, setCommunity] = useState(null);
  const [policy, setPolicy] = useState(null);
  const [invitee, setInvitee] = useState('');
  const [level, setLevel] = useState('member');
  const [invite, setInvite] = useState(null);
  const [erase, setErase] = useState(0);
  const load = () => {
    api('/api/node/status').then(setStatus).catch(toast);
    api('/api/community/manifest').then(setCommunity).catch(toast);
    api('/api/node/community/policy').then((r) => setPolicy(r.policy)).catch(toast);
  };
  useEffect(load, []);
  const makeInvite = async (e) => {
    e.preventDefault();
    try {
      setInvite(await api('/api/node/invite', { method: 'POST', body: { invitee: invitee.trim(), level, ttl_seconds: 86400 } }));
    } catch (err) { toast(err); }
  };
  const savePolicy = async (p) => {
    try {
      const r = await api('/api/node/community/policy', { method: 'POST', body: { set: p } });
      setPolicy(r.policy);
      toast({ code: 'ok', message: 'Richtlinie gespeichert' }, 'info');
    } catch (err) { toast(err); }
  };
  const confirmErase = async () => {
    if (erase < 2) { setErase(erase + 1); return; }
    try {
      await api('/api/node/shutdown', { method: 'POST', body: {} });
      setErase(3);
    } catch (err) { toast(err); }
  };
  const node = (status && status.node) || (topology && topology.node) || {};
  const names = {};
  for (const n of nodesOf(topology)) names[n.id] = n.name;
  return (
    <section class="tab settings">
      <div class="panel">
        <h3>Identität</h3>
        <dl>
          <dt>Name</dt><dd data-testid="node-name">{node.display_name}</dd>
          <dt>Kurz-ID</dt><dd><code>{node.short_id}</code></dd>
          <dt>Node-ID</dt><dd><code class="wrap">{node.node_id}</code></dd>
          <dt>Profil</dt><dd>{node.profile}</dd>
          <dt>Version</dt><dd>{node.version}</dd>
        </dl>
      </div>
      <div class="panel">
        <h3>Gemeinschaft {community && `„${community.name}“`}</h3>
        <table class="grid members" data-testid="members">
          <thead><tr><th>Mitglied</th><th>Stufe</th><th>seit</th></tr></thead>
          <tbody>
            {((community && community.members) || []).map((m) => (
              <tr key={m.node_id}><td>{names[m.node_id] ? <strong>{names[m.node_id]} </strong> : null}<code>{m.node_id.slice(8, 20)}</code>{m.node_id === node.node_id && ' (ich)'}</td><td>{m.level}</td><td>{fmtTime(m.added_at)}</td></tr>
            ))}
          </tbody>
        </table>
        <h4>Richtlinie</h4>
        {policy ? <PolicyForm policy={policy} onSave={savePolicy} /> : <Spinner />}
      </div>
      <div class="panel">
        <h3>Einladen</h3>
        <p class="muted">Das neue Gerät zeigt seine ID als QR-Code; füge sie hier ein.</p>
        <form onSubmit={makeInvite}>
          <Field label="ID des neuen Geräts"><input value={invitee} onInput={(e) => setInvitee(e.target.value)} data-testid="invitee" placeholder="hearthnet-id://v1/… oder ed25519:…" /></Field>
          <Field label="Stufe"><select value={level} onChange={(e) => setLevel(e.target.value)}><option>member</option><option>trusted</option></select></Field>
          <button type="submit" data-testid="create-invite">Einladung erstellen</button>
        </form>
        {invite && (
          <div class="invite" data-testid="invite">
            <Qr text={invite.invite} label="Einladung" />
            <Copyable text={invite.invite} testid="invite-text" />
            <small class="muted">gültig bis {fmtTime(invite.expires_at)}</small>
          </div>
        )}
      </div>
      <div class="panel">
        <h3>Backends und Modelle</h3>
        <Backends topology={topology} status={status} />
      </div>
      <div class="panel">
        <h3>Darstellung</h3>
        <div class="row">
          <button class={theme === 'hearth' ? 'active' : ''} onClick={() => setTheme('hearth')} data-testid="theme-hearth">Hearth</button>
          <button class={theme === 'spark' ? 'active' : ''} onClick={() => setTheme('spark')} data-testid="theme-spark">Spark</button>
        </div>
        <h3>Protokoll</h3>
        <LogLevel current={node.log_level} />
        <h3>Gemeinschaft wechseln</h3>
        <p class="muted">Neu gründen oder mit einer Einladung beitreten geht nach dem Löschen: der Knoten startet dann mit dem Einrichtungsassistenten.</p>
      </div>
      <div class="panel danger-zone">
        <h3>Alle Daten löschen</h3>
        {erase < 3 ? (
          <>
            <p>Schlüssel, Ereignisprotokoll, Dateien — unwiderruflich. Bestätige dreimal.</p>
            <button class="danger" onClick={confirmErase} data-testid="erase">
              {['Löschen …', 'Wirklich löschen? (2/3)', 'Letzte Bestätigung (3/3)'][erase]}
            </button>
            {erase > 0 && <button onClick={() => setErase(0)}>Abbrechen</button>}
          </>
        ) : (
          <p>Der Knoten hält an. Lösche nun mit <code>hearthnet erase --yes</code>; <code>make run</code> startet danach den Einrichtungsassistenten.</p>
        )}
      </div>
    </section>
  );
}

// ---- First run (M13) ------------------------------------------------------------------
async function waitForNode() {
  for (let i = 0; i < 240; i++) {
    try {
      const s = await api('/api/session');
      if (s.mode === 'node') return true;
    } catch { /* the server restarts between the modes */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

export function Onboarding() {
  const [setup, setSetup] = useState(null);
  const [mode, setMode] = useState(null);  // 'create' | 'join'
  const [name, setName] = useState('');
  const [policy, setPolicy] = useState({ min_signatures_to_invite: 1, min_signatures_to_demote: 3, min_signatures_to_revoke: 3, default_member_can_invite: true, federation_enabled: true });
  const [invite, setInvite] = useState('');
  const [working, setWorking] = useState(null);
  useEffect(() => { api('/api/setup/state').then(setSetup).catch(toast); }, []);
  const finish = async (afterNode) => {
    setWorking('Knoten startet …');
    if (!(await waitForNode())) { setWorking(null); toast({ code: 'timeout', message: 'Der Knoten ist nicht gestartet' }); return; }
    if (afterNode) await afterNode();
    location.replace('/');
  };
  const create = async (e) => {
    e.preventDefault();
    if (!name.trim()) { toast({ code: 'bad_request', message: 'Name fehlt' }); return; }
    try {
      setWorking('Gemeinschaft wird gegründet …');
      await api('/api/setup/create', { method: 'POST', body: { name: name.trim() } });
      await finish(async () => {
        const r = await api('/api/node/community/policy');
        const changed = Object.fromEntries(Object.entries(policy).filter(([k, v]) => r.policy[k] !== v));
        if (Object.keys(changed).length) await api('/api/node/community/policy', { method: 'POST', body: { set: changed } });
      });
    } catch (err) { setWorking(null); toast(err); }
  };
  const join = async (e) => {
    e.preventDefault();
    try {
      setWorking('Beitritt läuft …');
      await api('/api/setup/join', { method: 'POST', body: { invite: invite.trim() } });
      await finish();
    } catch (err) { setWorking(null); toast(err); }
  };
  const upload = async (e) => {
    const file = e.target.files[0];
    if (!file) return;
    if (file.type.startsWith('image/') && 'BarcodeDetector' in window) {
      try {
        const codes = await new window.BarcodeDetector({ formats: ['qr_code'] }).detect(await createImageBitmap(file));
        if (codes.length) { setInvite(codes[0].rawValue); return; }
      } catch { /* fall through */ }
      toast({ code: 'bad_request', message: 'Kein QR-Code erkannt — füge den Text der Einladung ein' });
      return;
    }
    setInvite((await file.text()).trim());
  };
  return (
    <main class="onboarding">
      <h1>Willkommen bei HearthNet</h1>
      {working && <p><Spinner label={working} /></p>}
      {!mode && !working && (
        <div class="big-buttons">
          <button class="big" onClick={() => setMode('create')} data-testid="wizard-create">Neue Gemeinschaft gründen</button>
          <button class="big" onClick={() => setMode('join')} data-testid="wizard-join">Mit Einladung beitreten</button>
        </div>
      )}
      {mode === 'create' && !working && (
        <form onSubmit={create} class="panel">
          <Field label="Name der Gemeinschaft"><input value={name} onInput={(e) => setName(e.target.value)} data-testid="community-name" /></Field>
          <h4>Richtlinie</h4>
          <PolicyForm policy={policy} onSave={null} onChange={setPolicy} />
          <div class="row"><button type="submit" data-testid="create-submit">Gründen</button><button type="button" onClick={() => setMode(null)}>Zurück</button></div>
        </form>
      )}
      {mode === 'join' && !working && setup && (
        <form onSubmit={join} class="panel">
          <p>1. Zeige dieses Geräts ID der Person, die dich einlädt:</p>
          <Qr text={setup.id_card} label="Geräte-ID" />
          <Copyable text={setup.id_card} testid="id-card" />
          <p>2. Füge die Einladung ein oder lade sie hoch:</p>
          <textarea rows={3} value={invite} onInput={(e) => setInvite(e.target.value)} data-testid="invite-input" placeholder="hearthnet://v1/…" />
          <input type="file" accept="image/*,.txt" onChange={upload} aria-label="Einladung hochladen" />
          <div class="row"><button type="submit" data-testid="join-submit">Beitreten</button><button type="button" onClick={() => setMode(null)}>Zurück</button></div>
        </form>
      )}
    </main>
  );
}
