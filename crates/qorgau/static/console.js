/* Qorgau: the security console, live.
 *
 * Without this script the console is a page of plain forms with a refresh link. With it:
 *  - it listens to /api/v1/alarms/stream (server-sent events); EventSource reconnects by itself
 *    and resumes with Last-Event-ID, and the page starts after the event it was rendered at;
 *  - after each event it fetches /console/list and swaps in the alarms that changed, leaving alone
 *    a card someone is typing in;
 *  - it beeps (WebAudio) while an alarm waits for acknowledgement, once the browser allows sound
 *    (a "Turn on sound" button gives it the gesture it needs), with a mute toggle;
 *  - it keeps the "how long ago" of each alarm current;
 *  - the action forms are sent in the background, so the sound stays on.
 */
(function () {
  'use strict';

  var root = document.getElementById('console');
  var list = document.getElementById('console-list');
  if (!root || !list) return;
  var live = document.getElementById('console-live');
  var alertEl = document.getElementById('console-alert');
  var soundOn = document.getElementById('console-sound-on');
  var muteBtn = document.getElementById('console-mute');
  var title = document.title;

  function msg(key) { return root.getAttribute('data-msg-' + key) || ''; }
  function say(text) { if (live) live.textContent = text; }

  var facility = root.getAttribute('data-facility') || '';
  var post = root.getAttribute('data-post') || '';
  var listQuery = [];
  if (facility) listQuery.push('facility=' + encodeURIComponent(facility));
  if (post) listQuery.push('post=' + encodeURIComponent(post));
  var listUrl = '/console/list' + (listQuery.length ? '?' + listQuery.join('&') : '');

  // ------------------------------------------------------------------ sound

  var AudioCtx = window.AudioContext || window.webkitAudioContext;
  var audio = null;
  var muted = false;
  try { muted = localStorage.getItem('qorgau.console.muted') === '1'; } catch (e) { /* private mode */ }

  function running() { return !!audio && audio.state === 'running'; }
  function soundUi() {
    if (!AudioCtx) return;
    soundOn.hidden = running();
    muteBtn.hidden = !running();
    muteBtn.setAttribute('aria-pressed', muted ? 'true' : 'false');
  }
  function unlock() {
    if (!AudioCtx) return;
    if (!audio) {
      audio = new AudioCtx();
      audio.onstatechange = soundUi;
    }
    if (audio.state !== 'running') audio.resume().then(soundUi, soundUi);
    soundUi();
  }
  if (AudioCtx) {
    unlock(); // allowed at once where the browser trusts this site; else it waits for a gesture
    soundOn.addEventListener('click', function () {
      muted = false;
      try { localStorage.setItem('qorgau.console.muted', '0'); } catch (e) { /* private mode */ }
      unlock();
      say(msg('sound-on'));
      beep();
    });
    muteBtn.addEventListener('click', function () {
      muted = !muted;
      try { localStorage.setItem('qorgau.console.muted', muted ? '1' : '0'); } catch (e) { /* private mode */ }
      soundUi();
      say(muted ? msg('sound-off') : msg('sound-on'));
    });
    // Any gesture on the page lets the sound start.
    ['pointerdown', 'keydown'].forEach(function (t) {
      document.addEventListener(t, function () { if (!running()) unlock(); }, { capture: true });
    });
  }

  function beep() {
    if (muted || !running()) return;
    var t = audio.currentTime;
    [0, 0.3, 0.6].forEach(function (d) {
      var o = audio.createOscillator();
      var g = audio.createGain();
      o.type = 'square';
      o.frequency.value = 880;
      g.gain.setValueAtTime(0.0001, t + d);
      g.gain.exponentialRampToValueAtTime(0.25, t + d + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + d + 0.2);
      o.connect(g);
      g.connect(audio.destination);
      o.start(t + d);
      o.stop(t + d + 0.22);
    });
  }

  // ------------------------------------------------------------------ the alert while unacknowledged

  function unacked() {
    var s = list.querySelector('[data-unacked]');
    return s ? parseInt(s.getAttribute('data-unacked'), 10) || 0 : 0;
  }
  function showAlert() {
    var n = unacked();
    root.classList.toggle('console-alerting', n > 0);
    document.title = n > 0 ? '(' + n + ') ' + title : title;
  }
  setInterval(function () { if (unacked() > 0) beep(); }, 4000);

  // ------------------------------------------------------------------ how long ago

  function ago() {
    var now = Date.now();
    list.querySelectorAll('time[data-ago]').forEach(function (el) {
      var t = Date.parse(el.getAttribute('datetime'));
      if (isNaN(t)) return;
      var s = Math.max(0, Math.floor((now - t) / 1000));
      var text;
      if (s < 60) text = msg('ago-s').replace('{n}', s);
      else if (s < 3600) text = msg('ago-m').replace('{n}', Math.floor(s / 60));
      else text = msg('ago-h').replace('{h}', Math.floor(s / 3600)).replace('{m}', Math.floor((s % 3600) / 60));
      el.textContent = text;
    });
  }
  setInterval(ago, 10000);

  // ------------------------------------------------------------------ the list

  /** A card someone is working in: focus in a field, something typed, or a form opened. */
  function busy(li) {
    var a = document.activeElement;
    if (a && li.contains(a) && a.matches('input, textarea, select')) return true;
    if (li.querySelector('details[open]')) return true;
    return Array.prototype.some.call(li.querySelectorAll('input:not([type="hidden"]), textarea'), function (x) { return x.value !== ''; });
  }

  function swap(html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html;
    var fresh = tpl.content;
    var oldSummary = list.querySelector('.console-summary');
    var newSummary = fresh.querySelector('.console-summary');
    if (oldSummary && newSummary) oldSummary.replaceWith(newSummary);
    var oldUl = list.querySelector('.alarm-cards');
    var newUl = fresh.querySelector('.alarm-cards');
    if (!oldUl || !newUl) return;
    var keep = {};
    Array.prototype.forEach.call(oldUl.children, function (li) { if (li.id && busy(li)) keep[li.id] = li; });
    var focusId = document.activeElement && document.activeElement.id;
    var out = document.createDocumentFragment();
    Array.prototype.slice.call(newUl.children).forEach(function (li) { out.appendChild(keep[li.id] || li); });
    oldUl.replaceChildren(out);
    if (focusId && !document.getElementById(focusId)) focusId = null;
    if (focusId) document.getElementById(focusId).focus();
    ago();
    showAlert();
  }

  var refreshTimer = null;
  var inFlight = false;
  var again = false;
  function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (inFlight) { again = true; return; }
      inFlight = true;
      fetch(listUrl, { credentials: 'same-origin', headers: { Accept: 'text/html' }, cache: 'no-store' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) swap(html); }, function () {})
        .finally(function () {
          inFlight = false;
          if (again) { again = false; refresh(); }
        });
    }, 250);
  }

  // ------------------------------------------------------------------ the live feed

  var seq = root.getAttribute('data-seq') || '0';
  var source = null;
  var opened = false;
  function connect() {
    source = new EventSource('/api/v1/alarms/stream?after=' + encodeURIComponent(seq));
    source.addEventListener('alarm', function (e) {
      if (e.lastEventId) seq = e.lastEventId;
      var ev;
      try { ev = JSON.parse(e.data); } catch (err) { return; }
      if (facility && ev.facility_id !== facility) return;
      if (ev.kind === 'raised' || ev.kind === 'escalated') {
        if (alertEl) alertEl.textContent = msg('new');
        beep();
      }
      refresh();
    });
    source.addEventListener('open', function () {
      say(msg('live'));
      // After a reconnect, read the list again in case the feed could not catch up.
      if (opened) refresh();
      opened = true;
    });
    source.addEventListener('error', function () {
      say(msg('offline'));
      if (source.readyState === EventSource.CLOSED) {
        // Refused (a session that ended, a server restart behind a proxy): try again later.
        setTimeout(connect, 10000);
      }
    });
  }
  if (window.EventSource) connect();

  // ------------------------------------------------------------------ actions in the background

  list.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('alarm-act')) return;
    if (form.getAttribute('data-plain') === '1') return;
    e.preventDefault();
    var data = new FormData(form);
    if (e.submitter && e.submitter.name) data.append(e.submitter.name, e.submitter.value);
    data.set('back', listUrl);
    var card = form.closest('li');
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    fetch(form.getAttribute('action'), { method: 'POST', credentials: 'same-origin', body: new URLSearchParams(data) })
      .then(function (r) {
        if (!r.ok || new URL(r.url).pathname !== '/console/list') {
          // Let the server show what went wrong as a page of its own.
          buttons.forEach(function (b) { b.disabled = false; });
          form.setAttribute('data-plain', '1');
          if (form.requestSubmit) form.requestSubmit(e.submitter || undefined);
          else HTMLFormElement.prototype.submit.call(form);
          return;
        }
        return r.text().then(function (html) {
          if (card) {
            card.querySelectorAll('form').forEach(function (x) { x.reset(); });
            card.querySelectorAll('details[open]').forEach(function (d) { d.open = false; });
            if (card.contains(document.activeElement)) document.activeElement.blur();
          }
          swap(html);
          var id = card && card.id;
          var now = id && document.getElementById(id);
          var err = now && now.querySelector('.field-error');
          var done = list.querySelector('.console-done');
          say(err ? err.textContent : (done ? done.textContent : ''));
          var link = now && now.querySelector('h2 a');
          if (link) link.focus();
        });
      }, function () {
        buttons.forEach(function (b) { b.disabled = false; });
        say(msg('offline'));
      });
  });

  showAlert();
})();
