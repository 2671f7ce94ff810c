/* Qorgau: presses of the panic button that are not delivered yet.
 *
 * Each press is kept in IndexedDB, with the client_id UUID made at the moment of the press, until
 * the server answers 201 (stored) or 200 (this press was already stored). Both the page
 * (alarm.js) and the service worker (sw.js) load this file and may deliver: the server keeps one
 * alarm per client_id, so a press delivered twice is still one alarm.
 */
(function (global) {
  'use strict';

  var DB_NAME = 'qorgau-alarms';
  var OUTBOX = 'outbox';
  var META = 'meta';
  var TIMEOUT_MS = 15000;
  var dbPromise = null;

  function available() {
    return typeof global.indexedDB !== 'undefined' && typeof global.fetch === 'function';
  }

  function request(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }

  function open() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var r = global.indexedDB.open(DB_NAME, 1);
        r.onupgradeneeded = function () {
          var db = r.result;
          if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: 'client_id' });
          if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
        };
        r.onsuccess = function () { resolve(r.result); };
        r.onerror = function () { dbPromise = null; reject(r.error); };
      });
    }
    return dbPromise;
  }

  function store(name, mode) {
    return open().then(function (db) { return db.transaction(name, mode).objectStore(name); });
  }

  function put(rec) { return store(OUTBOX, 'readwrite').then(function (s) { return request(s.put(rec)); }); }
  function all() { return store(OUTBOX, 'readonly').then(function (s) { return request(s.getAll()); }); }
  function remove(id) { return store(OUTBOX, 'readwrite').then(function (s) { return request(s.delete(id)); }); }
  function getMeta(key) { return store(META, 'readonly').then(function (s) { return request(s.get(key)); }); }
  function setMeta(key, value) {
    return store(META, 'readwrite').then(function (s) {
      return request(value === null || value === undefined ? s.delete(key) : s.put(value, key));
    });
  }
  /** Forgets everything: on logout, so that the next person on this phone sends nothing of hers. */
  function clear() {
    return Promise.all([
      store(OUTBOX, 'readwrite').then(function (s) { return request(s.clear()); }),
      store(META, 'readwrite').then(function (s) { return request(s.clear()); }),
    ]);
  }

  function send(rec) {
    var body = {};
    Object.keys(rec).forEach(function (k) { if (k !== 'saved_at' && k !== 'attempts') body[k] = rec[k]; });
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, TIMEOUT_MS) : null;
    return fetch('/api/v1/alarms', {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: ctrl ? ctrl.signal : undefined,
    }).finally(function () { if (timer) clearTimeout(timer); });
  }

  function problem(res) {
    return res.json().then(function (p) { return p || {}; }, function () { return {}; });
  }

  /** Tries one press once; reports what happened through notify. Resolves true if it still waits. */
  function deliverOne(rec, notify) {
    return send(rec).then(function (res) {
      if (res.status === 200 || res.status === 201) {
        return res.json().catch(function () { return {}; }).then(function (a) {
          var sent = { client_id: rec.client_id, alarm_id: a.id || null, received_at: a.received_at || null, sent_at: Date.now() };
          return remove(rec.client_id)
            .then(function () { return setMeta('last', sent); })
            .then(function () { notify({ type: 'sent', client_id: rec.client_id, alarm_id: sent.alarm_id, received_at: sent.received_at }); return false; });
        });
      }
      if (res.status === 401 || res.status === 403) {
        notify({ type: 'auth', client_id: rec.client_id });
        return true;
      }
      if (res.status === 422) {
        return problem(res).then(function (p) {
          var errors = p.errors || [];
          // A phone whose clock is wrong: send again without its time; the server uses its own.
          if (rec.pressed_at && errors.some(function (e) { return e.field === 'pressed_at'; })) {
            delete rec.pressed_at;
            return put(rec).then(function () { return deliverOne(rec, notify); });
          }
          return remove(rec.client_id).then(function () {
            notify({ type: 'refused', client_id: rec.client_id, reason: (errors[0] && errors[0].message) || p.title || String(res.status) });
            return false;
          });
        });
      }
      if (res.status >= 500 || res.status === 408 || res.status === 409 || res.status === 429) {
        notify({ type: 'waiting', client_id: rec.client_id });
        return true;
      }
      return problem(res).then(function (p) {
        return remove(rec.client_id).then(function () {
          notify({ type: 'refused', client_id: rec.client_id, reason: p.title || String(res.status) });
          return false;
        });
      });
    }, function () {
      // No network, or no answer in time.
      notify({ type: 'waiting', client_id: rec.client_id });
      return true;
    });
  }

  var running = null;

  /** Tries every waiting press once. Resolves with how many still wait. */
  function flush(notify) {
    notify = notify || function () {};
    if (running) return running;
    running = all().then(function (recs) {
      return recs.reduce(function (p, rec) {
        return p.then(function (n) { return deliverOne(rec, notify).then(function (waits) { return n + (waits ? 1 : 0); }); });
      }, Promise.resolve(0));
    }).finally(function () { running = null; });
    return running;
  }

  global.QorgauOutbox = {
    available: available,
    put: put,
    all: all,
    remove: remove,
    getMeta: getMeta,
    setMeta: setMeta,
    clear: clear,
    flush: flush,
  };
})(self);
