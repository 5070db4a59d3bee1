// Subsets Vazirmatn for /admin/ into dist/admin/vazirmatn.woff2, which leadcap serves as
// /admin/static/vazirmatn.woff2 (web/admin/routes.py). Runs in `npm run build`, after Vite (which
// empties dist/).
//
// The landing page's subset (font.mjs) holds only the glyphs of one campaign's copy; the admin
// shows any Persian text a lead brings (sources, UTM values), Solar Hijri month and weekday names
// and its own words, so it gets the whole Persian alphabet: the Arabic letters, marks, digits and
// separators (U+0600-U+066D) with Persian's own letters and digits, ASCII (the Latin of names and
// "CSV" beside Persian text, so they do not switch fonts: 10 KB), and the punctuation, spaces and
// direction marks Persian uses; 41 KB. The letters of Urdu, Kurdish and the rest of the block
// (7 KB more) fall back to the system's font. Stops the build if a character of
// web/admin/words.py is left out.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import subsetFont from 'subset-font';
import { CHARACTERS } from './glyphs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SOURCE = path.join(path.dirname(require.resolve('vazirmatn/package.json')), 'fonts', 'variable', 'Vazirmatn[wght].ttf');
export const OUTPUT = path.join(root, 'dist', 'admin', 'vazirmatn.woff2');
const WORDS = path.join(root, '..', 'admin', 'words.py');
const WEIGHTS = { min: 400, max: 700 }; // admin.css uses 400 (text) to 700 (headings, figures)


const words = await readFile(WORDS, 'utf8');
const missing = [...new Set(words)].filter((c) => c.charCodeAt(0) > 0x7f && !CHARACTERS.includes(c));
if (missing.length) {
  console.error(`admin font: web/admin/words.py uses characters outside the subset: ${missing.join(' ')}`);
  process.exit(1);
}
const font = await readFile(SOURCE);
const subset = await subsetFont(font, CHARACTERS, { targetFormat: 'woff2', variationAxes: { wght: WEIGHTS } });
await mkdir(path.dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, subset);
console.log(`admin font: Vazirmatn subset to ${[...CHARACTERS].length} characters: ${(subset.length / 1024).toFixed(1)} KB woff2`);
