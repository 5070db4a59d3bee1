// Subsets Vazirmatn (the `vazirmatn` npm package, variable weight) to the glyphs the page can show,
// as one woff2 that src/index.css loads with font-display: swap and prerender.mjs preloads.
// Runs first in `npm run build` (and before `npm run dev`), so it also validates the campaign file:
// a bad one stops the build here with one line naming the field.
//
// The glyphs: every character of the campaign's Persian copy and of src/copy.ts (the form's own
// words), Persian and ASCII digits and punctuation ("+98"). Latin letters are left out (12 KB):
// the Persian page shows none, and the English page does not use this font at all.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import subsetFont from 'subset-font';
import { CampaignError, loadCampaign } from './campaign.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SOURCE = path.join(path.dirname(require.resolve('vazirmatn/package.json')), 'fonts', 'variable', 'Vazirmatn[wght].ttf');
export const OUTPUT = path.join(root, 'src', 'fonts', 'vazirmatn-subset.woff2');
// The weights the page uses (400 body … 700 headline); the rest of the axis is dropped.
const WEIGHTS = { min: 400, max: 700 };

let campaign;
try {
  campaign = loadCampaign();
} catch (err) {
  if (err instanceof CampaignError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const strings = [];
const collect = (value) => {
  if (typeof value === 'string') strings.push(value);
  else if (Array.isArray(value)) value.forEach(collect);
  else if (value && typeof value === 'object') Object.values(value).forEach(collect);
};
collect(campaign.locales.fa);
strings.push(campaign.phone.display);
collect(campaign.badges.map((b) => b.alt.fa));
const nonAscii = (source) => [...source].filter((c) => c.charCodeAt(0) > 0x7f).join('');
strings.push(nonAscii(await readFile(path.join(root, 'src', 'copy.ts'), 'utf8')));
strings.push(nonAscii(await readFile(path.join(root, 'src', 'hours.ts'), 'utf8')));
let ascii = '';
for (let c = 0x20; c < 0x7f; c += 1) if (!/[A-Za-z]/.test(String.fromCharCode(c))) ascii += String.fromCharCode(c);
strings.push(ascii, '۰۱۲۳۴۵۶۷۸۹', '٠١٢٣٤٥٦٧٨٩', '«»،؛؟٪×–—…·’“”\u00a0\u200c\u200f\u2060\u2066\u2067\u2068\u2069');

const text = [...new Set(strings.join(''))].join('');
const font = await readFile(SOURCE);
const subset = await subsetFont(font, text, { targetFormat: 'woff2', variationAxes: { wght: WEIGHTS } });
await mkdir(path.dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, subset);
console.log(`font: Vazirmatn subset to ${[...text].length} characters: ${(subset.length / 1024).toFixed(1)} KB woff2 (from ${(font.length / 1024).toFixed(0)} KB ttf)`);
