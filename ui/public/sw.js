// ChargeKeeper service worker: makes the app installable and opens its shell offline.
// It caches the app shell only (the page, its hashed assets, icons). API answers are never cached:
// prices, availability and sessions must always come from the appliance.
const CACHE = 'chargekeeper-shell-v1';
const SHELL = ['/', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  // Other origins, writes, the API and the chargers' WebSocket path pass straight through.
  if (req.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/ocpp')) return;

  // Pages: the network first (a new version shows at once), the cached shell when offline.
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req)
        .then((res) => {
          if (res.ok) {
            const copy = res.clone();
            void caches.open(CACHE).then((c) => c.put('/', copy));
          }
          return res;
        })
        .catch(() => caches.match('/').then((hit) => hit ?? Response.error())),
    );
    return;
  }

  // Build assets have content hashes in their names: once cached, they never change.
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/icons/') || url.pathname === '/manifest.webmanifest') {
    event.respondWith(
      caches.match(req).then((hit) => hit ?? fetch(req).then((res) => {
        if (res.ok) {
          const copy = res.clone();
          void caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })),
    );
  }
});

// Web Push: the appliance sends { title, body, tag, url, ackUrl?, notice, alert? } (alerts) or
// { title, body, tag, url, notice: 'driver', kind } (driver notices), encrypted for this browser.
const ICON = '/icons/icon-192.png';
const BADGE = '/icons/icon-192.png';

// The box that serves this worker issued the push: links are taken as paths on this origin, so a
// configured public URL that differs from how this browser reaches the box still works (connect-src 'self').
function local(url, fallback) {
  try {
    const u = new URL(url, self.location.origin);
    return new URL(u.pathname + u.search + u.hash, self.location.origin).href;
  } catch {
    return new URL(fallback, self.location.origin).href;
  }
}

function readPush(event) {
  if (!event.data) return null;
  try {
    const p = event.data.json();
    return p && typeof p === 'object' ? p : null;
  } catch {
    return null;
  }
}

self.addEventListener('push', (event) => {
  const p = readPush(event);
  // Browsers punish a push that shows nothing: a payload we cannot read still shows a notification.
  if (!p || typeof p.title !== 'string' || !p.title) {
    event.waitUntil(self.registration.showNotification('ChargeKeeper', { body: 'Something needs your attention. Open the app to see it.', icon: ICON, badge: BADGE, data: { url: '/' } }));
    return;
  }
  const alertId = p.alert && typeof p.alert.id === 'number' ? p.alert.id : null;
  const ackUrl = typeof p.ackUrl === 'string' && p.ackUrl ? p.ackUrl : null;
  const options = {
    body: typeof p.body === 'string' ? p.body : '',
    icon: ICON,
    badge: BADGE,
    data: { url: typeof p.url === 'string' && p.url ? p.url : p.notice === 'driver' ? '/#/p/drive' : '/', ackUrl, alertId },
    actions: ackUrl ? [{ action: 'ack', title: 'Acknowledge' }] : [],
    // A critical alert stays on screen until handled.
    requireInteraction: !!(p.alert && p.alert.severity === 'critical'),
  };
  if (typeof p.tag === 'string' && p.tag) {
    options.tag = p.tag;
    // A new notice under the same tag (repeat, resolved) replaces the old one and buzzes again.
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(p.title, options));
});

// The "Acknowledge" button: the one-time link's confirm step (POST), without opening the app.
async function acknowledge(data) {
  const what = data.alertId ? `Alert #${data.alertId}` : 'The alert';
  let title;
  let body = '';
  try {
    const res = await fetch(local(data.ackUrl, '/'), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '', credentials: 'omit',
    });
    if (res.ok) title = `${what} acknowledged`;
    else if (res.status === 410) { title = `${what} was not acknowledged`; body = 'This link was already used or has expired. Open the app to see the alert.'; }
    else { title = `${what} was not acknowledged`; body = `The appliance answered ${res.status}. Open the app to acknowledge it.`; }
  } catch {
    title = `${what} was not acknowledged`;
    body = 'The appliance could not be reached. Open the app to acknowledge it.';
  }
  await self.registration.showNotification(title, {
    body, icon: ICON, badge: BADGE, tag: data.alertId ? `ack-${data.alertId}` : 'ack', data: { url: data.url || '/' },
  });
}

// Any other tap opens the page the notice is about, in the app's window when one is open.
// A notice without data (the drivers' page's own "your turn" notice) goes to the drivers' page.
async function openApp(data) {
  const target = local(data.url || '/#/p/drive', '/#/p/drive');
  const list = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = list.find((c) => new URL(c.url).origin === self.location.origin);
  if (!open) return self.clients.openWindow(target);
  // focus() needs the tap's user activation; without it (or if refused) the window is still taken there.
  const win = await open.focus().catch(() => open);
  // navigate() works on windows this worker controls; the page's own hash routing shows the target without a reload.
  if (win.url !== target) await win.navigate(target).catch(() => undefined);
  return win;
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  if (event.action === 'ack' && data.ackUrl) event.waitUntil(acknowledge(data));
  else event.waitUntil(openApp(data));
});

// The push service renewed or dropped this browser's subscription: subscribe again with the
// appliance's key and hand it over, best effort. The sign-in token is not available here, so
// the page re-sends it on its next visit (ui/src/lib/push.ts) when the server does not know it.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil((async () => {
    const key = event.oldSubscription && event.oldSubscription.options && event.oldSubscription.options.applicationServerKey;
    if (!key) return;
    const sub = event.newSubscription || await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const c of clients) c.postMessage({ type: 'push-subscription-changed', subscription: sub.toJSON() });
  })().catch(() => undefined));
});
