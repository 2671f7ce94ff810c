// Report drafts in Chromium (static/report-draft.js): saved as she types on this device only,
// encrypted there for a named form, filled in again after a reload, kept when she tries to send
// offline, and gone once the server has the report. The anonymous form keeps its draft in the tab.
//
//   QORGAU_URL=http://127.0.0.1:PORT QORGAU_DEMO_ACCOUNTS=/path/demo-accounts.csv node --test e2e/
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const BASE = (process.env.QORGAU_URL || '').replace(/\/+$/, '');
const ACCOUNTS_FILE = process.env.QORGAU_DEMO_ACCOUNTS || '';
const CHROMIUM = process.env.QORGAU_CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];
const SKIP = BASE ? false : 'QORGAU_URL is not set (e2e/run.sh starts a server and sets it)';
const KEY = 'qorgau-draft:report-new';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('report drafts', { skip: SKIP }, () => {
  let browser;
  let worker;

  before(async () => {
    const { chromium } = await import('playwright-core');
    // demo-accounts.csv: username,role,password,totp_secret (no quoting needed for demo values).
    const [head, ...rows] = readFileSync(ACCOUNTS_FILE, 'utf8').trim().split(/\r?\n/).map((l) => l.split(','));
    worker = rows.map((r) => Object.fromEntries(head.map((k, i) => [k, r[i] ?? '']))).find((a) => a.role === 'worker');
    assert.ok(worker, 'no worker in the demo accounts');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  });

  after(async () => {
    await browser?.close();
  });

  test('a named draft is kept encrypted on the device, restored, held offline and cleared once filed', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/login`);
    await page.fill('input[name="username"]', worker.username);
    await page.fill('input[name="password"]', worker.password);
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.press('input[name="password"]', 'Enter')]);

    await page.goto(`${BASE}/reports/new`);
    const words = `He threatened me at the triage desk ${Date.now()}`;
    await page.fill('textarea[name="narrative"]', words);
    await sleep(1200);
    const stored = await page.evaluate((k) => localStorage.getItem(k), KEY);
    assert.ok(stored, 'no draft saved as she typed');
    assert.ok(!stored.includes('threatened'), 'the draft is stored in clear');
    assert.ok((await page.textContent('[data-draft-status]')).trim().length > 0, 'no "draft saved" status');

    await page.reload();
    await page.waitForFunction(() => document.querySelector('textarea[name="narrative"]').value.length > 0);
    assert.equal(await page.inputValue('textarea[name="narrative"]'), words);

    // Offline: sending is held back with a message, and the draft stays.
    await page.check('input[name="types"][value="psychological.threat"]');
    await page.selectOption('select[name="perpetrator"]', 'patient');
    await page.fill('input[name="occurred_local"]', '2026-03-21T03:00');
    await context.setOffline(true);
    await page.click('form[data-draft] button[type="submit"]');
    await page.waitForSelector('[data-draft-offline]:not([hidden])');
    assert.equal(new URL(page.url()).pathname, '/reports/new');
    await context.setOffline(false);

    // Online: filed, and the draft is gone from the device.
    await Promise.all([
      page.waitForURL((u) => /^\/reports\/[0-9a-f-]{36}$/.test(u.pathname)),
      page.click('form[data-draft] button[type="submit"]'),
    ]);
    await page.waitForFunction((k) => localStorage.getItem(k) === null, KEY);
    await page.goto(`${BASE}/reports/new`);
    await sleep(500);
    assert.equal(await page.inputValue('textarea[name="narrative"]'), '');
    await context.close();
  });

  test('an anonymous draft lives in the tab only', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${BASE}/report-anonymously`);
    await page.fill('textarea[name="narrative"]', 'Pushed in the corridor');
    await sleep(1200);
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    assert.ok(await page.evaluate(() => sessionStorage.getItem('qorgau-draft:report-anon')));
    await page.reload();
    await page.waitForFunction(() => document.querySelector('textarea[name="narrative"]').value.length > 0);
    assert.equal(await page.inputValue('textarea[name="narrative"]'), 'Pushed in the corridor');
    await page.click('form[data-draft] [data-draft-discard]');
    assert.equal(await page.inputValue('textarea[name="narrative"]'), '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('qorgau-draft:report-anon')), null);
    await context.close();
  });
});
