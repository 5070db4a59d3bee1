/** The campaign file, validated at build time by scripts/campaign.mjs (see README, "Campaign file"). */
declare module 'virtual:campaign' {
  export type Day = 'sat' | 'sun' | 'mon' | 'tue' | 'wed' | 'thu' | 'fri';
  export type Hours = { days: Day[]; open: string; close: string };
  export type BenefitIcon = 'clock' | 'shield' | 'sparkles' | 'phone' | 'star' | 'award' | 'headset' | 'badge-check';
  export type LocaleCampaign = {
    brand: string;
    title: string;
    description: string;
    eyebrow: string;
    headline: string;
    supporting: string;
    cta: string;
    company: string;
    address: string;
    benefits: { icon: BenefitIcon; title: string; text: string }[];
    /** The consent the form asks for, beside a checkbox; absent: none asked (leadcap/landing/consent.py). */
    consent?: string;
  };
  export type Campaign = {
    phone: { tel: string; display: string };
    privacyUrl: string;
    hours: Hours[];
    logo: { src: string; width: number; height: number } | null;
    badges: { src: string; link: string; width: number; height: number; alt: Record<'fa' | 'en', string> }[];
    locales: Record<'fa' | 'en', LocaleCampaign>;
  };
  export const campaign: Campaign;
}
