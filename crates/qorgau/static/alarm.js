/* Qorgau: the panic button page.
 *
 * Without this script the page is a plain form that the server answers. With it:
 *  - the press is held for the facility's hold time (pointer or keyboard); a click from assistive
 *    technology, which cannot hold, asks for a second press instead;
 *  - the press gets a client_id UUID at once and is saved in IndexedDB (alarm-outbox.js) before
 *    anything is sent; the service worker (or this page, without one) delivers it and retries with
 *    back-off; the page says "sent" only when the server has answered 201 or 200;
 *  - the position is read while the page is open, if the person (or her ambulance crew) wants it;
 *  - after delivery, the page shows what security has done with the alarm.
 */
(function () {
  'use strict';

  var app = document.getElementById('alarm-app');
  var form = document.getElementById('alarm-form');
  var button = document.getElementById('alarm-button');
  var statusEl = document.getElementById('alarm-status');
  var Outbox = window.QorgauOutbox;
  if (!app || !form || !button || !statusEl || !Outbox || !Outbox.available()) return;

  var lang = app.getAttribute('data-lang') || document.documentElement.lang || 'ru';
  var holdMs = parseInt(app.getAttribute('data-hold-ms'), 10) || 0;
  var f = form.elements;

  function msg(key) { return app.getAttribute('data-msg-' + key) || ''; }
  function setStatus(text, cls) {
    statusEl.textContent = text;
    statusEl.className = 'alarm-status' + (cls ? ' ' + cls : '');
  }
  function silent() { return !!(f.silent && f.silent.checked); }
  function buzz(pattern) {
    if (!silent() && navigator.vibrate) {
      try { navigator.vibrate(pattern); } catch (e) { /* not allowed here */ }
    }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function clock(iso) {
    var d = iso ? new Date(iso) : new Date();
    try {
      return d.toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' });
    } catch (e) {
      return d.toTimeString().slice(0, 5);
    }
  }

  // ------------------------------------------------------------------ the service worker

  var registration = null;
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(function (r) { registration = r; }, function () {});
    navigator.serviceWorker.addEventListener('message', function (e) { handle(e.data || {}); });
  }
  function controller() {
    return navigator.serviceWorker && navigator.serviceWorker.controller;
  }

  // ------------------------------------------------------------------ delivery and its back-off

  var delay = 1000;
  var timer = null;
  var waitingFor = null; // client_id of the press this page shows

  function deliver() {
    clearTimeout(timer);
    var sw = controller();
    if (sw) {
      sw.postMessage({ type: 'flush' });
      if (registration && registration.sync) registration.sync.register('qorgau-outbox').catch(function () {});
    } else {
      Outbox.flush(handle);
    }
    timer = setTimeout(function () {
      Outbox.all().then(function (recs) {
        if (recs.length) deliver();
        else delay = 1000;
      });
    }, delay);
    delay = Math.min(delay * 2, 30000);
  }

  window.addEventListener('online', function () { delay = 1000; Outbox.all().then(function (r) { if (r.length) deliver(); }); });

  function handle(m) {
    if (!m || !m.type) return;
    if (m.type === 'sent') {
      delay = 1000;
      if (waitingFor && m.client_id !== waitingFor) return;
      waitingFor = null;
      var sentText = msg('sent').replace('{time}', clock(m.received_at));
      setStatus(sentText, 'ok');
      buzz([80, 60, 80]);
      follow(m.alarm_id, sentText);
    } else if (m.type === 'waiting') {
      if (waitingFor) setStatus(msg('waiting'), 'pending');
    } else if (m.type === 'auth') {
      setStatus(msg('auth'), 'error');
    } else if (m.type === 'refused') {
      if (waitingFor && m.client_id !== waitingFor) return;
      waitingFor = null;
      setStatus(msg('refused').replace('{reason}', m.reason || ''), 'error');
    }
  }

  // ------------------------------------------------------------------ what security did

  var followTimer = null;
  function follow(id, sentText) {
    clearTimeout(followTimer);
    if (!id) return;
    var until = Date.now() + 60 * 60 * 1000;
    function poll() {
      fetch('/api/v1/alarms/' + encodeURIComponent(id), { credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (a) {
          if (a && a.state && a.state !== 'raised' && msg(a.state)) setStatus(sentText + ' ' + msg(a.state), 'ok');
          if (!a || a.state !== 'resolved') {
            if (Date.now() < until) followTimer = setTimeout(poll, 5000);
          }
        }, function () { if (Date.now() < until) followTimer = setTimeout(poll, 10000); });
    }
    poll();
  }

  // ------------------------------------------------------------------ position

  var fix = null;
  var watchId = null;
  function startGps() {
    if (watchId !== null || !navigator.geolocation) return;
    watchId = navigator.geolocation.watchPosition(
      function (p) { fix = { lat: p.coords.latitude, lon: p.coords.longitude }; },
      function () { fix = null; },
      { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 },
    );
  }
  function stopGps() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    fix = null;
  }
  if (f.gps && f.gps.checked) startGps();

  // The room, position and silent choices are kept for the next press.
  var saveTimer = null;
  function saveChoices() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      var body = new URLSearchParams();
      body.set('room', f.room ? f.room.value : '');
      body.set('gps', f.gps && f.gps.checked ? 'true' : '');
      body.set('silent', silent() ? 'true' : '');
      fetch('/alarm/choices', { method: 'POST', credentials: 'same-origin', body: body }).catch(function () {});
    }, 600);
  }
  if (f.gps) f.gps.addEventListener('change', function () { if (f.gps.checked) startGps(); else stopGps(); saveChoices(); });
  if (f.silent) f.silent.addEventListener('change', saveChoices);
  if (f.room) f.room.addEventListener('change', saveChoices);

  // ------------------------------------------------------------------ the press

  function press() {
    var facility = f.facility_id ? f.facility_id.value : '';
    if (f.facility_id && f.facility_id.tagName === 'SELECT' && !facility) {
      var hint = document.getElementById('alarm-facility-hint');
      setStatus(hint ? hint.textContent : '', 'error');
      f.facility_id.focus();
      return;
    }
    var rec = {
      client_id: uuid(),
      pressed_at: new Date().toISOString(),
      kind: 'panic',
      room: f.room ? f.room.value.trim() : '',
      floor: f.floor ? f.floor.value : '',
      silent: silent(),
      saved_at: Date.now(),
    };
    if (facility) rec.facility_id = facility;
    if (f.department_id && f.department_id.value) rec.department_id = f.department_id.value;
    if (f.gps && f.gps.checked) {
      if (fix) {
        rec.lat = fix.lat;
        rec.lon = fix.lon;
      } else if (!navigator.geolocation) {
        setStatus(msg('gps-failed'), 'pending');
      }
    }
    buzz(200);
    Outbox.put(rec).then(function () {
      waitingFor = rec.client_id;
      setStatus(msg('saved'), 'pending');
      delay = 1000;
      deliver();
    }, function () {
      // No storage on this phone: send it as the plain form does, and let the server answer.
      f.client_id.value = rec.client_id;
      if (f.lat && rec.lat !== undefined) { f.lat.value = String(rec.lat); f.lon.value = String(rec.lon); }
      HTMLFormElement.prototype.submit.call(form);
    });
  }

  // ------------------------------------------------------------------ hold to confirm

  var holdTimer = null;
  var justHeld = false;
  var armedAt = 0;

  function startHold() {
    if (holdMs <= 0 || holdTimer) return;
    button.classList.add('holding');
    setStatus(msg('holding'), 'pending');
    holdTimer = setTimeout(function () {
      holdTimer = null;
      button.classList.remove('holding');
      justHeld = true;
      setTimeout(function () { justHeld = false; }, 1500);
      press();
    }, holdMs);
  }
  function endHold() {
    if (!holdTimer) return;
    clearTimeout(holdTimer);
    holdTimer = null;
    button.classList.remove('holding');
    setStatus(msg('released'), 'pending');
  }

  button.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) return;
    try { button.setPointerCapture(e.pointerId); } catch (err) { /* older browsers */ }
    startHold();
  });
  ['pointerup', 'pointercancel', 'lostpointercapture'].forEach(function (t) { button.addEventListener(t, endHold); });
  button.addEventListener('contextmenu', function (e) { if (holdMs > 0) e.preventDefault(); });
  button.addEventListener('keydown', function (e) {
    if (holdMs <= 0 || (e.key !== ' ' && e.key !== 'Enter')) return;
    e.preventDefault();
    if (!e.repeat) startHold();
  });
  button.addEventListener('keyup', function (e) {
    if (holdMs <= 0 || (e.key !== ' ' && e.key !== 'Enter')) return;
    e.preventDefault();
    endHold();
  });
  button.addEventListener('click', function (e) {
    e.preventDefault();
    if (holdMs <= 0) {
      press();
      return;
    }
    if (justHeld) {
      justHeld = false;
      return;
    }
    // A click nobody held: from assistive technology (detail 0) it takes a second press.
    if (e.detail === 0) {
      if (Date.now() - armedAt < 5000) {
        armedAt = 0;
        press();
      } else {
        armedAt = Date.now();
        setStatus(msg('confirm'), 'pending');
      }
    }
  });
  // Only the button sends; Enter in a text field must not raise an alarm.
  form.addEventListener('submit', function (e) { e.preventDefault(); });

  // ------------------------------------------------------------------ "I am safe"

  var safe = document.getElementById('alarm-safe-form');
  if (safe) {
    safe.addEventListener('submit', function (e) {
      if (safe.getAttribute('data-ready') === '1') return;
      e.preventDefault();
      clearTimeout(followTimer);
      // A press still waiting goes first, so there is an alarm to stand down; then nothing on
      // this phone shows the alarm any more, whatever PIN was entered.
      var first = Promise.race([Outbox.flush(handle), new Promise(function (r) { setTimeout(r, 3000); })]);
      first.then(function () { return Outbox.setMeta('last', null); }).catch(function () {}).then(function () {
        safe.setAttribute('data-ready', '1');
        HTMLFormElement.prototype.submit.call(safe);
      });
    });
  }

  // ------------------------------------------------------------------ on load

  Outbox.all().then(function (recs) {
    if (recs.length) {
      recs.sort(function (a, b) { return (b.saved_at || 0) - (a.saved_at || 0); });
      waitingFor = recs[0].client_id;
      setStatus(msg('waiting'), 'pending');
      deliver();
      return;
    }
    if (statusEl.textContent.trim()) return; // the server's own answer to a plain post
    return Outbox.getMeta('last').then(function (last) {
      if (last && last.alarm_id && Date.now() - last.sent_at < 30 * 60 * 1000) {
        var sentText = msg('sent').replace('{time}', clock(last.received_at));
        setStatus(sentText, 'ok');
        follow(last.alarm_id, sentText);
      }
    });
  }).catch(function () {});
})();
