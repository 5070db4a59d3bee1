/**
 * Every word the landing page shows, per locale: the campaign's copy (brand, headline, benefits,
 * call to action, legal details, hours; from the campaign file, see README "Campaign file") plus the
 * form's own words below. Both locales are in the bundle; the pre-rendered page's <html lang>
 * decides which one hydrates, so there is no client-side switch.
 *
 * In Persian, figures the visitor reads are Persian digits, and a phone number inside a sentence
 * is wrapped in Unicode isolates (LRI … PDI) so it reads left to right inside right-to-left text;
 * its digit groups are joined by no-break spaces, so it never breaks across lines.
 */
import { createContext, useContext } from 'react';
import type { Campaign } from 'virtual:campaign';
import { callBackSentence, hoursLines, localDigits, type Locale } from './hours';

export type { Locale } from './hours';
export const LOCALES: Locale[] = ['fa', 'en'];
export const DEFAULT_LOCALE: Locale = 'fa';

const LRI = '\u2066';
const PDI = '\u2069';
const NBSP = '\u00a0';

const ui = {
  fa: {
    benefitsLabel: 'چرا درخواست تماس بدهید',
    form: {
      title: 'درخواست تماس رایگان',
      subtitle: 'ده ثانیه بیشتر طول نمی‌کشد؛ فقط شماره موبایلتان را لازم داریم.',
      label: 'شماره موبایل',
      placeholder: '۰۹۱۲ ۳۴۵ ۶۷۸۹',
      hint: `شماره موبایل ایرانی، مثلاً ${LRI}۰۹۱۲${NBSP}۳۴۵${NBSP}۶۷۸۹${PDI}`,
      /** Followed by the number, e.g. “شماره درست است: +۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹”. */
      valid: 'شماره درست است:',
      pending: 'در حال ارسال…',
      privacy: 'شماره‌ی شما نزد ما محرمانه می‌ماند.',
      honeypotLabel: 'وب‌سایت (این خانه را خالی بگذارید)',
    },
    errors: {
      missing_phone: 'لطفاً شماره موبایل خود را وارد کنید.',
      invalid_phone: `این شماره درست به نظر نمی‌رسد. شماره موبایل را مثل ${LRI}۰۹۱۲${NBSP}۳۴۵${NBSP}۶۷۸۹${PDI} وارد کنید.`,
      not_mobile: 'این شماره تلفن ثابت است. لطفاً شماره موبایل وارد کنید (با ۰۹ شروع می‌شود).',
      consent_required: 'لطفاً برای ثبت شماره، کادر موافقت را علامت بزنید.',
    },
    status: {
      rateLimited: (seconds: number | null) =>
        seconds === null
          ? 'تعداد تلاش‌ها زیاد بود. لطفاً کمی صبر کنید و دوباره امتحان کنید.'
          : `تعداد تلاش‌ها زیاد بود. لطفاً ${localDigits(String(seconds), 'fa')} ثانیه دیگر دوباره امتحان کنید.`,
      unavailable: (seconds: number | null) =>
        seconds === null
          ? 'همین حالا امکان ثبت شماره نیست. لطفاً کمی بعد دوباره امتحان کنید.'
          : `همین حالا امکان ثبت شماره نیست. لطفاً ${localDigits(String(seconds), 'fa')} ثانیه دیگر دوباره امتحان کنید.`,
      offline: 'به نظر می‌رسد اینترنت شما قطع است. شماره‌تان همین‌جا مانده؛ بعد از وصل شدن دوباره بفرستید.',
      network: 'ارتباط با سرور برقرار نشد. اتصال اینترنت را بررسی کنید و دوباره بفرستید؛ شماره‌تان همین‌جا مانده است.',
      unexpected: (status: number) =>
        `مشکلی از سمت ما پیش آمد (خطای ${localDigits(String(status), 'fa')}). لطفاً دوباره امتحان کنید.`,
    },
    success: {
      title: 'ممنون از شما!',
      body: 'شماره‌ی شما ثبت شد:',
      duplicateTitle: 'شماره‌ی شما را قبلاً ثبت کرده‌ایم',
      duplicateBody: 'لازم نیست دوباره بفرستید؛ با همین شماره با شما تماس می‌گیریم:',
      /** After a no-JavaScript submission lands on /?submitted=1 (the number is not known). */
      redirectBody: 'شماره‌ی شما به دست ما رسید.',
      again: 'ثبت شماره‌ی دیگر',
    },
    footer: { hours: 'ساعات پاسخگویی', phone: 'تلفن', privacy: 'حریم خصوصی', badgesLabel: 'نمادهای اعتماد' },
  },
  en: {
    benefitsLabel: 'Why request a call back',
    form: {
      title: 'Request a call back',
      subtitle: 'It takes ten seconds. We only need your mobile number.',
      label: 'Mobile number',
      placeholder: '0912 345 6789',
      hint: `Iranian mobile, e.g. 0912${NBSP}345${NBSP}6789.`,
      valid: 'Looks good:',
      pending: 'Sending…',
      privacy: 'We will never share your number.',
      honeypotLabel: 'Website (leave this empty)',
    },
    errors: {
      missing_phone: 'Please enter your mobile number.',
      invalid_phone: `That doesn’t look like a phone number. Try 0912${NBSP}345${NBSP}6789.`,
      not_mobile: 'That looks like a landline. Please enter a mobile number (it starts with 09).',
      consent_required: 'Please tick the box to agree before sending your number.',
    },
    status: {
      rateLimited: (seconds: number | null) =>
        seconds === null
          ? 'Too many attempts. Please wait a moment and try again.'
          : `Too many attempts. Please try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`,
      unavailable: (seconds: number | null) =>
        seconds === null
          ? 'We are temporarily unavailable. Please try again shortly.'
          : `We are temporarily unavailable. Please try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`,
      offline: 'You appear to be offline. Your number is still here — reconnect and try again.',
      network: 'We couldn’t reach our server. Check your connection and try again — your number is still here.',
      unexpected: (status: number) => `Something went wrong on our side (error ${status}). Please try again.`,
    },
    success: {
      title: 'Thank you!',
      body: 'We have your number:',
      duplicateTitle: 'We already have your number',
      duplicateBody: 'No need to send it again — we will call you on:',
      redirectBody: 'We’ve received your number.',
      again: 'Use a different number',
    },
    footer: { hours: 'Business hours', phone: 'Phone', privacy: 'Privacy policy', badgesLabel: 'Trust seals' },
  },
} as const;

