/* CampaignID verifier service worker: keeps the app shell so that /v and /verify/ open with no network.
   Data (keys, revocation list, rules) is fetched and cached by the page itself. Version {{ version }}. */
"use strict";
const SHELL = "cid-verifier-shell-{{ version }}";
const FILES = {{ files|safe }};
const PAGES = {{ pages|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((n) => n.startsWith("cid-verifier-shell-") && n !== SHELL).map((n) => caches.delete(n))
  )).then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  const page = event.request.mode === "navigate" && PAGES.includes(url.pathname);
  if (!page && !FILES.includes(url.pathname)) return;
  const key = page ? PAGES[0] : url.pathname;
  // the shell from the cache at once; refreshed from the network in the background when there is one
  event.respondWith(caches.open(SHELL).then(async (cache) => {
    const cached = await cache.match(key);
    const network = fetch(key).then((response) => {
      if (response.ok) cache.put(key, response.clone());
      return response;
    });
    if (cached) { event.waitUntil(network.catch(() => null)); return cached; }
    return network;
  }));
});
