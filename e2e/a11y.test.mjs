// Browser tests of Qorgau's pages, in Debian's Chromium driven by playwright-core, checked with axe-core.
//
//   QORGAU_URL=http://127.0.0.1:PORT QORGAU_DEMO_ACCOUNTS=/path/demo-accounts.csv node --test e2e/
//
// e2e/run.sh starts a server and sets both. Without QORGAU_URL every test here is skipped.
// Knobs: QORGAU_E2E_MAX_PAGES (40), QORGAU_E2E_MAX_DEPTH (2), QORGAU_E2E_PER_SHAPE (2: links that differ only in
// ids or query values count as one shape), QORGAU_CHROMIUM (/usr/bin/chromium).
//
// The page contract these tests hold the server to:
//   - /login has inputs named username, password and totp, each with a <label>, and a submit button; a good
//     login redirects to /, which then shows a logout form (a <form> whose action contains "logout").
//   - every page's header (<header> or role=banner) has plain links that switch the language and the accessible
//     mode. A link is recognised by its URL: a path ending in /KEY/VALUE (/prefs/size/3, /prefs/scheme/wb,
//     /prefs/lang/ky) or a query parameter KEY=VALUE (optionally qorgau_KEY), KEY one of lang|size|scheme|images;
//     a language link may instead carry hreflang="ky".
//   - the preferences are cookies: qorgau_lang = kk|ru|ky|en, qorgau_size = 1|2|3, qorgau_scheme =
//     normal|bw|wb, qorgau_images = on|off; <html lang> equals the chosen language.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { totp, totpCounter } from './lib/totp.mjs';

const require = createRequire(import.meta.url);

const BASE = (process.env.QORGAU_URL || '').replace(/\/+$/, '');
const ACCOUNTS_FILE = process.env.QORGAU_DEMO_ACCOUNTS || '';
const CHROMIUM = process.env.QORGAU_CHROMIUM || '/usr/bin/chromium';
const MAX_PAGES = Number(process.env.QORGAU_E2E_MAX_PAGES || 40);
const MAX_DEPTH = Number(process.env.QORGAU_E2E_MAX_DEPTH || 2);
const LANGS = ['kk', 'ru', 'ky', 'en'];
const SCHEMES = ['normal', 'bw', 'wb'];
const PER_SHAPE = Number(process.env.QORGAU_E2E_PER_SHAPE || 2);
const SKIP_LINK = ['/logout', '/prefs', '/api/'];
const DESKTOP = { width: 1280, height: 900 };
const NARROW = { width: 320, height: 800 };
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const SKIP = BASE ? false : 'QORGAU_URL is not set (e2e/run.sh starts a server and sets it)';
if (SKIP) console.log(`browser tests skipped: ${SKIP}`);

// ---------------------------------------------------------------------------------------------------------
// Demo accounts and TOTP

/** Parses a small RFC 4180 CSV (quoted fields, "" escapes) into objects keyed by the header row. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  const nonEmpty = rows.filter((r) => r.some((f) => f.trim() !== ''));
  const [header, ...body] = nonEmpty;
  if (!header) return [];
  const keys = header.map((h) => h.trim().replace(/^\uFEFF/, ''));
  return body.map((r) => Object.fromEntries(keys.map((k, i) => [k, (r[i] ?? '').trim()])));
}

function readAccounts() {
  assert.ok(ACCOUNTS_FILE, 'QORGAU_DEMO_ACCOUNTS is not set');
  const accounts = parseCsv(readFileSync(ACCOUNTS_FILE, 'utf8'));
  for (const key of ['username', 'role', 'password', 'totp_secret']) {
    assert.ok(accounts.length && key in accounts[0], `${ACCOUNTS_FILE} has no "${key}" column`);
  }
  return accounts;
}

const usedSteps = new Map();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TOTP code for the account that this process has not sent yet (servers may refuse a replayed code); empty
 * for an account without a second factor. */
