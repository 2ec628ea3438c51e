// harness.mjs — real `hearthnet` processes and a real Chromium for the dashboard's browser
// tests and benchmark: scratch homes, `run` in the background, the dashboard URL from
// run/ui.url, playwright-core driving Debian's /usr/bin/chromium. Waits are on conditions
// (a file appears, a selector shows), never fixed sleeps.
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = resolve(here, '../..');
export const BIN = process.env.HEARTHNET_BIN || join(SOURCE_DIR, 'build/dev/app/hearthnet');
export const CHROMIUM = process.env.HN_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.HN_ARTIFACTS || join(SOURCE_DIR, 'build/dev/artifacts/browser');
// The tiny random-weight GGUF models the build generates (tests/models).
export const TEST_MODELS = process.env.HN_TEST_MODELS_DIR || join(SOURCE_DIR, 'build/dev/test-models');
// playwright-core is installed with the dashboard's build dependencies (web/package.json).
const require = createRequire(join(SOURCE_DIR, 'web/package.json'));
export const { chromium } = require('playwright-core');

export function missingTools() {
  const missing = [];
  if (!existsSync(CHROMIUM)) missing.push(CHROMIUM);
  if (spawnSync('zbarimg', ['--version']).error) missing.push('zbarimg');
  if (!existsSync(BIN)) missing.push(BIN);
  return missing;
}

export async function until(what, fn, timeoutMs = 60000, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

// One node home and its `hearthnet run` process.
export class Node {
  // udpPort: UDP multicast discovery on that port (both ways, where the host has
  // multicast); bootstrapPort: a static peer (one way: this node finds that one).
  // port: the transport port (0: any); config: more TOML appended; env: more variables
  // (the emergency detector is off unless env turns it on, so no test probes the public
  // resolvers).
  constructor(name, { found = true, bootstrapPort = null, udpPort = null, port = 0, config = '', env = {} } = {}) {
    this.name = name;
    this.extraEnv = env;
    this.home = mkdtempSync(join(tmpdir(), `hn-ui-${name}-`));
    const peers = bootstrapPort ? `bootstrap_peers = ["127.0.0.1:${bootstrapPort}"]\n` : '';
    writeFileSync(join(this.home, 'config.toml'),
      `[node]\ndisplay_name = "${name}"\n[transport]\nhost = "127.0.0.1"\nport = ${port}\n` +
      `[discovery]\nmdns_enabled = false\n` +
      (udpPort ? `udp_enabled = true\nudp_multicast_group = "239.255.42.98"\nudp_port = ${udpPort}\n` : 'udp_enabled = false\n') +
      peers +
      `[ui]\nhost = "127.0.0.1"\nport = 0\nlaunch_browser = false\n` + config);
    if (found) this.cli(['init', '--non-interactive', '--name', name]);
  }
  env() {
    return {
      ...process.env, HEARTHNET_HOME: this.home, HEARTHNET_STATIC_PEER_INTERVAL_SECONDS: '1',
      HEARTHNET_SYNC_INTERVAL_SECONDS: '2', HEARTHNET_EMERGENCY_DETECTOR: 'off', HEARTHNET_LLAMA_THREADS: '1',
      ...this.extraEnv,
    };
  }
  cli(args) {
    const r = spawnSync(BIN, args, { env: this.env(), encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`hearthnet ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  get urlFile() { return join(this.home, 'run', 'ui.url'); }
  start() {
    rmSync(this.urlFile, { force: true });
    const out = openSync(join(this.home, 'node.out'), 'w');
    this.proc = spawn(BIN, ['run'], { env: this.env(), stdio: ['ignore', out, out] });
    this.proc.on('exit', () => { this.proc = null; });
  }
  // The dashboard URL with its token, once the node (or its wizard) listens.
  async url() {
    return until(`${this.name}'s run/ui.url`, () => existsSync(this.urlFile) && readFileSync(this.urlFile, 'utf8').trim(), 60000);
  }
  port() {
    return Number(readFileSync(join(this.home, 'run', 'control.port'), 'utf8').trim());
  }
  async waitForPort() {
    return until(`${this.name}'s control.port`, () => existsSync(join(this.home, 'run', 'control.port')) && this.port(), 60000);
  }
  output() {
    try { return readFileSync(join(this.home, 'node.out'), 'utf8'); } catch { return ''; }
  }
  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 20000);
    await exited;
    clearTimeout(timer);
  }
  remove() { rmSync(this.home, { recursive: true, force: true }); }
}

// Joins `joiner` (a home without a community, node stopped) to `inviter`'s community (its
// node running) the CLI's way: id card → invite create → invite redeem.
export function joinByCli(inviter, joiner) {
  const card = joiner.cli(['id']).trim().split('\n').find((l) => l.startsWith('hearthnet-id://'));
  const invite = inviter.cli(['invite', 'create', '--node-id', card]).trim().split('\n').find((l) => l.startsWith('hearthnet://'));
  joiner.cli(['invite', 'redeem', invite]);
}

// A free TCP/UDP port below the ephemeral range (a dead server's port is not taken by a
// client's connection meanwhile).
export const somePort = () => 20000 + Math.floor(Math.random() * 30000);

// A DNS resolver on 127.0.0.1 that answers every A query with 192.0.2.1 — the far end of
// the emergency detector's DNS probe (the Node twin of tests/support/probe_servers.h's
// DnsResponder); stop() and start() again on the same port: "the internet dies and returns".
export class DnsResponder {
  constructor(port = somePort()) { this.port = port; this.queries = 0; }
  get target() { return `127.0.0.1:${this.port}`; }
  start() {
    return new Promise((resolve, reject) => {
      const sock = createSocket('udp4');
      sock.on('message', (q, rinfo) => {
        if (q.length < 12) return;
        this.queries++;
        let end = 12;
        while (end < q.length && q[end] !== 0) end += q[end] + 1;
        const question = q.subarray(12, end + 5);  // name, 0, type, class
        const head = Buffer.from([q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
        const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        sock.send(Buffer.concat([head, question, answer]), rinfo.port, rinfo.address);
      });
      sock.once('error', reject);
      sock.bind(this.port, '127.0.0.1', () => { this.sock = sock; resolve(); });
    });
  }
  stop() {
    return new Promise((resolve) => { if (!this.sock) return resolve(); this.sock.close(resolve); this.sock = null; });
  }
}

export async function launchBrowser() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

// Decodes the QR code(s) in a PNG with zbarimg; the first symbol's text.
export function decodeQr(pngPath) {
  const r = spawnSync('zbarimg', ['--raw', '-q', pngPath], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`zbarimg failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n')[0].trim();
}

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 360, height: 740 };
