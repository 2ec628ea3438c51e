// tabs.test.mjs — every tab of the dashboard at work between two real nodes, each driven
// from its own page in Debian's Chromium (ctest label `browser`; issue #16 "Tests"):
// A serves the tiny llama model (tests/models) and probes two loopback DNS resolvers (the
// test's own, so "the internet" can die); B joined A's community by invite. Ask streams
// an answer and Stop cancels one; a chat message from A's page arrives live on B's page and
// A's page sees it delivered and read; an attachment travels as a blob; a post made on A
// appears on B and leaves when fulfilled; a file uploaded on A downloads on B byte for byte
// and previews; the emergency banner, tab and Spark theme appear when the resolvers stop
// and leave when they return. No request without the session token is answered.
// Screenshots of every tab with content, desktop and 360 px, land in HN_ARTIFACTS.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { ARTIFACTS, DESKTOP, DnsResponder, Node, PHONE, TEST_MODELS, joinByCli, launchBrowser, missingTools, somePort, until } from './harness.mjs';

const missing = missingTools();
if (missing.length) {
  console.log(`skipping the browser tests: missing ${missing.join(', ')}`);
  process.exit(77);
}

const WAIT = { timeout: 60000 };
const dnsA = new DnsResponder();
const dnsB = new DnsResponder();
let browser, a, b, pageA, pageB;

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const openTab = async (page, tab) => {
  await page.click(`[data-tab=${tab}]`);
  await page.waitForSelector(`[data-tab=${tab}][aria-selected=true]`, WAIT);
};

before(async () => {
  await dnsA.start();
  await dnsB.start();
  const portA = somePort();
  const portB = portA + 1;
  a = new Node('hearth-a', {
    port: portA,
    bootstrapPort: portB,
    env: { HEARTHNET_EMERGENCY_DETECTOR: 'on' },
    config:
      `[[llm.backends]]\nname = "llama_cpp"\nurl = "${join(TEST_MODELS, 'tiny-llama.gguf')}"\nmax_concurrent = 2\nctx = 2048\n` +
      `[emergency]\nprobe_targets = ["${dnsA.target}", "${dnsB.target}"]\nprobe_interval_online_seconds = 1\n` +
      'probe_interval_offline_seconds = 1\nprobe_timeout_seconds = 1\ndebounce_seconds = 2\nrecovery_seconds = 2\nflap_window_seconds = 5\n',
  });
  a.start();
  await a.waitForPort();
  b = new Node('spark-b', { found: false, port: portB, bootstrapPort: portA });
  joinByCli(a, b);
  b.start();
  const [urlA, urlB] = [await a.url(), await b.url()];
  browser = await launchBrowser();
  pageA = await (await browser.newContext({ viewport: DESKTOP, acceptDownloads: true })).newPage();
  pageB = await (await browser.newContext({ viewport: DESKTOP, acceptDownloads: true })).newPage();
  await pageA.goto(urlA);
  await pageB.goto(urlB);
  // Both pages know both nodes (B's bootstrap is A, A's is B).
  for (const page of [pageA, pageB]) {
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=topology-node]').length === 2, null, { timeout: 120000 });
  }
});

after(async () => {
  if (browser) await browser.close();
  for (const n of [a, b]) {
    if (!n) continue;
    await n.stop();
    n.remove();
  }
  await dnsA.stop();
  await dnsB.stop();
});

