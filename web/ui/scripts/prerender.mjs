// Renders <App /> to static HTML at build time, once per locale, so the hero and the form are in
// the first bytes of the page; the client bundle then hydrates it (hydrateRoot) in the same locale.
// Writes dist/index.fa.html and dist/index.en.html (the server serves the one LEADCAP_LOCALE picks)
// and dist/index.html (the default locale, for a plain static server), each for the build's own
// campaign, and dist/template.<locale>.html: the page with slots for the campaign's copy, which
// leadcap fills at run time from LEADCAP_CAMPAIGN_FILE (leadcap/landing/template.py).
// Runs after `vite build` (client) and `vite build --ssr src/entry-server.tsx --outDir dist-ssr`.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const htmlPath = path.join(dist, 'index.html');
const ssrDir = path.join(root, 'dist-ssr');
const PLACEHOLDER = '<!--app-html-->';
const DEFAULT_LOCALE = 'fa';

function fail(message) {
  console.error(`prerender: ${message}`);
  process.exit(1);
}

const escapeHtml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

const template = await readFile(htmlPath, 'utf8');
if (!template.includes(PLACEHOLDER)) fail(`${PLACEHOLDER} not found in dist/index.html`);

// The Persian font is preloaded so it usually arrives before first paint (no swap, no shift).
const fonts = (await readdir(path.join(dist, 'assets'))).filter((f) => f.endsWith('.woff2'));
if (fonts.length !== 1) fail(`expected one .woff2 under dist/assets, found ${fonts.length}`);
const preload = `<link rel="preload" href="/assets/${fonts[0]}" as="font" type="font/woff2" crossorigin>`;

const { render, renderTemplate, LOCALES } = await import(pathToFileURL(path.join(ssrDir, 'entry-server.js')).href);

function fill(page, locale) {
  return template
    .replace('__APP_LANG__', page.lang)
    .replace('__APP_DIR__', page.dir)
    .replace('<!--app-title-->', escapeHtml(page.title))
    .replace('<!--app-description-->', escapeHtml(page.description))
    .replace('<!--app-preload-->', locale === 'fa' ? preload : '')
    .replace(PLACEHOLDER, page.html)
    .replace('__APP_DATA__', page.data);
}

function guard(html, name) {
  // CSP guards: `script-src 'self'` and `style-src 'self'` block inline code, so ship none (the
  // campaign's JSON is data, never run: type="application/json").
  const inlineScript = /<script\b(?![^>]*\bsrc=)(?![^>]*\btype="application\/json")[^>]*>/i.exec(html);
  if (inlineScript) fail(`inline <script> in ${name}: ${inlineScript[0]}`);
  const styleAttr = /\sstyle\s*=/i.exec(html);
  if (styleAttr) fail(`style="" attribute in ${name} near: ${html.slice(styleAttr.index - 80, styleAttr.index + 40)}`);
  if (/<style\b/i.test(html)) fail(`inline <style> element in ${name}`);
  if (/\son[a-z]+\s*=/i.test(html)) fail(`inline event handler attribute in ${name}`);
  if (/__APP_|<!--app-/.test(html)) fail(`an unreplaced placeholder is left in ${name}`);
  if (!/<html [^>]*data-region="[A-Z]{2}"/.test(html)) fail(`${name} lost <html data-region>`);
}

for (const locale of LOCALES) {
  // The build's own campaign (the demo), for plain static servers and the budgets.
  const page = render(locale);
  if (!page.html.includes('name="phone"')) fail(`${locale}: rendered markup has no phone field`);
  const html = fill(page, locale);
  guard(html, `index.${locale}.html`);
  await writeFile(path.join(dist, `index.${locale}.html`), html);
  if (locale === DEFAULT_LOCALE) await writeFile(htmlPath, html);
  console.log(`prerender: index.${locale}.html (${page.lang}, ${page.dir}): ${page.html.length} characters of markup`);

  // What leadcap serves: the same page with slots, filled from LEADCAP_CAMPAIGN_FILE at run time.
  const slotted = fill(renderTemplate(locale), locale);
  guard(slotted, `template.${locale}.html`);
  await writeFile(path.join(dist, `template.${locale}.html`), slotted);
  console.log(`prerender: template.${locale}.html`);
}
await rm(ssrDir, { recursive: true, force: true });
