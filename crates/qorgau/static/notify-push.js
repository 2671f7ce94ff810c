/* Notifications on this phone (the settings page's section `#push`): subscribes the browser to
 * Web Push with the server's VAPID key and registers the subscription for the signed-in person,
 * or removes it. Without support, or when the browser blocks notifications, it says so. */
(function () {
  'use strict';
  var box = document.getElementById('push');
  if (!box) return;
  var state = document.getElementById('push-state');
  var on = document.getElementById('push-on');
  var off = document.getElementById('push-off');
  function msg(k) { return box.getAttribute('data-msg-' + k) || ''; }
  function show(k, subscribed) {
    state.textContent = msg(k);
    on.hidden = subscribed !== false;
    off.hidden = subscribed !== true;
  }
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    show('unsupported', null);
    return;
  }
  function key(b64) {
    var s = (b64 + '==='.slice((b64.length + 3) % 4)).replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(s);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function api(method, body) {
    return fetch('/api/v1/push/subscriptions', {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    });
  }
  var reg = navigator.serviceWorker.register('/sw.js').then(function () { return navigator.serviceWorker.ready; });
  reg.then(function (r) { return r.pushManager.getSubscription(); }).then(function (s) {
    if (Notification.permission === 'denied') show('denied', null);
    else show(s ? 'enabled' : 'disabled', !!s);
  });
  on.addEventListener('click', function () {
    Notification.requestPermission().then(function (p) {
      if (p !== 'granted') { show('denied', null); return null; }
      return fetch('/api/v1/push/key', { credentials: 'same-origin' }).then(function (r) { return r.json(); })
        .then(function (k) {
          return reg.then(function (r) {
            return r.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(k.public_key) });
          });
        })
        .then(function (s) { return api('POST', s.toJSON()); })
        .then(function (r) { show(r.ok ? 'enabled' : 'disabled', r.ok); });
    }).catch(function () { show('disabled', false); });
  });
  off.addEventListener('click', function () {
    reg.then(function (r) { return r.pushManager.getSubscription(); }).then(function (s) {
      if (!s) return null;
      return api('DELETE', { endpoint: s.endpoint }).then(function () { return s.unsubscribe(); });
    }).then(function () { show('disabled', false); }, function () { show('disabled', false); });
  });
})();
