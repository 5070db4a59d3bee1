/**
 * The code step's own words, per locale (kept beside the step rather than in copy.ts so the step
 * can be added or removed as one piece). Persian figures are Persian digits.
 */
import { localDigits, type Locale } from './hours';

const words = {
  fa: {
    title: 'کد تأیید را وارد کنید',
    body: 'یک کد ۵ رقمی برای این شماره پیامک کردیم:',
    label: 'کد تأیید',
    placeholder: '– – – – –',
    submit: 'تأیید شماره',
    pending: 'در حال بررسی…',
    tooShort: 'کد ۵ رقم دارد؛ لطفاً همه‌ی رقم‌ها را وارد کنید.',
    expiresIn: (clock: string) => `کد تا ${localDigits(clock, 'fa')} دیگر معتبر است.`,
    expired: 'این کد منقضی شده است. لطفاً کد تازه‌ای درخواست کنید.',
    resend: 'ارسال دوباره‌ی کد',
    resendIn: (clock: string) => `ارسال دوباره تا ${localDigits(clock, 'fa')} دیگر`,
    resent: 'کد تازه‌ای پیامک شد.',
    resendUnavailable: 'فعلاً امکان ارسال پیامک نیست. شماره‌ی شما ثبت شده و با شما تماس می‌گیریم.',
    network: 'ارتباط با سرور برقرار نشد. اتصال اینترنت را بررسی کنید و دوباره امتحان کنید.',
    verifiedTitle: 'شماره‌ی شما تأیید شد',
    changeNumber: 'شماره را اشتباه وارد کرده‌اید؟ تغییر شماره',
  },
  en: {
    title: 'Enter your code',
    body: 'We sent a 5-digit code by SMS to:',
    label: 'Verification code',
    placeholder: '– – – – –',
    submit: 'Confirm my number',
    pending: 'Checking…',
    tooShort: 'The code has 5 digits; please enter all of them.',
    expiresIn: (clock: string) => `The code is valid for another ${clock}.`,
    expired: 'This code has expired. Please ask for a new one.',
    resend: 'Send the code again',
    resendIn: (clock: string) => `Send again in ${clock}`,
    resent: 'A new code is on its way.',
    resendUnavailable: 'We cannot send an SMS right now. We have your number and will call you.',
    network: 'We couldn’t reach our server. Check your connection and try again.',
    verifiedTitle: 'Your number is confirmed',
    changeNumber: 'Wrong number? Change it',
  },
} as const;

export type VerifyWords = (typeof words)[Locale];

export function verifyWords(lang: Locale): VerifyWords {
  return words[lang];
}
