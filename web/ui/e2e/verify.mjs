// Browser test of the SMS code step against a running leadcap backend with
// LEADCAP_VERIFY=sms LEADCAP_SMS_PROVIDER=log: the code is read from the server's log, as a
// developer would read it.
//
//   BASE_URL=http://127.0.0.1:8000 SERVER_LOG=serve.log OUT_DIR=e2e-output node e2e/verify.mjs
//
// Prints one JSON object on stdout: {locale, phone, click_to_pending_ms, code_click_to_pending_ms, ...}.
// `phone` (E.164) is a real lead the caller can look up: it ends `verified`. Exits 1 on any failed check.
import { chromium } from 'playwright-core';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const SERVER_LOG = process.env.SERVER_LOG ?? '';
const OUT_DIR = path.resolve(process.env.OUT_DIR ?? path.join(here, '..', 'e2e-output'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

const failures = [];
function check(name, ok, detail = '') {
  console.error(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : ` — ${detail}`}`);
  if (!ok) failures.push(detail ? `${name}: ${detail}` : name);
  return ok;
}

const PERSIAN = '۰۱۲۳۴۵۶۷۸۹';
const toPersian = (ascii) => ascii.replace(/\d/g, (d) => PERSIAN[Number(d)]);
function randomMobile() {
  let rest = '';
  for (let i = 0; i < 7; i += 1) rest += Math.floor(Math.random() * 10);
  return `0912${rest}`;
}

/** The code the log provider wrote after `offset` bytes of the server log, for a phone ending in `tail`. */
async function codeFromLog(offset, tail) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const text = (await readFile(SERVER_LOG, 'utf8')).slice(offset);
    const found = [...text.matchAll(/verification code for \+?[0-9*]+?(\d\d): (\d{5})/g)].filter((m) => m[1] === tail);
    if (found.length) return found[found.length - 1][2];
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/**
 * From a click to the button reporting busy, measured inside the page: the milliseconds, and
 * whether busy came before the next animation frame. The frame is the check: feedback painted in
 * the click's own frame is immediate whatever the machine's load, while the milliseconds of one
 * sample on a loaded CI machine are only reported.
 */
async function clickToPending(page, selector) {
  return page.evaluate(
    (sel) =>
      new Promise((resolve) => {
        const button = document.querySelector(sel);
        let framed = false;
        const start = performance.now();
        const observer = new MutationObserver(() => {
          if (button.getAttribute('aria-busy') === 'true') {
            observer.disconnect();
            resolve({ ms: performance.now() - start, beforeNextFrame: !framed });
          }
        });
        observer.observe(button, { attributes: true, childList: true, subtree: true });
        requestAnimationFrame(() => { framed = true; });
        button.click();
      }),
    selector,
  );
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const result = { base_url: BASE_URL };
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const codeRequests = [];
    page.on('request', (request) => {
      if (/\/api\/leads\/[^/]+\/(verify|resend)$/.test(request.url())) codeRequests.push({ url: request.url(), body: request.postData() ?? '' });
    });
    await page.goto(`${BASE_URL}/`, { waitUntil: 'load' });
    await page.waitForSelector('[data-hydrated="true"]');
    const locale = await page.evaluate(() => document.documentElement.lang);
    result.locale = locale;

    const national = randomMobile();
    result.phone = `+98${national.slice(1)}`;
    await page.fill('form input[name="phone"]', toPersian(national));
    const before = SERVER_LOG ? (await readFile(SERVER_LOG, 'utf8')).length : 0;
    const pending = await clickToPending(page, 'form button[type="submit"]');
    result.click_to_pending_ms = Math.round(pending.ms * 10) / 10;
    check('click → pending before the next frame', pending.beforeNextFrame, `${result.click_to_pending_ms} ms`);

    const code = page.locator('input[autocomplete="one-time-code"]');
    await code.waitFor();
    check('the code step appears', true);
    check('numeric keyboard', (await code.getAttribute('inputmode')) === 'numeric');
    check('the code field has focus', await code.evaluate((el) => el === document.activeElement));
    const resend = page.locator('[data-testid="resend"]');
    check('resend waits, with a countdown', (await resend.isDisabled()) && /[0-9۰-۹]:[0-9۰-۹]{2}/.test(await resend.innerText()));
    await page.screenshot({ path: path.join(OUT_DIR, `verify-${locale}-1280-code.png`), fullPage: true });

    const real = await codeFromLog(before, national.slice(-2));
    check('the code is in the server log (log provider)', real !== null);
    if (real === null) throw new Error('no code in the server log');
    const wrongCode = String((Number(real) + 1) % 100000).padStart(5, '0');
    await code.fill(toPersian(wrongCode)); // a full code submits itself
    const message = page.locator('[data-testid="code-message"]');
    await page.waitForFunction(() => document.querySelector('input[autocomplete="one-time-code"]')?.getAttribute('aria-invalid') === 'true');
    const wrongText = await message.innerText();
    check('a wrong code is explained in the page’s language', locale === 'fa' ? /[\u0600-\u06FF]/.test(wrongText) : /not right|try/i.test(wrongText), wrongText);
    await page.screenshot({ path: path.join(OUT_DIR, `verify-${locale}-1280-wrong.png`), fullPage: true });
    // The field emptied itself for the next code; a tap on the button must not then claim the
    // code is too short: the sentence keeps saying why the field is empty, and nothing is sent.
    const sentBefore = codeRequests.length;
    await page.locator('form button[type="submit"]').click();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null)))); // the tap's render is painted
    const afterTap = await message.innerText();
    check('after a wrong code, the button keeps the real state', afterTap === wrongText && (await code.inputValue()) === '', `${afterTap} / field "${await code.inputValue()}"`);
    check('…and sends nothing', codeRequests.length === sentBefore, `${codeRequests.length - sentBefore} more`);
    check('…the field still marked wrong', (await code.getAttribute('aria-invalid')) === 'true');

    await code.fill(toPersian(real).slice(0, 4));
    await code.press('End');
    // Feedback on the code step: from the fifth digit (keydown, or beforeinput for a Persian digit,
    // which Playwright inserts as text) to the button reporting busy.
    await page.evaluate(() => {
      const probe = { down: null, busy: null, framed: false, busyBeforeFrame: null };
      window.__codeProbe = probe;
      for (const type of ['keydown', 'beforeinput']) {
        document.addEventListener(type, () => {
          if (probe.down !== null) return;
          probe.down = performance.now();
          requestAnimationFrame(() => { probe.framed = true; });
        }, { capture: true });
      }
      const button = document.querySelector('form button[type="submit"]');
      new MutationObserver(() => {
        if (button.getAttribute('aria-busy') !== 'true' || probe.busy !== null) return;
        probe.busy = performance.now();
        probe.busyBeforeFrame = !probe.framed;
      }).observe(button, { attributes: true });
    });
    await code.type(toPersian(real).slice(4)); // the fifth digit sends it
    await page.waitForSelector('[data-state="verified"]');
    const probe = await page.evaluate(() => window.__codeProbe);
    result.code_input_to_pending_ms = probe.down !== null && probe.busy !== null ? Math.round((probe.busy - probe.down) * 10) / 10 : null;
    check('fifth digit → pending before the next frame', probe.busyBeforeFrame === true, `${result.code_input_to_pending_ms} ms`);
    check('the right code (Persian digits) verifies', true);
    const tokens = new Set(codeRequests.map((r) => { try { return JSON.parse(r.body).token; } catch { return undefined; } }));
    const [token] = tokens;
    check('every code request carries the first answer’s token, in the body', tokens.size === 1 && /^[A-Za-z0-9_-]{43}$/.test(String(token)), [...tokens].join(', '));
    check('the token is never in a URL', codeRequests.every((r) => !r.url.includes(String(token))) && !page.url().includes(String(token)));
    await page.screenshot({ path: path.join(OUT_DIR, `verify-${locale}-1280-verified.png`), fullPage: true });
    check('no page errors', errors.length === 0, errors.join('; '));
  } catch (err) {
    check('run completes', false, String(err?.message ?? err));
  } finally {
    await browser.close();
  }
  result.failures = failures;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(failures.length ? 1 : 0);
}

main();