/**
 * A slot of the run-time template (`\u27e6name\u27e7`, also `each:` and `if:` sections): the build renders the
 * page once with these in place of the campaign's copy, and leadcap fills them at run time
 * (leadcap/landing/template.py). Kept out of text nodes that touch other text, so React puts no
 * `<!-- -->` beside them that the filled page would keep.
 */
export const slot = (name: string) => `\u27e6${name}\u27e7`;

/** Everything the page says in `lang`, from the campaign the page was filled with. */
export function copyFor(lang: Locale, campaign: Campaign) {
  const c = campaign.locales[lang];
  const words = ui[lang];
  return {
    locale: { lang, dir: lang === 'fa' ? ('rtl' as const) : ('ltr' as const) },
    /** Rendering the build's template (slots, both branches of a choice, one item per list). */
    template: false as boolean,
    meta: { title: c.title, description: c.description },
    brand: c.brand,
    logo: campaign.logo,
    hero: { eyebrow: c.eyebrow, headline: c.headline, supporting: c.supporting, benefitsLabel: words.benefitsLabel, benefits: c.benefits },
    form: { ...words.form, submit: c.cta },
    /** The campaign's consent text beside the form's checkbox; null when it asks for none. */
    consent: c.consent ?? null,
    errors: words.errors,
    status: words.status,
    success: { ...words.success, next: callBackSentence(campaign.hours, lang) },
    footer: {
      ...words.footer,
      company: c.company,
      address: c.address,
      hoursLines: hoursLines(campaign.hours, lang),
      phoneTel: campaign.phone.tel,
      phoneDisplay: localDigits(campaign.phone.display, lang),
      privacyUrl: campaign.privacyUrl,
      badges: campaign.badges.map((b) => ({ src: b.src, link: b.link, width: b.width, height: b.height, alt: b.alt[lang] })),
    },
    /** Digits as this locale shows them (the number preview, counters). */
    digits: (text: string) => localDigits(text, lang),
  };
}

export type Copy = ReturnType<typeof copyFor>;

/** The locale a document was pre-rendered in (its <html lang>), else the default. */
export function documentLocale(doc: Document | undefined = typeof document === 'undefined' ? undefined : document): Locale {
  const lang = doc?.documentElement.lang;
  return lang === 'en' || lang === 'fa' ? lang : DEFAULT_LOCALE;
}

/** The campaign the server put in the page (<script id="campaign-data" type="application/json">). */
export function documentCampaign(doc: Document = document): Campaign {
  const data = doc.getElementById('campaign-data')?.textContent;
  if (!data) throw new Error('leadcap: the page carries no campaign data (#campaign-data)');
  return JSON.parse(data) as Campaign;
}

const CopyContext = createContext<Copy | null>(null);
export const CopyProvider = CopyContext.Provider;

export function useCopy(): Copy {
  const copy = useContext(CopyContext);
  if (!copy) throw new Error('leadcap: useCopy() outside a CopyProvider');
  return copy;
}