async function freshCode(account) {
  if (!account.totp_secret) return '';
  for (;;) {
    const now = Date.now();
    const step = totpCounter(now);
    if (usedSteps.get(account.username) !== step) {
      usedSteps.set(account.username, step);
      return totp(account.totp_secret, now);
    }
    await sleep(30_000 - (now % 30_000) + 250);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Page helpers

/** A link's shape: its path with ids replaced, and the names (not values) of its query parameters. The crawl
 * keeps at most PER_SHAPE links of one shape, so forty facilities or regions do not crowd out other pages. */
function shapeOf(u) {
  const id = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d+)$/i;
  const path = u.pathname
    .split('/')
    .map((seg) => (id.test(seg) ? ':id' : seg))
    .join('/');
  return `${path}?${[...new Set(u.searchParams.keys())].sort().join('&')}`;
}

const pathOf = (url) => {
  const u = new URL(url);
  return u.pathname + u.search;
};

async function isLoggedIn(page) {
  return (await page.locator('form[action*="logout"]').count()) > 0;
}

/** Logs in by filling the form (not keyboard-only: that is its own test). */
async function formLogin(page, account) {
  await page.goto(`${BASE}/login`);
  await page.fill('input[name="username"]', account.username);
  await page.fill('input[name="password"]', account.password);
  await page.fill('input[name="totp"]', await freshCode(account));
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.press('input[name="totp"]', 'Enter')]);
  assert.ok(await isLoggedIn(page), 'no logout form on / after logging in');
}

/** Sets preference cookies on a browser context, as the server's own /prefs links would. */
async function setPrefs(context, prefs) {
  await context.addCookies(
    Object.entries(prefs).map(([k, v]) => ({ name: `qorgau_${k}`, value: String(v), url: `${BASE}/` })),
  );
}

/**
 * Chooses preferences for everything `page`'s context loads next: sets the cookies directly and, when the context
 * is logged in, also follows the header's own controls, since the server may keep a logged-in person's choice on
 * the account, where it wins over the cookies.
 */
async function choosePrefs(page, prefs) {
  await setPrefs(page.context(), prefs);
  await page.goto(`${BASE}/`);
  if (!(await isLoggedIn(page))) return;
  for (const [key, value] of Object.entries(prefs)) {
    const control = await prefControl(page, key, String(value));
    if (control) await clickAndLoad(page, control);
  }
  // The controls set cookies of their own; set ours again in case their attributes differ.
  await setPrefs(page.context(), prefs);
}

/** The header links and buttons that set preference `key` to `value`. */
async function prefControl(page, key, value) {
  const handle = await page.evaluateHandle(
    ({ key, value }) => {
      const scopes = [...document.querySelectorAll('header, [role="banner"]')];
      for (const scope of scopes) {
        for (const a of scope.querySelectorAll('a[href]')) {
          if (key === 'lang' && a.getAttribute('hreflang') === value) return a;
          const u = new URL(a.href, document.baseURI);
          if (u.searchParams.get(key) === value || u.searchParams.get(`qorgau_${key}`) === value) return a;
          const segments = u.pathname.split('/');
          const at = segments.lastIndexOf(key);
          if (at >= 0 && segments[at + 1] === value) return a;
        }
        for (const b of scope.querySelectorAll('button[name], input[type="submit"][name]')) {
          if ((b.name === key || b.name === `qorgau_${key}`) && b.value === value) return b;
        }
      }
      return null;
    },
    { key, value },
  );
  return handle.asElement();
}

/** Clicks an element that navigates, and waits for the next document to load. */
async function clickAndLoad(page, element) {
  const loaded = page.waitForEvent('load');
  await element.click();
  await loaded;
}

/** Puts the logged-in account back to the default size and scheme through the header's own controls, in case
 * the server keeps them on the account, where they would outlive this test. Best effort. */
async function restoreDefaults(page) {
  for (const [key, value] of [['size', '1'], ['scheme', 'normal']]) {
    try {
      const control = await prefControl(page, key, value);
      if (control) await clickAndLoad(page, control);
    } catch (e) {
      console.log(`could not restore ${key}=${value}: ${String(e.message).split('\n')[0]}`);
    }
  }
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (injected through the DevTools protocol, which the page's CSP does not govern). */
async function runAxe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(`${AXE_SOURCE}\n;undefined`);
  }
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.flat(Infinity).join(' >>> '), impact: n.impact || v.impact })),
    }));
  });
}

function luminance(rgb) {
  const m = /rgba?\(([^)]+)\)/.exec(rgb);
  if (!m) return NaN;
  const [r, g, b] = m[1].split(',').slice(0, 3).map((x) => Number(x.trim()) / 255);
  const lin = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

