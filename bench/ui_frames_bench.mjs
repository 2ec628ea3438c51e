// ui_frames_bench.mjs — the dashboard with a full mesh (issue #16 benchmarks, bench/RESULTS.md
// "UI"): 1,000 marketplace posts and a 1,000-message chat thread, seeded through bus calls
// (`market.post`, `chat.send` from the page's own /api/call), then tab switches and scrolling
// in Debian's Chromium while a requestAnimationFrame loop records every frame's duration.
// Target: no frame over 100 ms. Baseline in the same session: the same page idle (the
// browser's own frame cadence). Usage: node bench/ui_frames_bench.mjs [posts] [messages]
// (HEARTHNET_BIN, as for the browser tests).
import { DESKTOP, Node, joinByCli, launchBrowser, missingTools, somePort } from '../tests/browser/harness.mjs';

const posts = Number(process.argv[2] || 1000);
const messages = Number(process.argv[3] || 1000);
const missing = missingTools();
if (missing.length) { console.error(`missing ${missing.join(', ')}`); process.exit(1); }
const pct = (xs, p) => { const s = [...xs].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))] || 0; };

const portA = somePort();
const a = new Node('bench-a', { port: portA, bootstrapPort: portA + 1 });
a.start();
await a.waitForPort();
const b = new Node('bench-b', { found: false, port: portA + 1, bootstrapPort: portA });
joinByCli(a, b);
b.start();
const browser = await launchBrowser();
try {
  const page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
  await page.goto(await a.url());
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=topology-node]').length === 2, null, { timeout: 120000 });
  const idB = JSON.parse(b.cli(['status', '--json'])).node.node_id;

  // Seed through the page's bus calls, 8 at a time (the services' max_concurrent).
  const t0 = Date.now();
  await page.evaluate(async ({ posts, messages, idB }) => {
    const call = async (capability, input) => {
      for (;;) {
        const r = await fetch('/api/call', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-HearthNet-UI': '1' },
          body: JSON.stringify({ capability, version: '1.0', node: 'self', body: { params: {}, input } }) });
        if (r.ok) return;
        const e = await r.json().catch(() => ({}));
        if (e.error !== 'capacity_exceeded' && e.error !== 'rate_limited') throw new Error(`${capability}: ${JSON.stringify(e)}`);
        await new Promise((res) => setTimeout(res, e.retry_after_ms || 50));
      }
    };
    const jobs = [];
    for (let i = 0; i < posts; i++) {
      jobs.push(() => call('market.post', { client_id: `bench-post-${i}`, category: ['offer', 'request', 'info', 'emergency'][i % 4],
        title: `Beitrag ${i}: ${['Bohrmaschine', 'Wasserkanister', 'Kerzen', 'Generator'][i % 4]}`, body: `Text ${i} `.repeat(8), tags: [`t${i % 10}`] }));
    }
    for (let i = 0; i < messages; i++) jobs.push(() => call('chat.send', { client_id: `bench-msg-${i}`, recipient: idB, body: `Nachricht ${i} `.repeat(1 + (i % 5)) }));
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => { while (next < jobs.length) await jobs[next++](); }));
  }, { posts, messages, idB });
  const seedSeconds = (Date.now() - t0) / 1000;

  await page.reload();
  await page.waitForSelector('[data-testid=ask-input]');
  await page.evaluate(() => {
    window.__frames = [];
    let last = performance.now();
    const loop = (t) => { window.__frames.push(t - last); last = t; requestAnimationFrame(loop); };
    requestAnimationFrame(loop);
  });
  // HN_TRACE=1: a Chromium trace of each phase; its main-thread tasks over 50 ms are
  // summed by what ran in them (Layout, a script's function call, style recalculation …).
  const tracing = !!process.env.HN_TRACE;
  const longTasks = (trace) => {
    const events = JSON.parse(trace.toString()).traceEvents || [];
    const main = events.find((e) => e.name === 'thread_name' && e.args && e.args.name === 'CrRendererMain');
    const on = events.filter((e) => main && e.pid === main.pid && e.tid === main.tid && e.ph === 'X');
    const tasks = on.filter((e) => e.name === 'RunTask' && e.dur > 50000);
    const inside = {};
    for (const t of tasks) {
      for (const e of on) {
        if (e === t || e.ts < t.ts || e.ts + e.dur > t.ts + t.dur || e.dur < 5000) continue;
        inside[e.name] = (inside[e.name] || 0) + e.dur / 1000;
      }
    }
    const top = Object.entries(inside).sort((x, y) => y[1] - x[1]).slice(0, 8).map(([n, ms]) => `${n} ${Math.round(ms)} ms`);
    return { long_tasks: tasks.length, longest_ms: Math.round(Math.max(0, ...tasks.map((t) => t.dur / 1000))), inside: top };
  };
  const frames = async (label, fn) => {
    await page.evaluate(() => { window.__frames = []; });
    if (tracing) await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline'] });
    await fn();
    await page.waitForTimeout(300);  // the frames after the action settle
    const trace = tracing ? longTasks(await browser.stopTracing()) : undefined;
    const f = await page.evaluate(() => window.__frames.slice(1));
    return { label, frames: f.length, max_ms: +Math.max(...f).toFixed(1), p95_ms: +pct(f, 0.95).toFixed(1), trace };
  };
  const results = [];
  results.push(await frames('idle page (baseline)', () => page.waitForTimeout(1500)));
  const tab = (id) => async () => { await page.click(`[data-tab=${id}]`); await page.waitForSelector(`[data-tab=${id}][aria-selected=true]`); };
  results.push(await frames(`switch to Marktplatz (${posts} posts)`, async () => {
    await tab('market')();
    // The first page of the list (market.list pages of 100 by next_cursor; the rest follow the scroll).
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=market-count]')?.dataset.count) >= Math.min(n, 100), posts, { timeout: 60000 });
  }));
  results.push(await frames('scroll Marktplatz to the end', async () => {
    for (let i = 0; i < 150; i++) { await page.mouse.wheel(0, 900); await page.waitForTimeout(16); }
  }));
  // How far the scroll got: cards drawn and posts fetched (by next_cursor) at its end.
  const marketReached = await page.evaluate(() => ({
    cards: document.querySelectorAll('[data-testid=post-card]').length,
    listed: Number(document.querySelector('[data-testid=market-count]').dataset.count) }));
  results.push(await frames('switch to Chat', tab('chat')));
  results.push(await frames(`open thread (${messages} messages)`, async () => {
    await page.click(`[data-testid=chat-peers] [data-peer="${idB}"]`);
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=chat-thread]')?.dataset.count) >= n, messages, { timeout: 60000 });
  }));
  results.push(await frames('scroll the thread to the top', async () => {
    await page.hover('[data-testid=chat-thread]');
    for (let i = 0; i < 80; i++) { await page.mouse.wheel(0, -900); await page.waitForTimeout(16); }
  }));
  results.push(await frames('switch tabs ×10 (Fragen ↔ Chat ↔ Marktplatz)', async () => {
    for (let i = 0; i < 10; i++) await tab(['ask', 'chat', 'market'][i % 3])();
  }));
  const worst = Math.max(...results.slice(1).map((r) => r.max_ms));
  console.log(JSON.stringify({ bench: 'ui_frames', posts, messages, seed_seconds: seedSeconds, market_reached: marketReached, results, worst_frame_ms: worst,
    ratio_worst_to_idle_max: +(worst / Math.max(1, results[0].max_ms)).toFixed(2), target_ms: 100 }, null, 2));
} finally {
  await browser.close();
  await a.stop();
  await b.stop();
  a.remove();
  b.remove();
}
