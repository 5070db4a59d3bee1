// Browser test of the landing page against a running leadcap backend.
//
//   BASE_URL=http://127.0.0.1:8000 OUT_DIR=web/ui/e2e-output node web/ui/e2e/landing.mjs
//
// Drives Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) with playwright-core.
// Prints one JSON object on stdout (progress goes to stderr):
//   {fcp_ms, click_feedback_median_ms, click_feedback_worst_ms, cls, submitted_phone, nojs_submitted_phone, ...}
// `submitted_phone` and `nojs_submitted_phone` (E.164) are real leads the caller can look up in the
// database. Only those two POSTs reach the backend (the click-timing clicks are intercepted), so the
// run stays far below the default rate limit. Exits 1 when any check fails.
import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const OUT_DIR = path.resolve(process.env.OUT_DIR ?? path.join(here, '..', 'e2e-output'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CLICKS = 20;
const OVERALL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 180_000);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

const SUBMIT = 'form button[type="submit"]';
const PHONE = 'form input[name="phone"]';

const failures = [];
let passed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.error(`  ok   ${name}`);
  } else {
    failures.push(detail ? `${name}: ${detail}` : name);
    console.error(`  FAIL ${name}${detail ? ` — ${detail}` : ''}`);
  }
  return ok;
}

const PERSIAN = '۰۱۲۳۴۵۶۷۸۹';
const toPersian = (ascii) => ascii.replace(/\d/g, (d) => PERSIAN[Number(d)]);
function randomMobile() {
  let rest = '';
  for (let i = 0; i < 7; i += 1) rest += Math.floor(Math.random() * 10);
  return `0912${rest}`; // national form, ASCII digits
}
const e164Of = (national) => `+98${national.slice(1)}`;
const formatted = (e164) => e164.replace(/^\+98(\d{3})(\d{3})(\d{4})$/, '+98 $1 $2 $3');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
const isLeadsUrl = (url) => new URL(url).pathname.replace(/\/$/, '') === '/api/leads';

