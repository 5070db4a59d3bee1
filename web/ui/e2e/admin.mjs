// Browser test of /admin/ against a running leadcap backend with a user and at least one lead.
//
//   BASE_URL=http://127.0.0.1:8000 ADMIN_USER=ops ADMIN_PASSWORD=… OUT_DIR=out node e2e/admin.mjs
//
// In Debian's Chromium (CHROMIUM_PATH, default /usr/bin/chromium), for Persian and English at
// 1280 px: signs in, reads the overview's charts, changes the newest lead's status to
// "contacted", screenshots each page and runs axe (WCAG 2.x A and AA) on each. Prints one JSON
// object on stdout ({changed_lead, charts, violations, screenshots}); exits 1 when a check fails.
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

async function main() {
  await mkdir(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  const result = { charts: {}, violations: {}, screenshots: [], changed_lead: null };
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
      check(`${lang}: four charts`, charts.length === 4, JSON.stringify(charts));
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
