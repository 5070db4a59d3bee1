/**
 * Every word the landing page shows lives here, so copy can change without touching components.
 *
 * To localise (e.g. Persian), change `locale` to { lang: 'fa', dir: 'rtl' } and translate the
 * strings: the layout uses logical CSS properties only, so it mirrors by itself.
 */

export const copy = {
  locale: { lang: 'en', dir: 'ltr' as 'ltr' | 'rtl' },

  meta: {
    title: 'Talk to an advisor today — free call back',
    description:
      'Leave your mobile number and an advisor will call you back within the hour. Free, no obligation, and your number is never shared.',
  },

  brand: 'leadcap',

  hero: {
    eyebrow: 'Free consultation · No obligation',
    headline: 'Expert advice, without the wait.',
    supporting:
      'Leave your mobile number and one of our advisors will call you back — usually within the hour.',
    benefitsLabel: 'Why request a call back',
    benefits: [
      {
        icon: 'clock',
        title: 'A call back within the hour',
        text: 'During business hours, a real person calls you — no queues, no bots.',
      },
      {
        icon: 'shield',
        title: 'Your number stays private',
        text: 'We use it only to call you back. Never shared, never sold.',
      },
      {
        icon: 'sparkles',
        title: 'Free and no obligation',
        text: 'Get honest answers first. Decide later, at your own pace.',
      },
    ],
  },

  form: {
    title: 'Request a call back',
    subtitle: 'It takes ten seconds. We only need your mobile number.',
    label: 'Mobile number',
    placeholder: '0912 345 6789',
    hint: 'Iranian mobile, e.g. 0912 345 6789.',
    /** Followed by the number, e.g. “Looks good: +98 912 345 6789”. */
    valid: 'Looks good:',
    submit: 'Call me back',
    pending: 'Sending…',
    privacy: 'We will never share your number.',
    honeypotLabel: 'Website (leave this empty)',
  },

  /** Client-side validation messages, by the same codes the server uses. */
  errors: {
    missing_phone: 'Please enter your mobile number.',
    invalid_phone: 'That doesn’t look like a phone number. Try 0912 345 6789.',
    not_mobile: 'That looks like a landline. Please enter a mobile number (it starts with 09).',
  },

  /** Messages for server and network outcomes. */
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
    body: 'An advisor will call you back shortly on:',
    duplicateTitle: 'We already have your number',
    duplicateBody: 'No need to send it again — an advisor will call you shortly on:',
    /** Shown after a no-JavaScript submission lands on /?submitted=1 (the number is not known). */
    redirectBody: 'We’ve received your number and will call you back shortly.',
    again: 'Use a different number',
  },

  footer: 'leadcap — we only call you back when you ask us to.',
} as const;

export type BenefitIcon = (typeof copy.hero.benefits)[number]['icon'];