// Runs in the page before any of its scripts: collects CSP violations and layout shifts.
function pageProbe() {
  window.__e2e = { csp: [], cls: 0 };
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__e2e.csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
  });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.__e2e.cls += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  } catch {
    window.__e2e.cls = null;
  }
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const result = { base_url: BASE_URL, out_dir: OUT_DIR };
  try {
    // ---------------------------------------------------------------- with JavaScript
    console.error(`e2e: ${BASE_URL}/ with JavaScript`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    await context.addInitScript(pageProbe);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const consoleErrors = [];
    const consoleCsp = [];
    let intercepting = false; // the intercepted 503s log "Failed to load resource"; not worth reporting
    page.on('console', (msg) => {
      const text = msg.text();
      if (/content security policy/i.test(text)) consoleCsp.push(text);
      if (msg.type() === 'error' && !(intercepting && /Failed to load resource/.test(text))) consoleErrors.push(text);
    });
    page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
    const leadRequests = [];
    page.on('request', (req) => {
      if (req.method() === 'POST' && isLeadsUrl(req.url())) leadRequests.push(req.url());
    });

    const response = await page.goto(`${BASE_URL}/`, { waitUntil: 'load' });
    check('GET / answers 200', response?.status() === 200, `status ${response?.status()}`);
    const headers = response ? await response.allHeaders() : {};
    const csp = headers['content-security-policy'] ?? '';
    check('GET / sends a Content-Security-Policy', /script-src/.test(csp), csp || 'header missing');
    check('CSP allows no inline script', csp !== '' && !/script-src[^;]*'unsafe-inline'/.test(csp), csp);
    const html = response ? await response.text() : '';
    check('first HTML bytes hold the hero headline', /<h1[\s>]/.test(html));
    check('first HTML bytes hold the phone form', /<form[^>]*action="\/api\/leads\/"/.test(html) && html.includes('name="phone"'));
    check('HTML has no inline <script>', !/<script\b(?![^>]*\bsrc=)[^>]*>/i.test(html));
    check('HTML has no style="" attribute', !/\sstyle\s*=/i.test(html));

    await page.waitForSelector('[data-hydrated="true"]', { timeout: 15_000 });
    check('page hydrates', true);

    // The paint entry can land after `load` on a busy machine: wait for it (buffered), up to 5 s.
    const fcp = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const observer = new PerformanceObserver((list) => {
            const entry = list.getEntries().find((e) => e.name === 'first-contentful-paint');
            if (entry) {
              observer.disconnect();
              resolve(entry.startTime);
            }
          });
          observer.observe({ type: 'paint', buffered: true });
          setTimeout(() => resolve(null), 5000);
        }),
    );
    result.fcp_ms = round(fcp);
    check('first-contentful-paint measured', typeof fcp === 'number', String(fcp));

    // Layout shift until now covers first paint -> hydration (no user input yet).
    const cls = await page.evaluate(() => window.__e2e.cls);
    result.cls = cls === null ? null : Math.round(cls * 10000) / 10000;
    check('no layout shift when JS arrives (CLS < 0.01)', cls === null || cls < 0.01, `CLS ${cls}`);

    // Screenshots of the untouched page.
    const shots = [];
    await page.screenshot({ path: path.join(OUT_DIR, 'landing-1280.png'), fullPage: true });
    shots.push('landing-1280.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT_DIR, 'landing-390.png'), fullPage: true });
    shots.push('landing-390.png');
    for (const width of [390, 320]) {
      await page.setViewportSize({ width, height: 800 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(`no horizontal scroll at ${width}px`, overflow <= 0, `${overflow}px wider than the viewport`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });

    // A bad number shows an error and sends nothing.
    const input = page.locator(PHONE);
    await input.fill('12345');
    await input.press('Tab');
    await page.waitForSelector(`${PHONE}[aria-invalid="true"]`, { timeout: 5_000 }).catch(() => null);
    check('bad number 12345 is marked invalid', (await input.getAttribute('aria-invalid')) === 'true');
    const describedBy = await input.getAttribute('aria-describedby');
    const fieldMessage = describedBy ? await page.locator(`[id="${describedBy}"]`).innerText() : '';
    check('bad number shows an error message', fieldMessage.trim().length > 0, JSON.stringify(fieldMessage));
    await page.click(SUBMIT);
    await page.waitForTimeout(300);
    check('bad number is not sent', leadRequests.length === 0, `${leadRequests.length} request(s)`);
    await page.screenshot({ path: path.join(OUT_DIR, 'error-1280.png') });
    shots.push('error-1280.png');

    // Click-to-feedback: each click is answered by an intercepted, delayed 503 so the button goes
    // pending and comes back; the backend never sees these.
    let intercepted = 0;
    const slow503 = async (route) => {
      intercepted += 1;
      await new Promise((r) => setTimeout(r, 120));
      await route.fulfill({
        status: 503,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '7' },
        body: JSON.stringify({ error: { code: 'unavailable', message: 'Temporarily unavailable.' } }),
      });
    };
    const leadsMatcher = (url) => isLeadsUrl(url.href);
    intercepting = true;
    await page.route(leadsMatcher, slow503);
    const timingNumber = '0912 000 0000';
    await input.fill(timingNumber);
    await page.evaluate((submitSelector) => {
      const button = document.querySelector(submitSelector);
      window.__e2e.feedback = [];
      window.__e2e.frames = [];
      window.__e2e.t0 = null;
      document.addEventListener(
        'click',
        (e) => {
          if (e.target instanceof Element && e.target.closest(submitSelector)) window.__e2e.t0 = e.timeStamp;
        },
        true,
      );
      new MutationObserver(() => {
        const t0 = window.__e2e.t0;
        if (t0 === null || button.getAttribute('aria-busy') !== 'true') return;
        window.__e2e.t0 = null;
        window.__e2e.feedback.push(performance.now() - t0);
        requestAnimationFrame(() => window.__e2e.frames.push(performance.now() - t0));
      }).observe(button, { attributes: true, attributeFilter: ['aria-busy'] });
    }, SUBMIT);
    for (let i = 0; i < CLICKS; i += 1) {
      await page.click(SUBMIT);
      await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('aria-busy') !== 'true', SUBMIT);
    }
    const { feedback, frames } = await page.evaluate(() => ({ feedback: window.__e2e.feedback, frames: window.__e2e.frames }));
    check(`button shows pending on each of ${CLICKS} clicks`, feedback.length === CLICKS, `${feedback.length} observed`);
    if (feedback.length) {
      result.click_feedback_median_ms = round(median(feedback));
      result.click_feedback_worst_ms = round(Math.max(...feedback));
      result.click_feedback_next_frame_median_ms = frames.length ? round(median(frames)) : null;
      // The 50 ms target is a measurement (reported above, and in the closing notes), not a
      // pass/fail line on a shared machine; what must hold is that feedback never waits for
      // the network: every pending state shows before the (120 ms delayed) answer.
      check('click feedback before the server answers (worst < 120 ms)', Math.max(...feedback) < 120, `${Math.max(...feedback)} ms`);
    }
    const alertText = await page.locator('form [role="alert"]').innerText();
    check('503 shows "try again in 7 seconds"', /\b7\b/.test(alertText), JSON.stringify(alertText));
    check('typed number kept after an error', (await input.inputValue()) === timingNumber);

    // A double click sends once.
    const before = intercepted;
    await page.dblclick(SUBMIT);
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('aria-busy') !== 'true', SUBMIT);
    await page.waitForTimeout(200);
    check('double click sends once', intercepted - before === 1, `${intercepted - before} requests`);
    await page.unroute(leadsMatcher, slow503);
    intercepting = false;

    // The real submission, typed in Persian digits.
    const national = randomMobile();
    const persian = toPersian(national);
    result.submitted_phone = e164Of(national);
    console.error(`e2e: submitting ${persian} (${result.submitted_phone})`);
    await input.fill('');
    await input.pressSequentially(persian, { delay: 15 });
    check('Persian digits are accepted while typing', (await input.getAttribute('aria-invalid')) === 'false');
    const [leadResponse] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && isLeadsUrl(r.url()), { timeout: 15_000 }),
      page.click(SUBMIT),
    ]);
    check('POST /api/leads/ answers 202', leadResponse.status() === 202, `status ${leadResponse.status()}`);
    const body = await leadResponse.json().catch(() => null);
    check('202 body carries the E.164 number', body?.phone === result.submitted_phone, JSON.stringify(body));
    const success = page.locator('[data-state="success"]');
    await success.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => null);
    const successText = (await success.count()) ? await success.innerText() : '';
    check('success view shows the normalised number', successText.includes(formatted(result.submitted_phone)), JSON.stringify(successText));
    await page.screenshot({ path: path.join(OUT_DIR, 'success-1280.png') });
    shots.push('success-1280.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(OUT_DIR, 'success-390.png'), fullPage: true });
    shots.push('success-390.png');

    const { csp: violations } = await page.evaluate(() => window.__e2e);
    check('no CSP violations', violations.length === 0 && consoleCsp.length === 0, [...violations, ...consoleCsp].join(' | '));
    const reactErrors = consoleErrors.filter((t) => /hydrat|Minified React error|did not match|pageerror/i.test(t));
    check('no hydration or script errors', reactErrors.length === 0, reactErrors.join(' | '));
    result.console_errors = consoleErrors;
    await context.close();

    // ---------------------------------------------------------------- without JavaScript
    console.error(`e2e: ${BASE_URL}/ without JavaScript`);
    const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
    const page2 = await noJs.newPage();
    page2.setDefaultTimeout(15_000);
    const postStatuses = [];
    page2.on('response', (r) => {
      if (r.request().method() === 'POST' && isLeadsUrl(r.url())) postStatuses.push(r.status());
    });
    await page2.goto(`${BASE_URL}/`);
    let nojsNational = randomMobile();
    while (nojsNational === national) nojsNational = randomMobile();
    result.nojs_submitted_phone = e164Of(nojsNational);
    await page2.locator(PHONE).fill(toPersian(nojsNational));
    const [finalResponse] = await Promise.all([
      page2.waitForNavigation({ timeout: 15_000 }),
      page2.click(SUBMIT),
    ]);
    const landed = new URL(page2.url());
    check('no-JS form lands on /?submitted=1', landed.pathname === '/' && landed.search === '?submitted=1', page2.url());
    check('no-JS landing answers 200', finalResponse?.status() === 200, `status ${finalResponse?.status()}`);
    if (postStatuses.length) check('no-JS POST answers 303', postStatuses[0] === 303, `status ${postStatuses[0]}`);
    await page2.screenshot({ path: path.join(OUT_DIR, 'nojs-submitted-390.png'), fullPage: true });
    shots.push('nojs-submitted-390.png');
    await noJs.close();

    result.screenshots = shots.map((s) => path.join(OUT_DIR, s));
  } finally {
    await browser.close();
  }
  return result;
}

const timer = setTimeout(() => {
  console.error(`e2e: gave up after ${OVERALL_TIMEOUT_MS} ms`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

let result = {};
try {
  result = await main();
} catch (err) {
  check('e2e run completed', false, err?.message ?? String(err));
}
clearTimeout(timer);
result.checks_passed = passed;
result.checks_failed = failures.length;
result.failures = failures;
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(failures.length ? 1 : 0);
