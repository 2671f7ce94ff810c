/* Qorgau service worker (served as /sw.js, scope /).
 *
 * It holds presses of the panic button that have not reached the server (IndexedDB, see
 * alarm-outbox.js) and delivers them: when the page asks, when the browser's background sync
 * fires (it retries with its own back-off, even after the page is closed), when the worker starts,
 * and now and then while the site is in use. It also keeps the button page, the two report forms
 * and their files, so that the installed app opens without a network. It caches nothing else.
 *
 * Web Push: alarms and escalation steps arrive as `push` events (the server encrypts them for
 * this browser, RFC 8291) and are shown as notifications; a tap opens the alarm.
 */
/* global QorgauOutbox */
importScripts('/static/alarm-outbox.js');

var CACHE = 'qorgau-alarm-v2';
var PAGE = '/alarm';
// The report forms open offline too; what she types stays on her device (report-draft.js).
var FORMS = ['/reports/new', '/report-anonymously'];
var FILES = [
  '/static/report-draft.js',
  '/static/app.css',
  '/static/alarm.css',
  '/static/alarm.js',
  '/static/alarm-outbox.js',
  '/static/favicon.svg',
  '/static/alarm-icon.svg',
  '/static/vendor/htmx.min.js',
];

function notify(m) {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (cs) {
    cs.forEach(function (c) { c.postMessage(m); });
  });
}

var lastFlush = 0;
function flush() {
  lastFlush = Date.now();
  return QorgauOutbox.flush(notify).catch(function () { return 1; });
}

self.addEventListener('install', function (e) {
  e.waitUntil(
    caches.open(CACHE).then(function (c) {
      return Promise.all([PAGE].concat(FORMS, FILES).map(function (u) {
        return fetch(u, { credentials: 'same-origin', cache: 'no-cache' }).then(function (r) {
          if (r.ok && !r.redirected) return c.put(u, r);
        }).catch(function () {});
      }));
    }).then(function () { return self.skipWaiting(); }),
  );
});

self.addEventListener('activate', function (e) {
  e.waitUntil(Promise.all([
    self.clients.claim(),
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k.indexOf('qorgau-alarm') === 0 && k !== CACHE; })
        .map(function (k) { return caches.delete(k); }));
    }),
    flush(),
  ]));
});

self.addEventListener('message', function (e) {
  if (e.data && e.data.type === 'flush') e.waitUntil(flush());
});

self.addEventListener('sync', function (e) {
  if (e.tag !== 'qorgau-outbox') return;
  e.waitUntil(flush().then(function (waiting) {
    // Rejecting asks the browser to try again later.
    if (waiting > 0) throw new Error('alarms still waiting');
  }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // Logging out: this phone forgets the page and any press of the person leaving, and stops
  // receiving her notifications (the server drops the subscription once its push service
  // reports it gone).
  if (req.method === 'POST' && url.pathname === '/logout') {
    e.waitUntil(Promise.all([
      caches.delete(CACHE),
      QorgauOutbox.clear().catch(function () {}),
      self.registration.pushManager.getSubscription().then(function (s) {
        return s && s.unsubscribe();
      }).catch(function () {}),
    ]));
    return;
  }
  if (Date.now() - lastFlush > 10000) e.waitUntil(flush());
  if (req.method !== 'GET') return;
  var page = url.pathname === PAGE || FORMS.indexOf(url.pathname) >= 0;
  var key = page || FILES.indexOf(url.pathname) >= 0 ? url.pathname : null;
  if (!key) return;
  // The network first (the page shows the person's current place), the kept copy when offline.
  e.respondWith(fetch(req).then(function (r) {
    if (r.ok && !r.redirected && r.type === 'basic' && (!page || url.search === '')) {
      var copy = r.clone();
      caches.open(CACHE).then(function (c) { return c.put(key, copy); });
    }
    return r;
  }, function () {
    return caches.match(key).then(function (hit) { return hit || Response.error(); });
  }));
});

self.addEventListener('push', function (e) {
  var m = {};
  try { m = e.data ? e.data.json() : {}; } catch (err) { m = {}; }
  var title = m.title || 'Qorgau';
  e.waitUntil(self.registration.showNotification(title, {
    body: m.body || '',
    tag: m.alarm_id ? 'alarm-' + m.alarm_id : undefined,
    renotify: true,
    requireInteraction: true,
    icon: '/static/alarm-icon.svg',
    data: { url: m.url || '/console' },
  }));
});

self.addEventListener('notificationclick', function (e) {
  e.notification.close();
  var target = (e.notification.data && e.notification.data.url) || '/console';
  // Only our own pages: the message names a path on this site.
  if (target.charAt(0) !== '/' || target.charAt(1) === '/') target = '/console';
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (cs) {
    for (var i = 0; i < cs.length; i++) {
      if ('focus' in cs[i] && 'navigate' in cs[i]) {
        return cs[i].navigate(target).then(function (c) { return c && c.focus(); });
      }
    }
    return self.clients.openWindow(target);
  }));
});
