// The campaign file, read and validated for the build's demo pages and `npm run dev`
// (vite.config.ts). At run time leadcap reads it itself (leadcap/landing/campaign.py, the
// authority, with the same rules); local images are looked up in LEADCAP_ASSETS_DIR, as there.
// LEADCAP_CAMPAIGN_FILE names it; unset, the shipped default ../campaign.default.json is used.
// A bad file stops the build with one line naming the file and the field, e.g.
//   campaign: /srv/campaign.json: locales.fa.headline must be non-empty text
// The fields are documented in web/ui/README.md ("Campaign file").
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CAMPAIGN = path.resolve(here, '..', '..', 'campaign.default.json');
export const LOCALES = ['fa', 'en'];
export const DAYS = ['sat', 'sun', 'mon', 'tue', 'wed', 'thu', 'fri'];
export const ICONS = ['clock', 'shield', 'sparkles', 'phone', 'star', 'award', 'headset', 'badge-check'];
const LOCALE_TEXT = ['brand', 'title', 'description', 'eyebrow', 'headline', 'supporting', 'cta', 'company', 'address'];
const TOP_KEYS = ['$comment', 'phone', 'privacy_url', 'hours', 'logo', 'badges', 'locales'];
const IMAGE = /\.(svg|png|webp|jpe?g|gif)$/i;

export class CampaignError extends Error {}

export function campaignPath(env = process.env) {
  const given = env.LEADCAP_CAMPAIGN_FILE?.trim();
  return given ? path.resolve(given) : DEFAULT_CAMPAIGN;
}

