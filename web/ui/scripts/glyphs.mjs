// The characters both Vazirmatn subsets hold (the landing page's, scripts/font.mjs, and the
// admin's, scripts/admin-font.mjs): the whole Persian alphabet, Persian digits and Latin, so any
// campaign's copy and any lead's text render in the one font, not only the demo's words.
// The letters of Urdu, Kurdish and the rest of the Arabic block (7 KB more) fall back to the
// system's font.
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)).join('');
export const CHARACTERS = [
  range(0x20, 0x7e), // ASCII: Latin letters, digits, punctuation
  range(0x0600, 0x066d), // Arabic letters, marks, digits and separators (٪ ٫ ٬)
  '\u0670\u067e\u0686\u0698\u06a9\u06af\u06c0\u06cc', // superscript alef, پ چ ژ ک گ ۀ ی
  range(0x06f0, 0x06f9), // Persian digits
  '\u00a0«»–—…·’“”•×',
  '\u200c\u200d\u200e\u200f\u2060\u2066\u2067\u2068\u2069', // ZWNJ, ZWJ, direction marks, word joiner, isolates
].join('');
