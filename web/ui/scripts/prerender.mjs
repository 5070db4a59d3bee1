// Renders <App /> to static HTML at build time and injects it into dist/index.html, so the hero
// and the form are in the first bytes of the page; the client bundle then hydrates it (hydrateRoot).
// Runs after `vite build` (client) and `vite build --ssr src/entry-server.tsx --outDir dist-ssr`.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const htmlPath = path.join(root, 'dist', 'index.html');
const ssrDir = path.join(root, 'dist-ssr');
const PLACEHOLDER = '<!--app-html-->';

function fail(message) {
  console.error(`prerender: ${message}`);
  process.exit(1);
}

const template = await readFile(htmlPath, 'utf8');
if (!template.includes(PLACEHOLDER)) fail(`${PLACEHOLDER} not found in dist/index.html`);

const { render } = await import(pathToFileURL(path.join(ssrDir, 'entry-server.js')).href);
const appHtml = render();
if (!appHtml.includes('name="phone"')) fail('rendered markup has no phone field');

const html = template.replace(PLACEHOLDER, appHtml);

// CSP guards: `script-src 'self'` and `style-src 'self'` block inline code, so ship none.
const inlineScript = /<script\b(?![^>]*\bsrc=)[^>]*>/i.exec(html);
if (inlineScript) fail(`inline <script> in dist/index.html: ${inlineScript[0]}`);
const styleAttr = /\sstyle\s*=/i.exec(html);
if (styleAttr) fail(`style="" attribute in dist/index.html near: ${html.slice(styleAttr.index - 80, styleAttr.index + 40)}`);
if (/<style\b/i.test(html)) fail('inline <style> element in dist/index.html');
if (/\son[a-z]+\s*=/i.test(html)) fail('inline event handler attribute in dist/index.html');
if (/__APP_|<!--app-/.test(html)) fail('an unreplaced placeholder is left in dist/index.html');

await writeFile(htmlPath, html);
await rm(ssrDir, { recursive: true, force: true });
console.log(`prerender: injected ${appHtml.length} characters of markup into dist/index.html`);