/** Reads and validates the campaign file; throws CampaignError naming the field. */
export function loadCampaign(file = campaignPath(), assets = process.env.LEADCAP_ASSETS_DIR?.trim() || undefined) {
  const fail = (message) => {
    throw new CampaignError(`campaign: ${file}: ${message}`);
  };
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot be read (${err.code ?? err.message})`);
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    fail(`is not valid JSON (${err.message})`);
  }
  return validateCampaign(data, { dir: path.dirname(file), fail, assets });
}

/** The validated campaign (local image paths made absolute); `fail(message)` must throw. */
export function validateCampaign(data, { dir, fail, assets }) {
  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const text = (v, where) => {
    if (typeof v !== 'string' || !v.trim()) fail(`${where} must be non-empty text`);
    if (v.length > 2000) fail(`${where} is too long (at most 2000 characters)`);
    return v.trim();
  };
  const int = (v, where, max = 2000) => {
    if (!Number.isInteger(v) || v < 1 || v > max) fail(`${where} must be a whole number from 1 to ${max}`);
    return v;
  };
  const link = (v, where) => {
    const s = text(v, where);
    if (!(s.startsWith('https://') || s.startsWith('http://') || (s.startsWith('/') && !s.startsWith('//'))))
      fail(`${where} must be an https:// address or a /path, got ${JSON.stringify(s)}`);
    return s;
  };
  const localImage = (v, where) => {
    const s = text(v, where);
    if (s.startsWith('https://')) return { url: s };
    if (!IMAGE.test(s)) fail(`${where} must be an https:// image address or a local .svg/.png/.webp/.jpg file`);
    const file = path.resolve(assets ?? dir, s);
    if (!existsSync(file)) fail(`${where} names a file that does not exist: ${file}`);
    return { file };
  };
  const time = (v, where) => {
    if (typeof v !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(v)) fail(`${where} must be a time like 09:00`);
    return v;
  };

  if (!isObject(data)) fail('must hold a JSON object');
  for (const key of Object.keys(data)) if (!TOP_KEYS.includes(key)) fail(`${key} is not a campaign field (known: ${TOP_KEYS.join(', ')})`);

  if (!isObject(data.phone)) fail('phone must be an object like {"tel": "+982191001234", "display": "021 9100 1234"}');
  const tel = text(data.phone.tel, 'phone.tel');
  if (!/^\+\d{6,15}$/.test(tel)) fail('phone.tel must be an E.164 number like +982191001234');
  const display = text(data.phone.display, 'phone.display');
  if (!/^[0-9 ()+-]+$/.test(display)) fail('phone.display must be written with ASCII digits, spaces, dashes and parentheses');

  const privacyUrl = link(data.privacy_url, 'privacy_url');

  if (!Array.isArray(data.hours) || data.hours.length === 0) fail('hours must be a non-empty list');
  const hours = data.hours.map((row, i) => {
    if (!isObject(row)) fail(`hours.${i} must be an object like {"days": ["sat"], "open": "09:00", "close": "17:00"}`);
    if (!Array.isArray(row.days) || row.days.length === 0 || row.days.some((d) => !DAYS.includes(d)))
      fail(`hours.${i}.days must list days among ${DAYS.join(', ')}`);
    if (new Set(row.days).size !== row.days.length) fail(`hours.${i}.days lists a day twice`);
    const open = time(row.open, `hours.${i}.open`);
    const close = time(row.close, `hours.${i}.close`);
    if (close <= open) fail(`hours.${i}.close must be later than hours.${i}.open`);
    return { days: [...row.days].sort((a, b) => DAYS.indexOf(a) - DAYS.indexOf(b)), open, close };
  });

  let logo = null;
  if (data.logo !== null && data.logo !== undefined) {
    if (!isObject(data.logo)) fail('logo must be null or {"src": "logo.svg", "width": 32, "height": 32}');
    const src = localImage(data.logo.src, 'logo.src');
    logo = { ...src, width: int(data.logo.width, 'logo.width', 400), height: int(data.logo.height, 'logo.height', 200) };
  }

  if (data.badges !== undefined && !Array.isArray(data.badges)) fail('badges must be a list');
  const badges = (data.badges ?? []).map((badge, i) => {
    if (!isObject(badge)) fail(`badges.${i} must be an object`);
    const image = localImage(badge.image, `badges.${i}.image`);
    if (!isObject(badge.alt)) fail(`badges.${i}.alt must hold the image's text per language, e.g. {"fa": "…", "en": "…"}`);
    const alt = Object.fromEntries(LOCALES.map((lang) => [lang, text(badge.alt[lang], `badges.${i}.alt.${lang}`)]));
    return {
      ...image,
      link: link(badge.link, `badges.${i}.link`),
      width: int(badge.width, `badges.${i}.width`, 400),
      height: int(badge.height, `badges.${i}.height`, 400),
      alt,
    };
  });

  if (!isObject(data.locales)) fail('locales must be an object with fa and en');
  const locales = {};
  for (const lang of LOCALES) {
    const where = `locales.${lang}`;
    const source = data.locales[lang];
    if (!isObject(source)) fail(`${where} is missing`);
    const out = {};
    for (const key of LOCALE_TEXT) out[key] = text(source[key], `${where}.${key}`);
    // Optional, in every language or in none (leadcap/landing/campaign.py checks the same).
    if (source.consent !== undefined && source.consent !== null) out.consent = text(source.consent, `${where}.consent`);
    if (!Array.isArray(source.benefits) || source.benefits.length < 1 || source.benefits.length > 4)
      fail(`${where}.benefits must list 1 to 4 benefits`);
    out.benefits = source.benefits.map((b, i) => {
      if (!isObject(b)) fail(`${where}.benefits.${i} must be an object`);
      if (!ICONS.includes(b.icon)) fail(`${where}.benefits.${i}.icon must be one of ${ICONS.join(', ')}`);
      return { icon: b.icon, title: text(b.title, `${where}.benefits.${i}.title`), text: text(b.text, `${where}.benefits.${i}.text`) };
    });
    for (const key of Object.keys(source))
      if (!LOCALE_TEXT.includes(key) && key !== 'benefits' && key !== 'consent') fail(`${where}.${key} is not a campaign field`);
    locales[lang] = out;
  }
  for (const key of Object.keys(data.locales)) if (!LOCALES.includes(key)) fail(`locales.${key} is not a supported language (${LOCALES.join(', ')})`);

  return { phone: { tel, display }, privacyUrl, hours, logo, badges, locales };
}
