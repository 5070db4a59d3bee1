// Browser test of the landing page against running leadcap backends, one per locale.
//
//   BASE_URLS=fa=http://127.0.0.1:8000,en=http://127.0.0.1:8001 OUT_DIR=test-output/browser node web/ui/e2e/landing.mjs
//   (BASE_URL=http://127.0.0.1:8000 alone tests one backend, in whatever locale it serves)
//
// Drives Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium) with playwright-core.
// Per locale: headers and first bytes, hydration, CLS with the web font (and again with the page
// delivered in two parts, 400 ms apart, by a loopback proxy), screenshots of the default,
// error and success states at 390 and 1280 px, no horizontal scroll at 390 and 320 px, axe-core
// (WCAG 2.2 A/AA) on each state, a real submission and the "what happens next" sentence. On the
// first locale also: 20 timed clicks (click → pending state), a double click, the no-JS form, and
// first contentful paint, the median of 20 cold loads each from the backend and from a plain static
// server of the same dist/ (e2e/fake-server.mjs), alternated in one run.
// Prints one JSON object on stdout (progress goes to stderr):
//   {fcp_ms, fcp_static_ms, fcp_ratio, click_feedback_median_ms, cls, axe, submitted_phones, screenshots, ...}
// `submitted_phones` (E.164) are real leads the caller can look up. Exits 1 when any check fails.
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT_DIR = path.resolve(process.env.OUT_DIR ?? path.join(here, '..', 'e2e-output'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CLICKS = 20;
const LOADS = Number(process.env.E2E_FCP_LOADS ?? 20);
const OVERALL_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS ?? 420_000);
// Budgets (issue 13): enforced here, reported in the JSON.
const CLICK_MEDIAN_MS = 50;
const FCP_MS = 300;
const FCP_RATIO = 1.1;
const CLS_MAX = 0.02;
// The split-delivery CLS check: how long the second part of the page is held back.
const SPLIT_PAUSE_MS = 400;
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

function targets() {
  if (process.env.BASE_URLS) {
    return process.env.BASE_URLS.split(',').map((pair) => {
      const [locale, url] = pair.split('=');
      return { locale: locale.trim(), url: url.trim().replace(/\/+$/, '') };
    });
  }
  return [{ locale: null, url: (process.env.BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '') }];
}

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
const CONSENT = 'form input[name="consent"]';
// The consent text per locale, when the campaign asks for one (the server's campaign file).
const EXPECT_CONSENT = process.env.EXPECT_CONSENT ? JSON.parse(process.env.EXPECT_CONSENT) : null;

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
const used = new Set();
function randomMobile() {
  for (;;) {
    let rest = '';
    for (let i = 0; i < 7; i += 1) rest += Math.floor(Math.random() * 10);
    const national = `0912${rest}`; // national form, ASCII digits
    if (!used.has(national)) {
      used.add(national);
      return national;
    }
  }
}
const e164Of = (national) => `+98${national.slice(1)}`;
const formatted = (e164, locale) => {
  const text = e164.replace(/^\+98(\d{3})(\d{3})(\d{4})$/, '+98 $1 $2 $3');
  return locale === 'fa' ? toPersian(text) : text;
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const round = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);
const isLeadsUrl = (url) => new URL(url).pathname.replace(/\/$/, '') === '/api/leads';

// Runs in the page before any of its scripts: collects CSP violations and layout shifts. Each
// shift is kept with what moved (the node, its rect before → after), printed when CLS fails: a
// figure alone does not say whether a font swap, an image or a half-parsed page moved things.
function pageProbe() {
  window.__e2e = { csp: [], cls: 0, shifts: [] };
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__e2e.csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
  });
  const rect = (r) => `${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}×${Math.round(r.height)}`;
  const describe = (node) => {
    const el = node?.nodeType === 1 ? node : node?.parentElement;
    if (!el) return String(node);
    const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).slice(0, 4).join('.')}` : '';
    return `<${el.tagName.toLowerCase()}${cls}> "${(el.textContent ?? '').trim().slice(0, 40)}"`;
  };
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.hadRecentInput) continue;
        window.__e2e.cls += entry.value;
        window.__e2e.shifts.push({
          at_ms: Math.round(entry.startTime),
          value: Math.round(entry.value * 10000) / 10000,
          sources: (entry.sources ?? []).map((s) => `${describe(s.node)} ${rect(s.previousRect)} → ${rect(s.currentRect)}`),
          fonts: [...document.fonts].map((f) => `${f.family} ${f.status}`).join(', '),
        });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  } catch {
    window.__e2e.cls = null;
  }
}

/** Reads the probe's CLS, checks it against the budget and, when over, reports what moved. */
async function checkCls(page, name, label, result) {
  const { cls, shifts } = await page.evaluate(() => ({ cls: window.__e2e.cls, shifts: window.__e2e.shifts }));
  const shiftReport = (shifts ?? []).map((s) => `at ${s.at_ms} ms +${s.value} [fonts: ${s.fonts}]: ${s.sources.join('; ')}`).join(' | ');
  if (!check(name, cls === null || cls <= CLS_MAX, `CLS ${cls}; shifts: ${shiftReport}`)) {
    result.layout_shifts = { ...result.layout_shifts, [label]: shifts };
  }
  return cls === null ? null : Math.round(cls * 10000) / 10000;
}

async function axe(page, label, result) {
  const report = await new AxeBuilder({ page }).withTags(AXE_TAGS).analyze();
  const violations = report.violations.map((v) => `${v.id} (${v.impact}, ${v.nodes.length} node(s)): ${v.help}`);
  result.axe[label] = { violations: violations.length, passes: report.passes.length, rules: violations };
  check(`axe WCAG 2.2 A/AA: no violations (${label})`, violations.length === 0, violations.join(' | '));
}

async function shoot(page, name, shots, { fullPage = true } = {}) {
  const file = path.join(OUT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  shots.push(file);
}

/**
 * Widths at which a match of `source` (a regular expression) in the text of `selector` is split
 * over two lines: first as laid out now (reported as "as is"), then with the element's box set to
 * each width from `from` to `to` px in steps of 4 (through the CSSOM, which the CSP allows), so
 * every place a line could break is tried. Restores the box. [] when nothing splits.
 */
async function splitWidths(page, selector, source, from, to) {
  return page.evaluate(({ selector, source, from, to }) => {
    const box = document.querySelector(selector);
    if (!box) return [`no ${selector}`];
    const ranges = [];
    const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(new RegExp(source, 'gu'))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        ranges.push(range);
      }
    }
    if (ranges.length === 0) return [`no match of ${source} in ${JSON.stringify(box.textContent)}`];
    const split = (range) => {
      const rects = [...range.getClientRects()].filter((r) => r.width > 0);
      const tops = rects.map((r) => r.top);
      return Math.max(...tops) - Math.min(...tops) > Math.min(...rects.map((r) => r.height)) / 2;
    };
    const found = ranges.some(split) ? ['as is'] : [];
    const before = box.style.width;
    for (let width = from; width <= to; width += 4) {
      box.style.width = `${width}px`;
      if (ranges.some(split)) found.push(width);
    }
    box.style.width = before;
    return found;
  }, { selector, source, from, to });
}

// A business-hours time range with the word before it ("پنج‌شنبه ۹ تا ۱۳", "Thursday 9:00–13:00"):
// the closing hour never starts a line on its own.
const HOURS_RANGE = '[^\\s\\u00a0·]+[\\s\\u00a0]+[0-9۰-۹:]+[\\s\\u00a0]*(?:تا|–)[\\s\\u00a0\\u2060]*[0-9۰-۹:]+';
// The example number of the invalid_phone message, in either script, spaced or not.
const EXAMPLE_NUMBER = '[0۰][9۹][1۱][2۲][\\s\\u00a0]*[3۳][4۴][5۵][\\s\\u00a0]*[6۶][7۷][8۸][9۹]';

/** Both widths of the current state: 1280 (as is) and 390, then back to 1280. */
async function shootBoth(page, name, shots) {
  await page.setViewportSize({ width: 1280, height: 900 });
  await shoot(page, `${name}-1280`, shots);
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, `${name}-390`, shots);
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** One locale: everything a visitor with JavaScript sees. */
async function localePass(browser, target, result, { timing }) {
  const { url } = target;
  const origin = new URL(url).origin;
  console.error(`e2e: ${url}/ with JavaScript`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  await context.addInitScript(pageProbe);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const consoleErrors = [];
  const consoleCsp = [];
  const foreign = [];
  let intercepting = false; // the intercepted 503s log "Failed to load resource"; not worth reporting
  page.on('console', (msg) => {
    const text = msg.text();
    if (/content security policy/i.test(text)) consoleCsp.push(text);
    if (msg.type() === 'error' && !(intercepting && /Failed to load resource/.test(text))) consoleErrors.push(text);
  });
  page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
  const leadRequests = [];
  page.on('request', (req) => {
    const reqUrl = new URL(req.url());
    if (reqUrl.protocol.startsWith('http') && reqUrl.origin !== origin) foreign.push(req.url());
    if (req.method() === 'POST' && isLeadsUrl(req.url())) leadRequests.push(req.url());
  });

  const response = await page.goto(`${url}/`, { waitUntil: 'load' });
  check('GET / answers 200', response?.status() === 200, `status ${response?.status()}`);
  const headers = response ? await response.allHeaders() : {};
  const csp = headers['content-security-policy'] ?? '';
  check('GET / sends a Content-Security-Policy', /script-src/.test(csp), csp || 'header missing');
  check('CSP allows no inline script', csp !== '' && !/script-src[^;]*'unsafe-inline'/.test(csp), csp);
  const html = response ? await response.text() : '';
  const htmlTag = /<html [^>]*>/.exec(html)?.[0] ?? '';
  const locale = target.locale ?? /lang="([a-z]+)"/.exec(htmlTag)?.[1] ?? 'fa';
  const prefix = locale;
  check(`<html> is lang="${locale}" dir="${locale === 'fa' ? 'rtl' : 'ltr'}"`, htmlTag.includes(`lang="${locale}"`) && htmlTag.includes(`dir="${locale === 'fa' ? 'rtl' : 'ltr'}"`), htmlTag);
  check('first HTML bytes hold the hero headline', /<h1[\s>]/.test(html));
  check('first HTML bytes hold the phone form', /<form[^>]*action="\/api\/leads\/"/.test(html) && html.includes('name="phone"'));
  // The campaign's JSON is data, never run (type="application/json"): no CSP allowance needed.
  check('HTML has no inline <script>', !/<script\b(?![^>]*\bsrc=)(?![^>]*\btype="application\/json")[^>]*>/i.test(html));
  check('HTML carries its campaign as JSON', /<script id="campaign-data" type="application\/json">\{/.test(html));
  check('HTML has no style="" attribute', !/\sstyle\s*=/i.test(html));
  if (locale === 'fa') {
    check('Persian page preloads its font', /<link rel="preload" href="\/assets\/[^"]+\.woff2" as="font" type="font\/woff2" crossorigin>/.test(html));
    check('Persian copy in the first bytes', /[\u0600-\u06FF]{3}/.test(/<h1[^>]*>([^<]*)/.exec(html)?.[1] ?? ''));
  }

  await page.waitForSelector('[data-hydrated="true"]', { timeout: 15_000 });
  check('page hydrates', true);
  // The campaign the backend was given (EXPECT_TEXT: {"fa": [...], "en": [...]}), as the visitor reads it.
  for (const text of JSON.parse(process.env.EXPECT_TEXT ?? '{}')[locale] ?? []) {
    const shown = await page.evaluate((t) => document.body.innerText.includes(t), text);
    check(`the page shows the campaign's ${JSON.stringify(text)}`, shown);
  }
  const logo = await page.evaluate(() => {
    const img = document.querySelector('header img');
    return img ? { loaded: img.complete && img.naturalWidth > 0, src: img.getAttribute('src') } : null;
  });
  if (logo) check('the campaign logo loads', logo.loaded, logo.src);
  const fontsOk = await page.evaluate(async () => {
    await document.fonts.ready;
    return document.fonts.check('16px Vazirmatn');
  });
  if (locale === 'fa') check('Vazirmatn is loaded and used', fontsOk === true);
  // Give a late font swap or image the chance to shift things before CLS is read.
  await page.waitForTimeout(300);
  result.cls[locale] = await checkCls(page, `CLS ≤ ${CLS_MAX} with the web font (${locale})`, `${locale}`, result);

  const input = page.locator(PHONE);
  check('phone input is dir=ltr, inputmode=tel, autocomplete=tel', (await input.getAttribute('dir')) === 'ltr' && (await input.getAttribute('inputmode')) === 'tel' && (await input.getAttribute('autocomplete')) === 'tel');

  // Default state.
  await shootBoth(page, `${prefix}-default`, result.screenshots);
  for (const width of [390, 320]) {
    await page.setViewportSize({ width, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(`no horizontal scroll at ${width}px (${locale})`, overflow <= 0, `${overflow}px wider than the viewport`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await axe(page, `${locale} default`, result);
  const hoursSplit = await splitWidths(page, 'footer p', HOURS_RANGE, 120, 720);
  check(`footer hours: no time range split over two lines (${locale})`, hoursSplit.length === 0, `split at ${hoursSplit.join(', ')}`);

  // Error state: a bad number shows an error and sends nothing.
  await input.fill('12345');
  await input.press('Tab');
  await page.waitForSelector(`${PHONE}[aria-invalid="true"]`, { timeout: 5_000 }).catch(() => null);
  check('bad number 12345 is marked invalid', (await input.getAttribute('aria-invalid')) === 'true');
  const describedBy = await input.getAttribute('aria-describedby');
  const fieldMessage = describedBy ? await page.locator(`[id="${describedBy}"]`).innerText() : '';
  check('bad number shows an error message', fieldMessage.trim().length > 0, JSON.stringify(fieldMessage));
  const numberSplit = await splitWidths(page, `[id="${describedBy}"]`, EXAMPLE_NUMBER, 120, 720);
  check(`the error's example number stays on one line at 1280 px (${locale})`, numberSplit.length === 0, `split at ${numberSplit.join(', ')}`);
  await page.click(SUBMIT);
  await page.waitForTimeout(300);
  check('bad number is not sent', leadRequests.length === 0, `${leadRequests.length} request(s)`);
  await shootBoth(page, `${prefix}-error`, result.screenshots);
  await axe(page, `${locale} error`, result);

  // A complete number previews in the page's digits, left to right.
  await input.fill('09123456789');
  if (EXPECT_CONSENT) {
    // The campaign asks for consent: a labelled checkbox; nothing is sent until it is ticked.
    const box = page.locator(CONSENT);
    check(`consent checkbox present (${locale})`, (await box.count()) === 1 && (await box.getAttribute('type')) === 'checkbox');
    const label = await page.locator(`label[for="${await box.getAttribute('id')}"]`).innerText().catch(() => '');
    check(`consent label is the campaign's text (${locale})`, label.trim() === EXPECT_CONSENT[locale], JSON.stringify(label));
    await page.click(SUBMIT);
    await page.waitForTimeout(300);
    check('unticked consent: nothing sent', leadRequests.length === 0, `${leadRequests.length} request(s)`);
    check('unticked consent is marked invalid and focused', (await box.getAttribute('aria-invalid')) === 'true' && (await box.evaluate((e) => e === document.activeElement)));
    const consentMessage = await page.locator(`[id="${await box.getAttribute('aria-describedby')}"]`).innerText().catch(() => '');
    check(`unticked consent says why (${locale})`, consentMessage.trim().length > 0, JSON.stringify(consentMessage));
    await box.press('Space'); // the keyboard ticks it
    check('Space ticks the consent box', await box.isChecked());
    await axe(page, `${locale} consent`, result);
  }
  const preview = await page.locator(`[id="${describedBy}"] bdi`).innerText().catch(() => '');
  check(`number preview in ${locale === 'fa' ? 'Persian' : 'ASCII'} digits`, preview === formatted('+989123456789', locale), JSON.stringify(preview));

  if (timing) {
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
    const leadsMatcher = (u) => isLeadsUrl(u.href);
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
      // Enforced on the moment the pending state is in the DOM (what the page controls: flushSync
      // in the click handler); the next animation frame after it is reported too, but on a shared
      // 2-core machine it mostly measures how busy the machine is.
      check(`click → pending state, median of ${CLICKS} < ${CLICK_MEDIAN_MS} ms`, median(feedback) < CLICK_MEDIAN_MS, `${round(median(feedback))} ms`);
    }
    const alertText = await page.locator('form [role="alert"]').innerText();
    const seven = locale === 'fa' ? '۷' : '7';
    check(`503 shows "try again in ${seven} seconds"`, alertText.includes(seven), JSON.stringify(alertText));
    check('typed number kept after an error', (await input.inputValue()) === timingNumber);

    // A double click sends once.
    const before = intercepted;
    await page.dblclick(SUBMIT);
    await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('aria-busy') !== 'true', SUBMIT);
    await page.waitForTimeout(200);
    check('double click sends once', intercepted - before === 1, `${intercepted - before} requests`);
    await page.unroute(leadsMatcher, slow503);
    intercepting = false;
  }

  // The real submission: Persian digits on the Persian page, ASCII on the English one.
  const national = randomMobile();
  const typed = locale === 'fa' ? toPersian(national) : national;
  const e164 = e164Of(national);
  result.submitted_phones.push(e164);
  console.error(`e2e: submitting ${typed} (${e164})`);
  await input.fill('');
  await input.pressSequentially(typed, { delay: 15 });
  check('the typed digits are accepted while typing', (await input.getAttribute('aria-invalid')) === 'false');
  const [leadResponse] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && isLeadsUrl(r.url()), { timeout: 15_000 }),
    page.click(SUBMIT),
  ]);
  check('POST /api/leads/ answers 202', leadResponse.status() === 202, `status ${leadResponse.status()}`);
  check('the POST asks for the page language', (await leadResponse.request().headerValue('accept-language')) === locale);
  const body = await leadResponse.json().catch(() => null);
  check('202 body carries the E.164 number', body?.phone === e164, JSON.stringify(body));
  const success = page.locator('[data-state="success"]');
  await success.waitFor({ state: 'visible', timeout: 10_000 }).catch(() => null);
  const successText = (await success.count()) ? await success.innerText() : '';
  check('success view shows the normalised number', successText.includes(formatted(e164, locale)), JSON.stringify(successText));
  const nextStep = locale === 'fa' ? /با شما تماس می‌گیرند/ : /We will call you between/;
  check('success view says when we will call', nextStep.test(successText), JSON.stringify(successText));
  await shootBoth(page, `${prefix}-success`, result.screenshots);
  await axe(page, `${locale} success`, result);

  const { csp: violations } = await page.evaluate(() => window.__e2e);
  check('no CSP violations', violations.length === 0 && consoleCsp.length === 0, [...violations, ...consoleCsp].join(' | '));
  check('no request leaves the site', foreign.length === 0, foreign.join(' | '));
  const reactErrors = consoleErrors.filter((t) => /hydrat|Minified React error|did not match|pageerror/i.test(t));
  check('no hydration or script errors', reactErrors.length === 0, reactErrors.join(' | '));
  result.console_errors.push(...consoleErrors);
  await context.close();
  return locale;
}

