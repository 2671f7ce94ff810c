/* Autosaved report drafts, kept on this device only: nothing reaches the server before she sends.
 *
 * A form with data-draft="<name>" is saved as she types (half a second after the last change) and
 * filled again when she comes back to a fresh form, also offline: the service worker keeps the
 * form pages. Where the draft lives:
 *   - data-draft-store="local": localStorage, encrypted with AES-GCM under data-draft-key, a key
 *     the server derives from her account, so another person on a shared browser reads only
 *     ciphertext. Without WebCrypto (plain HTTP on a remote host) nothing is saved.
 *   - data-draft-store="session": sessionStorage, gone when the tab closes (the anonymous form:
 *     no account, nothing that outlives the visit).
 * A page that confirms the report was stored carries data-draft-clear="<name>": the draft goes.
 * Sending while offline is held back with a message; the draft stays until she is online.
 */
(function () {
  'use strict';
  var PREFIX = 'qorgau-draft:';

  function b64(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }
  function unb64(s) {
    var raw = atob(s), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function storeFor(kind) {
    try {
      return kind === 'session' ? window.sessionStorage : window.localStorage;
    } catch (e) {
      return null;
    }
  }

  /* Encryption for the local store; identity for the session store. */
  function codec(form) {
    var kind = form.getAttribute('data-draft-store');
    if (kind === 'session') {
      return Promise.resolve({
        seal: function (text) { return Promise.resolve(text); },
        open: function (text) { return Promise.resolve(text); },
      });
    }
    var keyText = form.getAttribute('data-draft-key');
    if (!keyText || !window.crypto || !window.crypto.subtle) return Promise.resolve(null);
    return window.crypto.subtle.importKey('raw', unb64(keyText), 'AES-GCM', false, ['encrypt', 'decrypt'])
      .then(function (key) {
        return {
          seal: function (text) {
            var iv = window.crypto.getRandomValues(new Uint8Array(12));
            return window.crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv }, key, new TextEncoder().encode(text))
              .then(function (ct) { return b64(iv) + '.' + b64(new Uint8Array(ct)); });
          },
          open: function (sealed) {
            var parts = String(sealed).split('.');
            if (parts.length !== 2) return Promise.reject(new Error('not a draft'));
            return window.crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(parts[0]) }, key, unb64(parts[1]))
              .then(function (pt) { return new TextDecoder().decode(pt); });
          },
        };
      }, function () { return null; });
  }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.type !== 'hidden' && el.type !== 'password' && el.type !== 'file' &&
        el.type !== 'submit' && el.type !== 'button';
    });
  }

  function collect(form) {
    var data = {};
    fields(form).forEach(function (el) {
      if (el.type === 'checkbox' || el.type === 'radio') {
        if (el.checked) (data[el.name] = data[el.name] || []).push(el.value);
      } else if (el.value !== '') {
        data[el.name] = [el.value];
      }
    });
    return data;
  }

  function fill(form, data) {
    fields(form).forEach(function (el) {
      var values = data[el.name] || [];
      if (el.type === 'checkbox' || el.type === 'radio') {
        el.checked = values.indexOf(el.value) >= 0;
      } else {
        el.value = values.length ? values[0] : '';
      }
    });
  }

  function say(form, text) {
    var out = form.querySelector('[data-draft-status]');
    if (out) out.textContent = text;
  }

  function clock() {
    var d = new Date();
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  function start(form) {
    var name = PREFIX + form.getAttribute('data-draft');
    var store = storeFor(form.getAttribute('data-draft-store'));
    if (!store) return;
    codec(form).then(function (c) {
      if (!c) return;
      var saved = form.getAttribute('data-draft-saved') || '';
      var timer = null;
      function save() {
        var data = collect(form);
        c.seal(JSON.stringify(data)).then(function (sealed) {
          try {
            store.setItem(name, sealed);
            say(form, saved + ' ' + clock());
          } catch (e) { /* full or refused: the form still works */ }
        });
      }
      form.addEventListener('input', function () {
        clearTimeout(timer);
        timer = setTimeout(save, 500);
      });
      form.addEventListener('change', function () {
        clearTimeout(timer);
        timer = setTimeout(save, 500);
      });
      form.addEventListener('submit', function (e) {
        clearTimeout(timer);
        if (navigator.onLine === false) {
          e.preventDefault();
          save();
          var offline = form.querySelector('[data-draft-offline]');
          if (offline) offline.hidden = false;
        }
      });
      window.addEventListener('online', function () {
        var offline = form.querySelector('[data-draft-offline]');
        if (offline) offline.hidden = true;
      });
      var discard = form.querySelector('[data-draft-discard]');
      if (discard) {
        discard.hidden = false;
        discard.addEventListener('click', function () {
          store.removeItem(name);
          fill(form, {});
          say(form, '');
        });
      }
      // Only a fresh form is filled: after the server's own answer (errors shown) its values win.
      if (form.getAttribute('data-draft-restore') !== '1') return;
      var sealed = store.getItem(name);
      if (!sealed) return;
      c.open(sealed).then(function (text) {
        fill(form, JSON.parse(text));
        say(form, form.getAttribute('data-draft-restored') || '');
      }, function () { store.removeItem(name); });
    });
  }

  function clear(el) {
    var name = PREFIX + el.getAttribute('data-draft-clear');
    [storeFor('local'), storeFor('session')].forEach(function (s) {
      try { if (s) s.removeItem(name); } catch (e) { /* nothing to clear */ }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-draft-clear]'), clear);
    Array.prototype.forEach.call(document.querySelectorAll('form[data-draft]'), start);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
