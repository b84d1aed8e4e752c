// The service worker: keeps the page, its scripts, styles, the codes page and the wasm engine in
// a cache so that the linter opens offline after the first visit. The build fills in the cache
// name (a hash of the files, so each build gets its own cache) and the file list.
const CACHE = "__CACHE_NAME__";
const ASSETS = ["__ASSETS__"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(ASSETS))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("cip-linter-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

// Cache first (the files of one build never change), then the network for anything else.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(event.request, { ignoreSearch: true });
      return hit ?? fetch(event.request);
    }),
  );
});