async function noJsPass(browser, target, result) {
  console.error(`e2e: ${target.url}/ without JavaScript`);
  const noJs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await noJs.newPage();
  page.setDefaultTimeout(15_000);
  const postStatuses = [];
  page.on('response', (r) => {
    if (r.request().method() === 'POST' && isLeadsUrl(r.url())) postStatuses.push(r.status());
  });
  await page.goto(`${target.url}/`);
  const national = randomMobile();
  result.nojs_submitted_phone = e164Of(national);
  result.submitted_phones.push(result.nojs_submitted_phone);
  await page.locator(PHONE).fill(toPersian(national));
  if (EXPECT_CONSENT) await page.locator(CONSENT).check();
  const [finalResponse] = await Promise.all([page.waitForNavigation({ timeout: 15_000 }), page.click(SUBMIT)]);
  const landed = new URL(page.url());
  check('no-JS form lands on /?submitted=1', landed.pathname === '/' && landed.search === '?submitted=1', page.url());
  check('no-JS landing answers 200', finalResponse?.status() === 200, `status ${finalResponse?.status()}`);
  if (postStatuses.length) check('no-JS POST answers 303', postStatuses[0] === 303, `status ${postStatuses[0]}`);
  await shoot(page, `${target.locale ?? 'page'}-nojs-submitted-390`, result.screenshots);
  await noJs.close();
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A plain static server of the same dist/ (e2e/fake-server.mjs), for the FCP comparison, serving
 *  at / the very page the backend serves (filled at run time from its campaign file). */
async function startStatic(target) {
  const port = await freePort();
  const pageFile = path.join(await mkdtemp(path.join(tmpdir(), 'leadcap-e2e-')), 'page.html');
  await writeFile(pageFile, await (await fetch(`${target.url}/`)).text());
  const child = spawn(process.execPath, [path.join(here, 'fake-server.mjs')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PAGE_FILE: pageFile },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise((resolve, reject) => {
    child.stderr.on('data', (chunk) => String(chunk).includes('serving') && resolve());
    child.once('exit', (code) => reject(new Error(`static server exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/** FCP of one cold load (a fresh context: nothing cached). */
async function fcpOnce(browser, url) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${url}/`, { waitUntil: 'load' });
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
  await context.close();
  return fcp;
}

async function fcpPass(browser, target, result) {
  const statik = await startStatic(target);
  try {
    console.error(`e2e: first contentful paint, ${LOADS} cold loads each, backend ${target.url} and static ${statik.url}`);
    await fcpOnce(browser, target.url); // warm both servers (and the browser) once; not counted
    await fcpOnce(browser, statik.url);
    const backend = [];
    const plain = [];
    for (let i = 0; i < LOADS; i += 1) {
      backend.push(await fcpOnce(browser, target.url));
      plain.push(await fcpOnce(browser, statik.url));
    }
    const ok = (xs) => xs.filter((x) => typeof x === 'number');
    check(`FCP measured on every load`, ok(backend).length === LOADS && ok(plain).length === LOADS);
    const fcp = median(ok(backend));
    const fcpStatic = median(ok(plain));
    result.fcp_ms = round(fcp);
    result.fcp_static_ms = round(fcpStatic);
    result.fcp_ratio = Math.round((fcp / fcpStatic) * 100) / 100;
    result.fcp_backend_all_ms = backend.map(round);
    result.fcp_static_all_ms = plain.map(round);
    // The absolute bound is for an otherwise idle machine: when even the plain static server
    // cannot paint in time, the machine is busy and only the comparison is judged (both reported).
    if (fcpStatic * FCP_RATIO < FCP_MS) check(`FCP median < ${FCP_MS} ms with the real backend`, fcp < FCP_MS, `${round(fcp)} ms`);
    else {
      result.fcp_absolute = `not judged: the machine is busy (plain static server ${round(fcpStatic)} ms)`;
      console.error(`  note ${result.fcp_absolute}`);
    }
    check(`FCP within ${Math.round((FCP_RATIO - 1) * 100)} % of a plain static server`, fcp <= fcpStatic * FCP_RATIO, `${round(fcp)} ms against ${round(fcpStatic)} ms`);
  } finally {
    statik.stop();
  }
}

/** A loopback proxy in front of `upstream` that sends GET / in two parts, SPLIT_PAUSE_MS apart, cut
 *  right after the headline; everything else passes through. It is what a slow network or a parser
 *  yielding on a busy CPU does to the page (the browser paints the first part alone), made
 *  repeatable: the English page's CLS 0.07 on a loaded CI machine came from exactly that. */
async function startSplitProxy(upstream) {
  const port = await freePort();
  const hop = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);
  const server = createHttpServer(async (req, res) => {
    try {
      const answer = await fetch(`${upstream}${req.url}`, { headers: { accept: req.headers.accept ?? '*/*' }, redirect: 'manual' });
      const body = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, Object.fromEntries([...answer.headers].filter(([name]) => !hop.has(name))));
      const cut = new URL(req.url, upstream).pathname === '/' ? body.indexOf('</h1>') : -1;
      if (cut < 0) {
        res.end(body);
        return;
      }
      res.write(body.subarray(0, cut + 5));
      await new Promise((r) => setTimeout(r, SPLIT_PAUSE_MS));
      res.end(body.subarray(cut + 5));
    } catch (err) {
      res.writeHead(502).end(String(err));
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => server.close() };
}

/** CLS when the page arrives in two parts (each locale): the first part must not move later. */
async function splitPass(browser, target, result) {
  const proxy = await startSplitProxy(target.url);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
  try {
    await context.addInitScript(pageProbe);
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    console.error(`e2e: ${target.url}/ delivered in two parts, ${SPLIT_PAUSE_MS} ms apart`);
    await page.goto(`${proxy.url}/`, { waitUntil: 'load' });
    await page.waitForSelector('[data-hydrated="true"]');
    await page.evaluate(() => document.fonts.ready);
    await page.waitForTimeout(300);
    const label = target.locale ?? (await page.getAttribute('html', 'lang')) ?? 'page';
    const cls = await checkCls(page, `CLS ≤ ${CLS_MAX} with the page in two parts (${label})`, `${label} split`, result);
    result.split_delivery_cls = { ...result.split_delivery_cls, [label]: cls };
  } finally {
    await context.close();
    proxy.stop();
  }
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  const result = { out_dir: OUT_DIR, targets: targets(), cls: {}, axe: {}, submitted_phones: [], screenshots: [], console_errors: [] };
  try {
    const all = targets();
    for (const [i, target] of all.entries()) await localePass(browser, target, result, { timing: i === 0 });
    for (const target of all) await splitPass(browser, target, result);
    await noJsPass(browser, all[0], result);
    await fcpPass(browser, all[0], result);
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
  check('e2e run completed', false, err?.stack ?? String(err));
}
clearTimeout(timer);
result.checks_passed = passed;
result.checks_failed = failures.length;
result.failures = failures;
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.exit(failures.length ? 1 : 0);
