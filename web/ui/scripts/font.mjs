// Subsets Vazirmatn (the `vazirmatn` npm package, variable weight) to the whole Persian alphabet,
// Persian digits and Latin (scripts/glyphs.mjs), as one woff2 that src/index.css loads with
// font-display: swap and prerender.mjs preloads. The campaign is data read at run time, so the
// subset cannot be cut to one campaign's words: any campaign renders in Vazirmatn.
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import subsetFont from 'subset-font';
import { CampaignError, loadCampaign } from './campaign.mjs';
import { CHARACTERS } from './glyphs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SOURCE = path.join(path.dirname(require.resolve('vazirmatn/package.json')), 'fonts', 'variable', 'Vazirmatn[wght].ttf');
export const OUTPUT = path.join(root, 'src', 'fonts', 'vazirmatn-subset.woff2');
// The weights the page uses (400 body … 700 headline); the rest of the axis is dropped.
const WEIGHTS = { min: 400, max: 700 };

// First in `npm run build`: a bad campaign file (for the build's demo pages) stops it here with
// one line naming the field.
try {
  loadCampaign();
} catch (err) {
  if (err instanceof CampaignError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

// Every character the page's own words use must be in the subset (they are today: this stops
// the build if a new word brings one that is not).
const own = ['copy.ts', 'hours.ts', 'verify-copy.ts'].map((f) => readFile(path.join(root, 'src', f), 'utf8'));
const missing = [...new Set((await Promise.all(own)).join(''))].filter((c) => c.charCodeAt(0) > 0x7f && !CHARACTERS.includes(c));
if (missing.length) {
  console.error(`font: src/ uses characters outside the subset (scripts/glyphs.mjs): ${missing.join(' ')}`);
  process.exit(1);
}
const text = CHARACTERS;
const font = await readFile(SOURCE);
const subset = await subsetFont(font, text, { targetFormat: 'woff2', variationAxes: { wght: WEIGHTS } });
await mkdir(path.dirname(OUTPUT), { recursive: true });
await writeFile(OUTPUT, subset);
console.log(`font: Vazirmatn subset to ${[...text].length} characters: ${(subset.length / 1024).toFixed(1)} KB woff2 (from ${(font.length / 1024).toFixed(0)} KB ttf)`);
