// sw.js — the mobile view's service worker (M08 §6): keeps the app shell for offline
// start; API calls and the event stream always go to the node.
const SHELL = 'hearthnet-shell-v1';
const FILES = ['/mobile', '/app.js', '/app.css', '/icon.svg', '/manifest.webmanifest'];
self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(SHELL).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((ks) => Promise.all(ks.filter((k) => k !== SHELL).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.pathname.startsWith('/api/')) return;
  // Network first (the node is the truth), the shell when the node is unreachable.
  e.respondWith(fetch(e.request).catch(() => caches.match(url.pathname.startsWith('/mobile') ? '/mobile' : e.request)));
});