test('no request without the session token is answered', async () => {
  const base = (await a.url()).split('?')[0];
  for (const [method, path] of [['GET', ''], ['GET', 'app.js'], ['GET', 'api/session'], ['GET', 'api/events'],
    ['GET', 'api/node/status'], ['POST', 'api/call'], ['GET', 'mobile']]) {
    const res = await fetch(base + path, {
      method, redirect: 'manual', headers: { 'X-HearthNet-UI': '1', 'Content-Type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ capability: 'diag.echo', body: { input: { text: 'x' } } }) : undefined,
    });
    assert.equal(res.status, 401, `${method} /${path}`);
    await res.body?.cancel();
  }
  // With the page's cookie but without the UI header, a state-changing call is refused too.
  const status = await pageA.evaluate(async () => (await fetch('/api/call', { method: 'POST', body: '{"capability":"diag.echo"}' })).status);
  assert.equal(status, 403);
});

test('Ask: the answer streams from the mesh model, Stop cancels a generation', async () => {
  // B has no model: the picker shows A's, the call is routed to A.
  await openTab(pageB, 'ask');
  await pageB.waitForSelector('[data-testid=ask-input]:not([disabled])', WAIT);
  assert.deepEqual(await pageB.locator('[data-testid=model] option').allTextContents(), ['tiny-llama']);
  await pageB.fill('[data-testid=ask-input]', 'Wo gibt es Wasser?');
  await pageB.click('[data-testid=ask-send]');
  // Streaming: text grows while the turn is not done yet.
  const answer = pageB.locator('[data-testid=answer]').last();
  await pageB.waitForSelector('[data-testid=answer][data-state=streaming]', WAIT);
  const partial = (await answer.locator('.answer-text').textContent()).length;
  await pageB.waitForSelector('[data-testid=answer][data-state=done]', { timeout: 120000 });
  const full = (await answer.locator('.answer-text').textContent()).length;
  assert.ok(full > 0 && full >= partial, `${partial} → ${full}`);
  // A trace of the call animates on the topology (llm.chat from B to A).
  await shot(pageB, 'ask-answer-desktop');

  // Stop: the stream ends at once, the turn says so, the box is free again.
  await pageB.fill('[data-testid=ask-input]', 'Erzähl eine lange Geschichte');
  await pageB.click('[data-testid=ask-send]');
  await pageB.waitForSelector('[data-testid=answer][data-state=streaming]', WAIT);
  await pageB.click('[data-testid=stop]');
  await pageB.waitForSelector('[data-testid=cancelled]', WAIT);
  assert.equal(await pageB.locator('[data-testid=answer]').last().getAttribute('data-state'), 'cancelled');
  await pageB.waitForSelector('[data-testid=ask-send]', WAIT);
});

test('Ask with a corpus: rag.answer streams the answer, then numbered sources that open the document', async (t) => {
  const local = JSON.parse(a.cli(['status', '--json'])).capabilities.local;
  if (!local.some((c) => c.startsWith('rag.answer@'))) {
    t.skip('this build offers no rag.answer (the RAG service is not in it)');
    return;
  }
  const doc = join(a.home, 'notfall-handbuch.txt');
  writeFileSync(doc, 'Regenwasser muss zehn Minuten sprudelnd kochen, bevor man es trinkt.\n'.repeat(30));
  a.cli(['rag', 'ingest', doc, '--corpus', 'handbook', '--title', 'Notfall-Handbuch']);
  await openTab(pageA, 'settings');
  await openTab(pageA, 'ask');  // the corpus list is read when the tab opens
  await pageA.waitForSelector('[data-testid=corpus] option[value=handbook]', { state: 'attached', ...WAIT });
  await pageA.selectOption('[data-testid=corpus]', 'handbook');
  await pageA.fill('[data-testid=ask-input]', 'Wie lange muss Regenwasser kochen?');
  await pageA.click('[data-testid=ask-send]');
  await pageA.waitForSelector('[data-testid=answer][data-state=done]', { timeout: 120000 });
  const sources = pageA.locator('[data-testid=sources] li');
  await sources.first().waitFor(WAIT);
  assert.match(await sources.first().textContent(), /Notfall-Handbuch/);
  assert.equal(await sources.first().getAttribute('value'), '1');
  await shot(pageA, 'ask-sources-desktop');
  // A source opens the document in Files.
  await sources.first().locator('a').click();
  await pageA.waitForSelector('[data-tab=files][aria-selected=true]', WAIT);
  await pageA.waitForSelector('[data-testid=preview-text]', WAIT);
  assert.match(await pageA.textContent('[data-testid=preview-text]'), /Regenwasser/);
});

test('Chat: A writes from its page, B sees it live with an unread badge, A sees delivered then read', async () => {
  await openTab(pageB, 'chat');  // B waits on its chat tab, thread closed
  await openTab(pageA, 'chat');
  const idB = JSON.parse(b.cli(['status', '--json'])).node.node_id;
  const idA = JSON.parse(a.cli(['status', '--json'])).node.node_id;
  await pageA.click(`[data-testid=chat-peers] [data-peer="${idB}"]`);
  await pageA.fill('[data-testid=chat-input]', 'Hast du heute Strom?');
  await pageA.click('[data-testid=chat-send]');
  // Direct delivery: the delivered receipt is on A when chat.send returns.
  await pageA.waitForSelector('[data-testid=chat-message] [data-receipt=delivered]', WAIT);
  // B: the badge appears without a reload (pushed), then the thread shows the message.
  const badge = pageB.locator(`[data-testid=chat-peers] [data-peer="${idA}"] [data-testid=unread]`);
  await badge.waitFor(WAIT);
  assert.equal(await badge.textContent(), '1');
  await pageB.click(`[data-testid=chat-peers] [data-peer="${idA}"]`);
  await pageB.waitForFunction(() => [...document.querySelectorAll('[data-testid=chat-message]')].some((m) => m.textContent.includes('Hast du heute Strom?')), null, WAIT);
  await badge.waitFor({ state: 'detached', ...WAIT });
  // Opening the thread sent the read receipt; A's page shows it (the log's head moved).
  await pageA.waitForSelector('[data-testid=chat-message] [data-receipt=read]', WAIT);

  // An attachment: uploaded from B's page as a blob, its CID sent along; A downloads it.
  const text = 'Schaltplan v2\n'.repeat(1000);
  await pageB.setInputFiles('[data-testid=chat-attach]', { name: 'schaltplan.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await pageB.waitForSelector('[data-testid=pending-attachment]', WAIT);
  await pageB.fill('[data-testid=chat-input]', 'Ja — hier der Plan');
  await pageB.click('[data-testid=chat-send]');
  const attachment = pageA.locator('[data-testid=chat-message] .attachment', { hasText: 'schaltplan.txt' });
  await attachment.waitFor(WAIT);
  const [download] = await Promise.all([pageA.waitForEvent('download', WAIT), attachment.click()]);
  assert.equal(download.suggestedFilename(), 'schaltplan.txt');
  assert.equal(readFileSync(await download.path(), 'utf8'), text);
  await shot(pageA, 'chat-thread-desktop');
});

test('Marketplace: the form names what is wrong; a post on A appears on B and leaves when fulfilled', async () => {
  await openTab(pageB, 'market');
  await openTab(pageA, 'market');
  await pageA.click('[data-testid=market-new]');
  await pageA.fill('[data-testid=post-ttl]', '45');
  await pageA.click('[data-testid=post-submit]');
  await pageA.waitForSelector('[data-testid=error-title]', WAIT);
  assert.match(await pageA.textContent('[data-testid=error-ttl_days]'), /1 bis 30/);
  await pageA.fill('[data-testid=post-title]', 'Bohrmaschine zu verleihen');
  await pageA.fill('[data-testid=post-body]', 'Abholung am Wochenende');
  await pageA.fill('[data-testid=post-tags]', 'werkzeug, leihen');
  await pageA.fill('[data-testid=post-ttl]', '7');
  await pageA.click('[data-testid=post-submit]');
  await pageA.waitForSelector('[data-testid=market-form]', { state: 'detached', ...WAIT });
  const cardB = pageB.locator('[data-testid=post-card]', { hasText: 'Bohrmaschine zu verleihen' });
  await cardB.waitFor(WAIT);  // pushed to B's page (marketplace.post.created), no reload
  assert.match(await cardB.textContent(), /#werkzeug/);
  // Filters: the tag keeps it, another category hides it; search finds it.
  await pageB.fill('[data-testid=market-tag]', 'werkzeug');
  await cardB.waitFor(WAIT);
  await pageB.selectOption('[data-testid=market-category]', 'request');
  await cardB.waitFor({ state: 'detached', ...WAIT });
  await pageB.selectOption('[data-testid=market-category]', '');
  await pageB.fill('[data-testid=market-tag]', '');
  await pageB.fill('[data-testid=market-search]', 'wochenende');
  await pageB.press('[data-testid=market-search]', 'Enter');
  await cardB.waitFor(WAIT);
  await shot(pageB, 'market-cards-desktop');
  // Only the author's card has the buttons.
  assert.equal(await cardB.locator('[data-testid=post-fulfilled]').count(), 0);
  const cardA = pageA.locator('[data-testid=post-card]', { hasText: 'Bohrmaschine zu verleihen' });
  await cardA.locator('[data-testid=post-fulfilled]').click();
  await cardA.waitFor({ state: 'detached', ...WAIT });
  await pageB.fill('[data-testid=market-search]', '');
  await cardB.waitFor({ state: 'detached', ...WAIT });  // marketplace.post.expired
});

test('Marketplace: more posts than one page arrive as the reader scrolls (market.list next_cursor)', async () => {
  const n = 130;  // the tab fetches 100 at a time
  await pageA.evaluate(async (n) => {
    const post = async (i) => {
      for (;;) {
        const r = await fetch('/api/call', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-HearthNet-UI': '1' },
          body: JSON.stringify({ capability: 'market.post', version: '1.0', node: 'self', body: { params: {}, input: {
            client_id: `page-post-${i}`, category: 'info', title: `Seite ${i}`, body: 'x', tags: ['seite'] } } }) });
        if (r.ok) return;
        const e = await r.json().catch(() => ({}));
        if (e.error !== 'capacity_exceeded' && e.error !== 'rate_limited') throw new Error(JSON.stringify(e));
        await new Promise((res) => setTimeout(res, e.retry_after_ms || 50));
      }
    };
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => { while (next < n) await post(next++); }));
  }, n);
  await openTab(pageA, 'files');
  await openTab(pageA, 'market');
  const count = () => pageA.getAttribute('[data-testid=market-count]', 'data-count').then(Number);
  await until('the first page of posts', async () => (await count()) >= 100);
  assert.match(await pageA.textContent('[data-testid=market-count]'), /\+ Beiträge/);  // more to fetch
  // Scrolling to the end draws every card and fetches the next page.
  await until('the oldest post after scrolling', async () => {
    await pageA.mouse.wheel(0, 4000);
    return (await pageA.locator('[data-testid=post-card]', { hasText: 'Seite 0' }).count()) > 0;
  });
  assert.ok((await count()) >= n);
  assert.doesNotMatch(await pageA.textContent('[data-testid=market-count]'), /\+/);
  await pageA.evaluate(() => window.scrollTo(0, 0));
});

test('Files: upload on A with progress, B lists it with its holder, downloads and previews it', async () => {
  await openTab(pageA, 'files');
  const bytes = Buffer.alloc(700 * 1024);  // three chunks
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 11)) & 0xff;
  await pageA.setInputFiles('[data-testid=file-upload]', { name: 'karte.bin', mimeType: 'application/octet-stream', buffer: bytes });
  await pageA.waitForSelector('[data-testid=file-progress]', WAIT);
  const rowA = pageA.locator('[data-testid=file-row]', { hasText: 'karte.bin' });
  await rowA.waitFor(WAIT);
  const cid = await rowA.getAttribute('data-cid');
  // The CID the page computed is the node's own (`hearthnet file put` of the same bytes).
  const path = join(a.home, 'karte.bin');
  writeFileSync(path, bytes);
  assert.equal(a.cli(['file', 'put', path]).trim(), cid);
  await pageA.setInputFiles('[data-testid=file-upload]', { name: 'notiz.txt', mimeType: 'text/plain', buffer: Buffer.from('Treffpunkt: Feuerwehrhaus\n') });
  await pageA.locator('[data-testid=file-row]', { hasText: 'notiz.txt' }).waitFor(WAIT);
  await pageA.locator('[data-testid=file-row]', { hasText: 'karte.bin' }).locator('[data-testid=file-pin]').check();
  await until('the pin on A', () => JSON.parse(a.cli(['file', 'ls', '--json'])).some((e) => e.cid === cid && e.pinned), 20000, 300);
  await shot(pageA, 'files-desktop');

  await openTab(pageB, 'files');
  const rowB = pageB.locator(`[data-testid=file-row][data-cid="${cid}"]`);
  await until('A\'s file on B\'s list', async () => {
    await pageB.click('[data-testid=files-refresh]');
    return (await rowB.count()) > 0;
  }, 60000, 1000);
  assert.equal(await rowB.getAttribute('data-local'), 'no');
  assert.match(await rowB.locator('[data-testid=file-holders]').textContent(), /hearth-a/);
  const [download] = await Promise.all([pageB.waitForEvent('download', WAIT), rowB.locator('[data-testid=file-download]').click()]);
  assert.equal(download.suggestedFilename(), 'karte.bin');
  assert.ok(readFileSync(await download.path()).equals(bytes), 'the downloaded bytes differ');
  // B now holds it too.
  await pageB.waitForFunction((c) => document.querySelector(`[data-testid=file-row][data-cid="${c}"]`)?.dataset.local === 'yes', cid, WAIT);
  const note = pageB.locator('[data-testid=file-row]', { hasText: 'notiz.txt' });
  await note.locator('[data-testid=file-preview]').click();
  await pageB.waitForSelector('[data-testid=preview-text]', WAIT);
  assert.match(await pageB.textContent('[data-testid=preview-text]'), /Feuerwehrhaus/);
  await shot(pageB, 'files-preview-desktop');
});

