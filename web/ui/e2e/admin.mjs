// Browser test of /admin/ against a running leadcap backend with a user and at least one lead.
//
//   BASE_URL=http://127.0.0.1:8000 ADMIN_USER=ops ADMIN_PASSWORD=… OUT_DIR=out \
//   KNOWN_AT=2026-03-20T20:45:00Z KNOWN_PHONE=+989123456789 ADMIN_TIMEZONE=Asia/Tehran node e2e/admin.mjs
//
// In Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium), for Persian and English at
// 1280 px: signs in, reads the overview's charts, changes the newest lead's status to
// "contacted", screenshots each page and runs axe (WCAG 2.x A and AA) on each. In Persian also:
// today's Solar Hijri date and no ASCII digit on the overview (chart axes included), Vazirmatn
// loaded, the day filters typed as Solar Hijri days finding the lead submitted at KNOWN_AT (its
// date and time checked against the browser's own Persian calendar in ADMIN_TIMEZONE, its phone
// in national form, Persian digits, drawn left to right), a hostile day answered in the form, the
// «تا تاریخ» label beside its field at every width from 320 to 1280 px, and the CSV's byte-order
// mark and columns. Prints one JSON object on stdout ({changed_lead, charts, violations,
// screenshots, known}); exits 1 when a check fails.
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

const BASE_URL = (process.env.BASE_URL ?? 'http://127.0.0.1:8000').replace(/\/+$/, '');
const OUT_DIR = path.resolve(process.env.OUT_DIR ?? 'e2e-output');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const USER = process.env.ADMIN_USER ?? 'ops';
const PASSWORD = process.env.ADMIN_PASSWORD ?? '';
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const KNOWN_AT = process.env.KNOWN_AT ? new Date(process.env.KNOWN_AT) : null;
const KNOWN_PHONE = process.env.KNOWN_PHONE ?? '';
const ZONE = process.env.ADMIN_TIMEZONE ?? 'Asia/Tehran';
const ASCII_DIGIT = /[0-9]/;
const PERSIAN_DIGITS = '۰۱۲۳۴۵۶۷۸۹';
const persian = (text) => text.replace(/[0-9]/g, (d) => PERSIAN_DIGITS[d]);
const WIDTHS = Array.from({ length: 49 }, (_, i) => 320 + i * 20); // 320 … 1280 px

const failures = [];
function check(name, ok, detail = '') {
  console.error(`  ${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` — ${detail}` : ''}`);
  if (!ok) failures.push(detail ? `${name}: ${detail}` : name);
  return ok;
}