/** The font size of the main text and the colours the page is painted in. */
async function pageLook(page) {
  return page.evaluate(() => {
    const transparent = (c) => c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
    const el = document.querySelector('main') || document.body;
    let background = 'rgb(255, 255, 255)';
    for (let n = el; n; n = n.parentElement) {
      const c = getComputedStyle(n).backgroundColor;
      if (!transparent(c)) {
        background = c;
        break;
      }
    }
    return {
      fontSize: parseFloat(getComputedStyle(el).fontSize),
      rootFontSize: parseFloat(getComputedStyle(document.documentElement).fontSize),
      color: getComputedStyle(el).color,
      background,
    };
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('Qorgau pages in Chromium', { skip: SKIP }, () => {
  let chromium;
  let browser;
  let admin;
  let adminState; // storage state of a logged-in system_admin, shared by the tests after login
  let crawled = []; // paths found by the crawl, '/login' included

  async function newContext(options = {}) {
    const context = await browser.newContext({ viewport: DESKTOP, ...options });
    context.setDefaultTimeout(15_000);
    context.setDefaultNavigationTimeout(30_000);
    return context;
  }

  async function adminContext() {
    if (!adminState) {
      const context = await newContext();
      await formLogin(await context.newPage(), admin);
      adminState = await context.storageState();
      await context.close();
    }
    return newContext({ storageState: adminState });
  }

  before(async () => {
    ({ chromium } = await import('playwright-core'));
    const accounts = readAccounts();
    admin = accounts.find((a) => a.role === 'system_admin');
    assert.ok(admin, `no system_admin in ${ACCOUNTS_FILE} (roles: ${accounts.map((a) => a.role).join(', ')})`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    console.log(`${CHROMIUM} ${browser.version()} against ${BASE}`);
  });

  after(async () => {
    await browser?.close();
  });

  test('login form: labelled username, password and totp inputs and a submit button', async () => {
    const context = await newContext();
    const page = await context.newPage();
    try {
      const response = await page.goto(`${BASE}/login`);
      assert.equal(response.status(), 200, 'GET /login');
      for (const name of ['username', 'password', 'totp']) {
        const input = page.locator(`form input[name="${name}"]`);
        assert.equal(await input.count(), 1, `one input named ${name}`);
        const labels = await input.evaluate((el) => [...(el.labels || [])].map((l) => l.textContent.trim()));
        assert.ok(labels.length > 0 && labels.some((t) => t), `input ${name} has a <label> with text`);
      }
      const submit = page.locator('form:has(input[name="username"]) :is(button:not([type]), button[type="submit"], input[type="submit"])');
      assert.ok((await submit.count()) > 0, 'the login form has a submit button');
    } finally {
      await context.close();
    }
  });

  test('keyboard-only login: Tab to each field, type, Enter, land on / logged in', async () => {
    const context = await newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${BASE}/login`);
      const tabTo = async (name) => {
        for (let i = 0; i < 60; i++) {
          await page.keyboard.press('Tab');
          if ((await page.evaluate(() => document.activeElement?.getAttribute('name'))) === name) return;
        }
        assert.fail(`60 Tab presses never focused input[name=${name}]`);
      };
      await tabTo('username');
      await page.keyboard.type(admin.username);
      await tabTo('password');
      await page.keyboard.type(admin.password);
      const code = await freshCode(admin);
      if (code) {
        await tabTo('totp');
        await page.keyboard.type(code);
      }
      await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.keyboard.press('Enter')]);
      assert.ok(await isLoggedIn(page), 'no logout form on / after a keyboard-only login');
      adminState = await context.storageState();
    } finally {
      await context.close();
    }
  });

  test('header controls: largest font and white on black change the page and survive a reload', async () => {
    for (const path of ['/login', '/']) {
      const context = path === '/login' ? await newContext() : await adminContext();
      const page = await context.newPage();
      try {
        await setPrefs(context, { lang: 'en' });
        await page.goto(`${BASE}${path}`);
        const before = await pageLook(page);

        const larger = await prefControl(page, 'size', '3');
        assert.ok(larger, `${path}: no header link to the largest font (a link with ?size=3)`);
        await clickAndLoad(page, larger);
        const big = await pageLook(page);
        assert.ok(big.fontSize > before.fontSize, `${path}: font size ${before.fontSize}px -> ${big.fontSize}px after "largest font"`);

        const wb = await prefControl(page, 'scheme', 'wb');
        assert.ok(wb, `${path}: no header link to white on black (a link with ?scheme=wb)`);
        await clickAndLoad(page, wb);
        const dark = await pageLook(page);
        assert.ok(luminance(dark.background) < 0.05, `${path}: background ${dark.background} is not black after "white on black"`);
        assert.ok(luminance(dark.color) > 0.6, `${path}: text ${dark.color} is not white after "white on black"`);
        assert.ok(dark.fontSize >= big.fontSize, `${path}: the colour scheme reset the font size`);

        await page.reload();
        const again = await pageLook(page);
        assert.deepEqual(again, dark, `${path}: the look changed on reload`);
        if (path === '/login') {
          // Logged out, the choice lives in cookies (logged in, the server may keep it on the account instead).
          const cookies = Object.fromEntries((await context.cookies(BASE)).map((c) => [c.name, c.value]));
          assert.equal(cookies.qorgau_size, '3', `${path}: cookie qorgau_size`);
          assert.equal(cookies.qorgau_scheme, 'wb', `${path}: cookie qorgau_scheme`);
        }
      } finally {
        if (path !== '/login') await restoreDefaults(page);
        await context.close();
      }
    }
  });

  test('header language links set <html lang> and it survives a reload', async () => {
    const context = await newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${BASE}/login`);
      for (const lang of ['ky', 'ru', 'kk', 'en']) {
        const link = await prefControl(page, 'lang', lang);
        assert.ok(link, `no header link to language ${lang} (?lang=${lang} or hreflang="${lang}")`);
        await clickAndLoad(page, link);
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `<html lang> after choosing ${lang}`);
        await page.reload();
        assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `<html lang> after reload (${lang})`);
      }
    } finally {
      await context.close();
    }
  });

  test(`crawl from / as system_admin (depth ${MAX_DEPTH}, at most ${MAX_PAGES} pages): every page loads`, { timeout: 10 * 60_000 }, async () => {
    const context = await adminContext();
    const page = await context.newPage();
    await choosePrefs(page, { lang: 'en', size: '1', scheme: 'normal' });
    const problems = [];
    const skipped = [];
    const pages = [];
    const seen = new Set(['/']);
    const shapes = new Map([[shapeOf(new URL(`${BASE}/`)), 1]]);
    let similar = 0;
    const queue = [{ path: '/', depth: 0, from: '(start)' }];
    try {
      while (queue.length && pages.length < MAX_PAGES) {
        const { path, depth, from } = queue.shift();
        let response;
        try {
          response = await page.goto(`${BASE}${path}`);
        } catch (e) {
          // A link that starts a download instead of a page, or one that never loads.
          skipped.push(`${path} (${String(e.message).split('\n')[0]})`);
          continue;
        }
        if (!response) {
          skipped.push(`${path} (no response)`);
          continue;
        }
        const type = response.headers()['content-type'] || '';
        if (response.status() >= 400) {
          problems.push(`${path} (linked from ${from}): HTTP ${response.status()}`);
          continue;
        }
        if (!type.includes('text/html')) {
          skipped.push(`${path} (${type || 'no content-type'})`);
          continue;
        }
        const landed = pathOf(page.url());
        if (new URL(page.url()).pathname === '/login') {
          problems.push(`${path} (linked from ${from}): redirected to ${landed} although logged in`);
          continue;
        }
        pages.push(path);
        const wanted = [...LANGS.map((l) => ['lang', l]), ['size', '1'], ['size', '3'], ['scheme', 'normal'], ['scheme', 'wb']];
        for (const [key, value] of wanted) {
          if (!(await prefControl(page, key, value))) problems.push(`${path}: no header control for ${key}=${value}`);
        }
        if (depth >= MAX_DEPTH) continue;
        const hrefs = await page.$$eval('a[href]:not([download])', (as) => as.map((a) => a.href));
        for (const href of hrefs) {
          let u;
          try {
            u = new URL(href);
          } catch {
            continue;
          }
          if (u.origin !== new URL(BASE).origin) continue;
          u.hash = '';
          const p = u.pathname + u.search;
          if (SKIP_LINK.some((s) => p.includes(s)) || seen.has(p)) continue;
          seen.add(p);
          const shape = shapeOf(u);
          if ((shapes.get(shape) || 0) >= PER_SHAPE) {
            similar++;
            continue;
          }
          shapes.set(shape, (shapes.get(shape) || 0) + 1);
          queue.push({ path: p, depth: depth + 1, from: path });
        }
      }
    } finally {
      await context.close();
    }
    crawled = [...pages, '/login'];
    console.log(`crawled ${pages.length} pages (${similar} more links like them left out): ${pages.join(' ')}`);
    if (skipped.length) console.log(`not pages (skipped): ${skipped.join('; ')}`);
    assert.ok(pages.includes('/'), '/ itself did not load');
    assert.ok(problems.length === 0, `${problems.length} problems:\n  ${problems.join('\n  ')}`);
  });

  test('axe-core: no serious or critical violations, <html lang> right, in 4 languages x 3 schemes', { timeout: 40 * 60_000 }, async () => {
    if (crawled.length === 0) crawled = ['/', '/login'];
    const auth = await adminContext();
    const anon = await newContext();
    const pageFor = new Map([[auth, await auth.newPage()], [anon, await anon.newPage()]]);
    const violations = new Map(); // "rule|impact|target|path" -> ["lang/scheme", ...]
    const details = new Map();
    const problems = [];
    let loads = 0;
    const started = Date.now();
    try {
      for (const lang of LANGS) {
        for (const scheme of SCHEMES) {
          for (const page of pageFor.values()) await choosePrefs(page, { lang, scheme, size: '1', images: 'on' });
          for (const path of crawled) {
            const context = path === '/login' ? anon : auth;
            const page = pageFor.get(context);
            let response;
            try {
              response = await page.goto(`${BASE}${path}`);
            } catch (e) {
              problems.push(`${path} [${lang}/${scheme}]: ${String(e.message).split('\n')[0]}`);
              continue;
            }
            loads++;
            if (!response || response.status() >= 400) {
              problems.push(`${path} [${lang}/${scheme}]: HTTP ${response?.status()}`);
              continue;
            }
            const htmlLang = await page.evaluate(() => document.documentElement.lang);
            if (htmlLang !== lang) problems.push(`${path} [${lang}/${scheme}]: <html lang="${htmlLang}">, expected "${lang}"`);
            for (const v of await runAxe(page)) {
              for (const n of v.nodes) {
                const impact = n.impact || v.impact;
                if (impact !== 'serious' && impact !== 'critical') continue;
                const key = `${v.id}|${impact}|${n.target}|${path}`;
                if (!violations.has(key)) violations.set(key, []);
                violations.get(key).push(`${lang}/${scheme}`);
                details.set(v.id, v.help);
              }
            }
          }
        }
      }
    } finally {
      await auth.close();
      await anon.close();
    }
    console.log(`axe ran on ${loads} page loads (${crawled.length} pages x ${LANGS.length} languages x ${SCHEMES.length} schemes) in ${Math.round((Date.now() - started) / 1000)} s`);
    const lines = [...violations.entries()].map(([key, combos]) => {
      const [rule, impact, target, path] = key.split('|');
      return `${rule} (${impact}) on ${path} at \`${target}\` in ${combos.length === LANGS.length * SCHEMES.length ? 'every language and scheme' : combos.join(', ')}`;
    });
    lines.sort();
    const rules = [...details.entries()].map(([id, help]) => `${id}: ${help}`).join('\n  ');
    const report = [];
    if (problems.length) report.push(`${problems.length} page problems:\n  ${problems.join('\n  ')}`);
    if (lines.length) report.push(`${lines.length} serious/critical axe violations:\n  ${lines.join('\n  ')}\nrules:\n  ${rules}`);
    assert.ok(report.length === 0, report.join('\n'));
  });

  test('reflow: no horizontal scroll at 320 px wide, every page, every language, default scheme', { timeout: 15 * 60_000 }, async () => {
    if (crawled.length === 0) crawled = ['/', '/login'];
    const auth = await adminContext();
    const anon = await newContext();
    const pageFor = new Map([[auth, await auth.newPage()], [anon, await anon.newPage()]]);
    const problems = [];
    try {
      for (const lang of LANGS) {
        for (const page of pageFor.values()) {
          await page.setViewportSize(DESKTOP);
          await choosePrefs(page, { lang, size: '1', scheme: 'normal' });
          await page.setViewportSize(NARROW);
        }
        for (const path of crawled) {
          const page = pageFor.get(path === '/login' ? anon : auth);
          try {
            await page.goto(`${BASE}${path}`);
          } catch (e) {
            problems.push(`${path} [${lang}]: ${String(e.message).split('\n')[0]}`);
            continue;
          }
          const m = await page.evaluate(() => {
            const el = document.scrollingElement || document.documentElement;
            const wide = [...document.querySelectorAll('body *')]
              .filter((e) => e.getBoundingClientRect().right > el.clientWidth + 1)
              .filter((e) => !e.parentElement || e.parentElement.getBoundingClientRect().right <= el.clientWidth + 1)
              .slice(0, 3)
              .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.classList.length ? '.' + [...e.classList].join('.') : ''} (${Math.round(e.getBoundingClientRect().right)}px)`);
            return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, wide };
          });
          if (m.scrollWidth > m.clientWidth + 1) {
            problems.push(`${path} [${lang}]: scrollWidth ${m.scrollWidth} > clientWidth ${m.clientWidth}; widest: ${m.wide.join(', ')}`);
          }
        }
      }
    } finally {
      await auth.close();
      await anon.close();
    }
    assert.ok(problems.length === 0, `${problems.length} pages scroll sideways at 320 px:\n  ${problems.join('\n  ')}`);
  });
});