test('every tab with content at desktop and 360 px; /mobile', async () => {
  for (const [label, viewport] of [['desktop', DESKTOP], ['360', PHONE]]) {
    await pageA.setViewportSize(viewport);
    for (const tab of ['ask', 'chat', 'market', 'files', 'settings']) {
      await openTab(pageA, tab);
      await shot(pageA, `a-tab-${tab}-${label}`);
      if (label === '360') {
        const overflow = await pageA.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        assert.ok(overflow <= 1, `${tab}: the page is ${overflow}px wider than 360`);
      }
    }
  }
  await pageA.setViewportSize(DESKTOP);
  // Settings lists the mesh's model and both members with their levels.
  await openTab(pageA, 'settings');
  await pageA.waitForFunction(() => document.querySelector('[data-testid=backends]')?.textContent.includes('tiny-llama'), null, WAIT);
  await pageA.waitForFunction(() => document.querySelectorAll('[data-testid=members] tbody tr').length === 2, null, WAIT);
});

test('the emergency banner, tab and Spark theme appear when the internet dies, and leave when it returns', async () => {
  await openTab(pageA, 'ask');
  assert.equal(await pageA.locator('[data-tab=emergency]').count(), 0);  // online: no Notfall tab
  await dnsA.stop();
  await dnsB.stop();
  await pageA.waitForSelector('.banner-offline', { timeout: 60000 });
  assert.match(await pageA.textContent('.banner-offline'), /INTERNET OFFLINE — LOKAL AKTIV/);
  assert.match(await pageA.textContent('.banner-offline'), /1 Nachbar\*innen erreichbar/);
  await pageA.waitForSelector('[data-tab=emergency]', WAIT);
  assert.equal(await pageA.getAttribute('html', 'data-theme'), 'spark');
  await openTab(pageA, 'emergency');
  const neighbour = pageA.locator('[data-testid=neighbour]', { hasText: 'spark-b' });
  await neighbour.waitFor(WAIT);
  assert.match(await neighbour.locator('[data-testid=last-seen]').textContent(), /zuletzt gesehen vor \d+ (s|min)/);
  assert.match(await pageA.textContent('[data-testid=log-lag]'), /Letzter Abgleich/);
  await shot(pageA, 'a-tab-emergency-desktop');
  await pageA.setViewportSize(PHONE);
  await shot(pageA, 'a-tab-emergency-360');
  await pageA.setViewportSize(DESKTOP);
  // The chat shortcut opens the thread with that neighbour.
  await neighbour.locator('[data-testid=neighbour-chat]').click();
  await pageA.waitForSelector('[data-tab=chat][aria-selected=true]', WAIT);
  await pageA.waitForSelector('[data-testid=chat-peers] li.active', WAIT);
  // The internet returns: online again, the banner and the tab go, the theme is Hearth.
  await dnsA.start();
  await dnsB.start();
  await pageA.waitForSelector('.banner-offline', { state: 'detached', timeout: 60000 });
  await pageA.waitForSelector('[data-tab=emergency]', { state: 'detached', timeout: 60000 });
  assert.equal(await pageA.getAttribute('html', 'data-theme'), 'hearth');
});