async function axe(page, label, result) {
  const found = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const violations = found.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.help}`);
  result.violations[label] = violations;
  check(`${label}: no WCAG A/AA violations`, violations.length === 0, violations.join('; '));
}

/** The browser's own Solar Hijri calendar (ICU), as parts in Persian digits, for `when` in ZONE. */
function persianParts(when, options) {
  const format = new Intl.DateTimeFormat('fa-IR-u-ca-persian-nu-arabext', { timeZone: ZONE, ...options });
  return Object.fromEntries(format.formatToParts(when).map((p) => [p.type, p.value]));
}

/** The known lead's day and minute as the admin should write them: ۱۴۰۵/۰۱/۰۱ ۰۰:۱۵. */
function expectedMoment(when) {
  const p = persianParts(when, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return `${p.year}/${p.month}/${p.day} ${p.hour}:${p.minute}`;
}

/** The day typed into a filter field, as a Persian user types it: ۱۴۰۵/۰۱/۰۱. */
function typedDay(when) {
  const p = persianParts(when, { year: 'numeric', month: '2-digit', day: '2-digit' });
  return `${p.year}/${p.month}/${p.day}`;
}

/** The label for #`id` and its field on one line, side by side (RTL: the label on the right), the
 *  label's words on one line; false with the widths where that fails. */
async function labelStaysWithField(page, id) {
  const broken = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    const where = await page.evaluate((fieldId) => {
      const field = document.getElementById(fieldId);
      const label = document.querySelector(`label[for="${fieldId}"]`);
      const f = field.getBoundingClientRect();
      const l = label.getBoundingClientRect();
      const range = document.createRange();
      range.selectNodeContents(label);
      const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
      const rtl = getComputedStyle(label).direction === 'rtl';
      const gap = rtl ? l.left - f.right : f.left - l.right;
      const middle = l.top + l.height / 2;
      return { lines, gap, sameLine: middle > f.top && middle < f.bottom, inside: f.left >= 0 && f.right <= innerWidth };
    }, id);
    if (where.lines !== 1 || !where.sameLine || where.gap < 0 || where.gap > 16 || !where.inside) broken.push({ width, ...where });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return broken;
}

/** Runs one group of checks; an exception in it (an element that is not there) fails the group
 *  and lets the next one run, so one run reports everything that is wrong. */
async function step(name, body) {
  try {
    await body();
  } catch (error) {
    check(name, false, String(error.message ?? error).split('\n')[0]);
  }
}

async function persianChecks(page, result) {
  page.setDefaultTimeout(5000);
  const day = typedDay(KNOWN_AT);
  await step('fa overview', async () => {
    // Today in the Solar Hijri calendar, no ASCII digit anywhere (chart axes included), the font.
    await page.goto(`${BASE_URL}/admin/`);
    const today = persianParts(new Date(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
    const todayWanted = `${today.weekday} ${today.day} ${today.month} ${today.year}`.replace(/\u200c/g, '');
    const todayShown = ((await page.locator('p.today time').count()) ? await page.locator('p.today time').textContent() : '').replace(/\u200c/g, '');
    check("fa: today's Solar Hijri date", todayShown === todayWanted, `${todayShown} ≠ ${todayWanted}`);
    const text = await page.evaluate(() => document.body.textContent);
    const ascii = text.match(/.{0,15}[0-9].{0,15}/g) ?? [];
    check('fa overview: every number in Persian digits', ascii.length === 0, ascii.slice(0, 5).join(' | '));
    const axes = await page.$$eval('svg.chart text.axis', (texts) => texts.map((t) => t.textContent));
    check('fa: chart axes in Persian digits', axes.some((a) => /[۰-۹]/.test(a)) && !axes.some((a) => ASCII_DIGIT.test(a)), axes.join(' '));
    const font = await page.evaluate(async () => {
      await document.fonts.ready;
      return { family: getComputedStyle(document.body).fontFamily, loaded: [...document.fonts].filter((f) => f.family.replace(/"/g, '') === 'Vazirmatn').map((f) => f.status) };
    });
    check('fa: Vazirmatn loaded and used', font.family.startsWith('Vazirmatn') && font.loaded.includes('loaded'), JSON.stringify(font));
  });

  await step('fa: «تا تاریخ» stays with its field', async () => {
    await page.goto(`${BASE_URL}/admin/leads`);
    const broken = await labelStaysWithField(page, 'f-until');
    check('fa: «تا تاریخ» stays with its field at every width', broken.length === 0, JSON.stringify(broken.slice(0, 3)));
  });

  await step('fa: the known lead', async () => {
    // Solar Hijri days typed into the filter find the lead; its time and phone as a Persian reads them.
    await page.goto(`${BASE_URL}/admin/leads`);
    await page.fill('#f-since', day);
    await page.fill('#f-until', day);
    await Promise.all([page.waitForURL(/until=/), page.click('form.filters button[type="submit"]')]);
    const row = page.locator('table.leads tbody tr', { has: page.locator(`a[href="tel:${KNOWN_PHONE}"]`) });
    check('fa: the known lead found by Solar Hijri days', (await row.count()) === 1, page.url());
    const shown = (await row.locator('time').textContent()) ?? '';
    const wanted = expectedMoment(KNOWN_AT);
    check('fa: its date and time in the Solar Hijri calendar, in the zone', shown === wanted, `${shown} ≠ ${wanted}`);
    const phone = row.locator('a.phone');
    const national = `۰${persian(KNOWN_PHONE.slice(3, 6))} ${persian(KNOWN_PHONE.slice(6, 9))} ${persian(KNOWN_PHONE.slice(9))}`;
    check('fa: the phone as a visitor writes it', (await phone.textContent()) === national, await phone.textContent());
    const order = await phone.evaluate((a) => {
      const text = a.firstChild;
      const rect = (from, to) => {
        const range = document.createRange();
        range.setStart(text, from);
        range.setEnd(text, to);
        return range.getBoundingClientRect();
      };
      return { first: rect(0, 4).left, last: rect(text.length - 4, text.length).left };
    });
    check('fa: the phone drawn left to right', order.first < order.last, JSON.stringify(order));
    result.known = { shown, wanted, phone: await phone.textContent(), typed: day };
    await axe(page, 'fa leads filtered', result);
  });

  await step('fa: a day that does not exist', async () => {
    // 1404 is not a leap year: 30 Esfand comes back in the form, said beside its field.
    await page.goto(`${BASE_URL}/admin/leads`);
    await page.fill('#f-until', '۱۴۰۴/۱۲/۳۰');
    await Promise.all([page.waitForURL(/until=/), page.click('form.filters button[type="submit"]')]);
    check('fa: a day that does not exist is a form error', (await page.getAttribute('#f-until', 'aria-invalid')) === 'true');
    check('fa: the error is said beside the field', await page.locator('#f-until-problem').isVisible());
    await axe(page, 'fa leads with a filter error', result);
  });

  await step('fa: the CSV', async () => {
    // The CSV of the filter: a byte-order mark, then the export's columns (with the Solar Hijri ones).
    await page.goto(`${BASE_URL}/admin/leads?since=${encodeURIComponent(day)}&until=${encodeURIComponent(day)}`);
    const csvHref = await page.locator('a[href^="/admin/leads.csv"]').getAttribute('href');
    const body = Buffer.from(
      await page.evaluate(async (href) => [...new Uint8Array(await (await fetch(href)).arrayBuffer())], csvHref),
    );
    check('fa: the CSV starts with a UTF-8 byte-order mark', body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf);
    const lines = body.subarray(3).toString('utf8').trim().split('\n');
    check('fa: the CSV has the export columns', lines[0].startsWith('id,phone,region,carrier,status,') && lines[0].endsWith(',first_submitted_jalali,last_submitted_jalali'), lines[0]);
    check('fa: the CSV holds the known lead', lines.length === 2 && lines[1].includes(KNOWN_PHONE), lines.join(' / '));
  });
  page.setDefaultTimeout(30000);
}

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const result = { charts: {}, violations: {}, screenshots: [], changed_lead: null, known: null };
  try {
    for (const lang of ['fa', 'en']) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const csp = [];
      page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) csp.push(m.text()); });
      await page.goto(`${BASE_URL}/admin/login?lang=${lang}`);
      check(`${lang}: sign-in page in its language`, (await page.getAttribute('html', 'lang')) === lang);
      await page.fill('#name', USER);
      await page.fill('#password', PASSWORD);
      await Promise.all([page.waitForURL(`${BASE_URL}/admin/`), page.click('form.login button[type="submit"]')]);
      check(`${lang}: signed in to the overview`, new URL(page.url()).pathname === '/admin/');
      check(`${lang}: direction`, (await page.getAttribute('html', 'dir')) === (lang === 'fa' ? 'rtl' : 'ltr'));

      const charts = await page.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => ({
          title: svg.querySelector('title')?.textContent ?? '',
          bars: [...svg.querySelectorAll('rect')].filter((r) => Number(r.getAttribute('height')) > 0).length,
        })),
      );
      result.charts[lang] = charts;
      // today, the last 14 days, leads by campaign (slug), by source and by utm_campaign
      check(`${lang}: five charts`, charts.length === 5, JSON.stringify(charts));
      check(`${lang}: today's chart draws the lead`, charts[0]?.bars > 0, JSON.stringify(charts[0]));
      const shot = path.join(OUT_DIR, `admin-overview-${lang}-1280.png`);
      await page.screenshot({ path: shot, fullPage: true });
      result.screenshots.push(shot);
      await axe(page, `${lang} overview`, result);

      await page.goto(`${BASE_URL}/admin/leads`);
      const form = page.locator('form.status-form').first();
      const action = await form.getAttribute('action');
      const target = lang === 'fa' ? 'contacted' : 'qualified';
      await form.locator('select').selectOption(target);
      await Promise.all([page.waitForURL(/done=1/), form.locator('button').click()]);
      check(`${lang}: status saved notice`, await page.locator('p.ok[role="status"]').isVisible());
      const status = await page.locator('table.leads tbody tr').first().locator('span.status').getAttribute('class');
      check(`${lang}: the lead shows ${target}`, status === `status ${target}`, status);
      result.changed_lead = action.split('/')[3];
      const leadsShot = path.join(OUT_DIR, `admin-leads-${lang}-1280.png`);
      await page.screenshot({ path: leadsShot, fullPage: true });
      result.screenshots.push(leadsShot);
      await axe(page, `${lang} leads`, result);

      if (lang === 'fa' && KNOWN_AT) await persianChecks(page, result);
      if (lang === 'en') {
        await step('en: "Until" stays with its field', async () => {
          await page.goto(`${BASE_URL}/admin/leads`);
          const broken = await labelStaysWithField(page, 'f-until');
          check('en: "Until" stays with its field at every width', broken.length === 0, JSON.stringify(broken.slice(0, 3)));
        });
      }
      await page.setViewportSize({ width: 320, height: 900 });
      await page.goto(`${BASE_URL}/admin/leads`);
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      check(`${lang}: the leads page at 320 px does not scroll sideways (its table does)`, sideways <= 0, `${sideways} px`);
      const narrow = path.join(OUT_DIR, `admin-leads-${lang}-320.png`);
      await page.screenshot({ path: narrow, fullPage: true });
      result.screenshots.push(narrow);
      await axe(page, `${lang} leads at 320 px`, result);

      await page.goto(`${BASE_URL}/admin/login`);
      await axe(page, `${lang} sign-in`, result);
      check(`${lang}: no CSP violation`, csp.length === 0, csp.join('; '));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(result));
  if (failures.length) {
    console.error(`${failures.length} check(s) failed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
