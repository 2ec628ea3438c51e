// ui_bench.mjs — the dashboard's weight and start (issue #16 benchmarks, bench/RESULTS.md
// "UI"): gzipped bytes of the JS + CSS the page loads, and navigation → first usable Ask
// box (the input enabled: the mesh's llm.chat is known) on loopback in Debian's Chromium,
// against a real node serving the tiny llama model (tests/models; without it the box is
// waited for present only); as a ratio to the baseline measured in the same session:
// navigating to a tiny file of the same server (the browser + loopback floor). Where the
// time goes: the page's own marks (navigation timing, app.js executed, /api/session
// answered, first topology push) as medians. Usage: node bench/ui_bench.mjs [runs]
// (HEARTHNET_BIN and HN_TEST_MODELS_DIR, as for the browser tests).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Node, TEST_MODELS, launchBrowser, missingTools } from '../tests/browser/harness.mjs';

const runs = Number(process.argv[2] || 9);
const missing = missingTools();
if (missing.length) { console.error(`missing ${missing.join(', ')}`); process.exit(1); }
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

const model = join(TEST_MODELS, 'tiny-llama.gguf');
const withModel = existsSync(model);
const node = new Node('bench-ui', {
  config: withModel ? `[[llm.backends]]\nname = "llama_cpp"\nurl = "${model}"\nmax_concurrent = 1\nctx = 512\n` : '',
});
node.start();
const url = await node.url();
const base = url.split('?')[0];
const browser = await launchBrowser();
const ready = withModel ? '[data-testid=ask-input]:not([disabled])' : '[data-testid=ask-input]';
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(url);  // sets the session cookie
  await page.waitForSelector(ready, { timeout: 120000 });  // the model is loaded
  const bytes = {};
  for (const f of ['app.js', 'app.css']) {
    const raw = Buffer.from(await page.evaluate(async (p) => Array.from(new Uint8Array(await (await fetch(p)).arrayBuffer())), `/${f}`));
    bytes[f] = { raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
  }
  const ask = [], floor = [], marks = [];
  for (let i = 0; i < runs; i++) {
    let t0 = performance.now();
    await page.goto(`${base}manifest.webmanifest`);
    floor.push(performance.now() - t0);
    t0 = performance.now();
    await page.goto(base);
    await page.waitForSelector(ready);
    ask.push(performance.now() - t0);
    marks.push(await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const mark = (n) => { const m = performance.getEntriesByName(n)[0]; return m ? m.startTime : null; };
      const res = (n) => { const r = performance.getEntriesByType('resource').find((x) => x.name.endsWith(n)); return r ? r.responseEnd : null; };
      return { html: nav.responseEnd, app_js: res('/app.js'), dom_content_loaded: nav.domContentLoadedEventEnd,
        session: mark('hn-session'), boot_topology: mark('hn-boot-topology'), pushed_topology: mark('hn-topology'),
        ask_enabled: mark('hn-ask-ready'), seen_by_playwright: performance.now() };
    }));
  }
  const gz = bytes['app.js'].gzip + bytes['app.css'].gzip;
  const where = {};
  for (const k of Object.keys(marks[0])) where[k] = Math.round(median(marks.map((m) => m[k] ?? NaN)));
  const result = {
    js_gzip_bytes: bytes['app.js'].gzip, css_gzip_bytes: bytes['app.css'].gzip, total_gzip_bytes: gz,
    js_raw_bytes: bytes['app.js'].raw, css_raw_bytes: bytes['app.css'].raw,
    ask_box_ms_median: Math.round(median(ask)), baseline_ms_median: Math.round(median(floor)),
    ratio: +(median(ask) / median(floor)).toFixed(2), runs, usable_means: withModel ? 'enabled (llm.chat known)' : 'present',
    page_marks_ms_median: where,
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  await browser.close();
  await node.stop();
  node.remove();
}
