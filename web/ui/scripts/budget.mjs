// Size budgets for the landing page (and the admin's font, apart); fails the build when one is exceeded.
import { readdir, readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const KB = 1024;
const BUDGET = {
  js: 60 * KB, // all JavaScript, gzipped
  css: 15 * KB, // all CSS, gzipped
  html: 30 * KB, // each pre-rendered page (dist/index.<locale>.html), as stored
  fonts: 60 * KB, // all web fonts (woff2), as stored (already compressed)
  adminFont: 60 * KB, // dist/admin/vazirmatn.woff2: the whole Persian alphabet, loaded by /admin/ only
};

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kb = (n) => `${(n / KB).toFixed(1)} KB`;

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}

const totals = { js: { raw: 0, gz: 0, files: [] }, css: { raw: 0, gz: 0, files: [] }, fonts: { raw: 0, gz: 0, files: [] } };
const kindOf = (file) =>
  file.endsWith('.js') || file.endsWith('.mjs') ? 'js' : file.endsWith('.css') ? 'css' : /\.(woff2?|ttf|otf)$/.test(file) ? 'fonts' : null;
const ADMIN = path.join(dist, 'admin');
for await (const file of walk(dist)) {
  if (file.startsWith(ADMIN + path.sep)) continue; // /admin/'s own, never on the landing page
  const kind = kindOf(file);
  if (!kind) continue;
  const buf = await readFile(file);
  const size = { name: path.relative(dist, file), raw: buf.length, gz: gz(buf) };
  totals[kind].raw += size.raw;
  totals[kind].gz += size.gz;
  totals[kind].files.push(size);
}
const pages = (await readdir(dist)).filter((f) => /^index(\.[a-z]{2})?\.html$/.test(f)).sort();

const rows = [
  ['JS (gzip)', totals.js.gz, BUDGET.js, `${totals.js.files.length} file(s), ${kb(totals.js.raw)} raw`],
  ['CSS (gzip)', totals.css.gz, BUDGET.css, `${totals.css.files.length} file(s), ${kb(totals.css.raw)} raw`],
  ['fonts', totals.fonts.raw, BUDGET.fonts, `${totals.fonts.files.length} file(s), woff2`],
];
const adminFont = await readFile(path.join(ADMIN, 'vazirmatn.woff2')).catch(() => null);
rows.push(['admin font', adminFont?.length ?? Infinity, BUDGET.adminFont, adminFont ? 'woff2, /admin/ only' : 'missing: run scripts/admin-font.mjs']);
for (const name of pages) {
  const html = await readFile(path.join(dist, name));
  rows.push([name, html.length, BUDGET.html, `${kb(gz(html))} gzipped`]);
}

console.log('budget:');
let failed = false;
for (const [name, size, limit, note] of rows) {
  const ok = size <= limit;
  failed ||= !ok;
  console.log(`  ${ok ? 'ok  ' : 'OVER'} ${name.padEnd(13)} ${kb(size).padStart(9)} / ${kb(limit).padStart(8)}  (${note})`);
}
for (const f of [...totals.js.files, ...totals.css.files, ...totals.fonts.files]) console.log(`       ${f.name}: ${kb(f.raw)} raw, ${kb(f.gz)} gz`);
if (totals.js.files.length === 0 || totals.css.files.length === 0) {
  console.error('budget: expected at least one JS and one CSS file under dist/');
  failed = true;
}
if (failed) {
  console.error('budget: FAILED');
  process.exit(1);
}
