// ui_bench.mjs — the dashboard's weight and start (issue #16 benchmarks, bench/RESULTS.md
// "UI"): gzipped bytes of the JS + CSS the page loads, and navigation → first usable Ask
// box on loopback in Debian's Chromium, against a real node; as a ratio to the baseline
// measured in the same session: navigating to a tiny file of the same server (the
// browser + loopback floor). Usage: node bench/ui_bench.mjs [runs]  (HEARTHNET_BIN, as
// for the browser tests).
import { gzipSync } from 'node:zlib';
import { Node, launchBrowser, missingTools } from '../tests/browser/harness.mjs';

const runs = Number(process.argv[2] || 9);
const missing = missingTools();
if (missing.length) { console.error(`missing ${missing.join(', ')}`); process.exit(1); }
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const node = new Node('bench-ui');
node.start();
const url = await node.url();
const base = url.split('?')[0];
const browser = await launchBrowser();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(url);  // sets the session cookie
  const bytes = {};
  for (const f of ['app.js', 'app.css']) {
    const body = await page.evaluate(async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer()).length, `/${f}`);
    const raw = Buffer.from(await page.evaluate(async (p) => await (await fetch(p)).text(), `/${f}`));
    bytes[f] = { raw: body, gzip: gzipSync(raw, { level: 9 }).length };
  }
  const ask = [], floor = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await page.goto(`${base}manifest.webmanifest`);
    floor.push(performance.now() - t0);
    t0 = performance.now();
    await page.goto(base);
    await page.waitForSelector('[data-testid=ask-input]');
    ask.push(performance.now() - t0);
  }
  const gz = bytes['app.js'].gzip + bytes['app.css'].gzip;
  const result = {
    js_gzip_bytes: bytes['app.js'].gzip, css_gzip_bytes: bytes['app.css'].gzip, total_gzip_bytes: gz,
    js_raw_bytes: bytes['app.js'].raw, css_raw_bytes: bytes['app.css'].raw,
    ask_box_ms_median: Math.round(median(ask)), baseline_ms_median: Math.round(median(floor)),
    ratio: +(median(ask) / median(floor)).toFixed(2), runs,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  await node.stop();
  node.remove();
}
