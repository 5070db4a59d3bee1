/**
 * Phone rules, mirroring the server's (see shared/api.md): mobiles only, for the server's default
 * region (LEADCAP_DEFAULT_REGION, which the server writes into <html data-region>; see pageRegion).
 * The rules below are Iran's; for another region only the basics are checked here and the server
 * judges the number.
 *
 * Pure functions, no phonenumbers metadata. Accepted forms of +989123456789:
 *   09123456789, 9123456789, +989123456789, 00989123456789, 989123456789,
 *   with separators (spaces, dashes, parentheses, dots) and in Persian (۰-۹) or
 *   Arabic-Indic (٠-٩) digits.
 *
 * An IR number's national significant number is 10 digits: mobile ones start with 9,
 * landlines with an area code starting 1-8 (e.g. 021 Tehran).
 */

export type PhoneErrorCode = 'missing_phone' | 'invalid_phone' | 'not_mobile';

/** `e164` is null when the number may be fine but only the server can tell (a region other than IR). */
export type PhoneResult = { ok: true; e164: string | null } | { ok: false; code: PhoneErrorCode };

/** The region whose rules this file knows. */
export const RULES_REGION = 'IR';

/** The server's default region, from the page (<html data-region="IR">); IR before hydration and in tests. */
export function pageRegion(doc: Document | undefined = typeof document === 'undefined' ? undefined : document): string {
  const region = doc?.documentElement.dataset.region;
  return region && /^[A-Z]{2}$/.test(region) ? region : RULES_REGION;
}

/** Longest input accepted, counted as typed (the server's limit). */
export const MAX_PHONE_CHARS = 32;

const PERSIAN_ZERO = 0x06f0;
const ARABIC_INDIC_ZERO = 0x0660;

/** Replaces Persian and Arabic-Indic digits with ASCII ones. */
export function toAsciiDigits(input: string): string {
  return input.replace(/[\u06f0-\u06f9\u0660-\u0669]/g, (d) => {
    const code = d.charCodeAt(0);
    const zero = code >= PERSIAN_ZERO ? PERSIAN_ZERO : ARABIC_INDIC_ZERO;
    return String(code - zero);
  });
}

/** Separators people type inside numbers: whitespace, dashes (incl. Unicode ones), parentheses, dots, slashes. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212()./]/g;

/**
 * Strips separators and converts digits. Returns '+digits', 'digits', or null when the text holds
 * anything else (letters, a '+' not in front, …).
 */
function compact(input: string): string | null {
  const s = toAsciiDigits(input).replace(SEPARATORS, '');
  return /^\+?\d*$/.test(s) ? s : null;
}

type Parsed = { kind: 'national'; digits: string } | { kind: 'foreign' } | { kind: 'invalid' };

/** Splits a compacted number into an IR national significant number. */
function parse(s: string): Parsed {
  let national: string;
  if (s.startsWith('+') || s.startsWith('00')) {
    const international = s.startsWith('+') ? s.slice(1) : s.slice(2);
    if (!international.startsWith('98')) return international.length > 0 ? { kind: 'foreign' } : { kind: 'invalid' };
    national = international.slice(2);
  } else if (s.startsWith('0')) {
    national = s.slice(1); // trunk prefix
  } else if (s.length === 12 && s.startsWith('989')) {
    national = s.slice(2); // country code typed without '+'
  } else {
    national = s;
  }
  return { kind: 'national', digits: national };
}

/** Normalises what a person typed to E.164 (+989XXXXXXXXX), or says why it cannot. */
export function normalisePhone(input: unknown, region: string = RULES_REGION): PhoneResult {
  if (input === null || input === undefined) return { ok: false, code: 'missing_phone' };
  if (typeof input !== 'string') return { ok: false, code: 'invalid_phone' };
  if (input.trim() === '') return { ok: false, code: 'missing_phone' };
  if (input.length > MAX_PHONE_CHARS) return { ok: false, code: 'invalid_phone' };

  const s = compact(input.trim());
  if (s === null || s.replace('+', '').length === 0) return { ok: false, code: 'invalid_phone' };
  if (region !== RULES_REGION) return s.replace('+', '').length >= 5 ? { ok: true, e164: null } : { ok: false, code: 'invalid_phone' };

  const parsed = parse(s);
  if (parsed.kind !== 'national') return { ok: false, code: 'invalid_phone' };

  const n = parsed.digits;
  if (/^9\d{9}$/.test(n)) return { ok: true, e164: `+98${n}` };
  if (/^[1-8]\d{9}$/.test(n)) return { ok: false, code: 'not_mobile' };
  return { ok: false, code: 'invalid_phone' };
}

/**
 * True while the text could still grow into a valid IR mobile number (e.g. '0912', '+98 9').
 * Used to avoid nagging while someone is typing: errors for such text wait for blur or submit.
 */
export function isPossiblePrefix(input: string, region: string = RULES_REGION): boolean {
  if (input.length > MAX_PHONE_CHARS) return false;
  const s = compact(input.trim());
  if (s === null) return false;
  if (region !== RULES_REGION) return true;
  if (s === '' || s === '+' || s === '0' || s === '00') return true;

  const mobilePrefix = (n: string) => n === '' || (n[0] === '9' && n.length <= 10);
  const afterCountryCode = (d: string) => (d.length <= 2 ? '98'.startsWith(d) : d.startsWith('98') && mobilePrefix(d.slice(2)));

  if (s.startsWith('+')) return afterCountryCode(s.slice(1));
  if (s.startsWith('00')) return afterCountryCode(s.slice(2));
  if (s.startsWith('0')) return mobilePrefix(s.slice(1));
  if (s.startsWith('989') && s.length <= 12) return true;
  return mobilePrefix(s);
}

/** '+989123456789' → '+98 912 345 6789' (for display; other input is returned as is). */
export function formatE164(e164: string): string {
  const m = /^\+98(\d{3})(\d{3})(\d{4})$/.exec(e164);
  return m ? `+98 ${m[1]} ${m[2]} ${m[3]}` : e164;
}
