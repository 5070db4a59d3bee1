/**
 * Business hours (campaign data) in the visitor's language, and Persian digits.
 * Mirrors web/campaign.py, which writes the same sentence into the server-rendered pages.
 */
import type { Day, Hours } from 'virtual:campaign';

export type Locale = 'fa' | 'en';

const DAYS: Day[] = ['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri']; // the Iranian week starts on Saturday
const DAY_NAMES: Record<Locale, string[]> = {
  // a ZWNJ (U+200C) keeps a number word that would join «شنبه» apart: سه‌شنبه, پنج‌شنبه
  fa: ['شنبه', 'یک‌شنبه', 'دوشنبه', 'سه‌شنبه', 'چهارشنبه', 'پنج‌شنبه', 'جمعه'],
  en: ['Saturday', 'Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
};
const PERSIAN = '۰۱۲۳۴۵۶۷۸۹';

/** ASCII digits as the visitor reads them: Persian digits in `fa`. */
export function localDigits(text: string, lang: Locale): string {
  return lang === 'fa' ? text.replace(/[0-9]/g, (d) => PERSIAN[Number(d)]) : text;
}

function clock(hhmm: string, lang: Locale): string {
  const [hour, minute] = hhmm.split(':');
  if (lang === 'fa') return localDigits(String(Number(hour)) + (minute === '00' ? '' : `:${minute}`), lang);
  return `${Number(hour)}:${minute}`;
}

function dayList(days: Day[], lang: Locale): { text: string; run: boolean } {
  const names = DAY_NAMES[lang];
  const idx = days.map((d) => DAYS.indexOf(d));
  if (idx.length === 1) return { text: names[idx[0]], run: false };
  const consecutive = idx.every((d, i) => i === 0 || d === idx[i - 1] + 1);
  if (idx.length > 2 && consecutive) {
    const joiner = lang === 'fa' ? ' تا ' : ' to ';
    return { text: `${names[idx[0]]}${joiner}${names[idx[idx.length - 1]]}`, run: true };
  }
  const head = idx.slice(0, -1).map((d) => names[d]);
  const last = names[idx[idx.length - 1]];
  return { text: lang === 'fa' ? `${head.join('، ')} و ${last}` : `${head.join(', ')} and ${last}`, run: false };
}

/** "We will call you between 9:00 and 17:00, Saturday to Wednesday." in the visitor's language. */
export function callBackSentence(hours: Hours[], lang: Locale): string {
  if (lang === 'fa') {
    const parts = hours.map((h) => `${dayList(h.days, lang).text} از ساعت ${clock(h.open, lang)} تا ${clock(h.close, lang)}`);
    return `کارشناسان ما ${parts.join(' و ')} با شما تماس می‌گیرند.`;
  }
  const parts = hours.map((h) => {
    const days = dayList(h.days, lang);
    return `between ${clock(h.open, lang)} and ${clock(h.close, lang)}, ${days.run ? '' : 'on '}${days.text}`;
  });
  return `We will call you ${parts.join(', and ')}.`;
}

const NBSP = '\u00a0';
const WORD_JOINER = '\u2060'; // no break after the en dash of 9:00–17:00

/**
 * One short line per row for the footer: "شنبه تا چهارشنبه ۹ تا ۱۷". The time range and the day
 * before it hold together (no-break spaces, a word joiner after the dash), so a closing hour
 * never wraps onto a line of its own; the day list itself may still wrap.
 */
export function hoursLines(hours: Hours[], lang: Locale): string[] {
  const to = lang === 'fa' ? `${NBSP}تا${NBSP}` : `–${WORD_JOINER}`;
  return hours.map((h) => `${dayList(h.days, lang).text}${NBSP}${clock(h.open, lang)}${to}${clock(h.close, lang)}`);
}
