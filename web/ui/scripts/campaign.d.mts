// Types for scripts/campaign.mjs (imported by vite.config.ts).
export const DEFAULT_CAMPAIGN: string;
export const LOCALES: string[];
export class CampaignError extends Error {}
export function campaignPath(env?: Record<string, string | undefined>): string;
type Image = { file?: string; url?: string };
export type ValidCampaign = {
  phone: { tel: string; display: string };
  privacyUrl: string;
  hours: { days: string[]; open: string; close: string }[];
  logo: (Image & { width: number; height: number }) | null;
  badges: (Image & { link: string; width: number; height: number; alt: Record<string, string> })[];
  locales: Record<string, Record<string, unknown>>;
};
export function loadCampaign(file?: string, assets?: string): ValidCampaign;
export function validateCampaign(data: unknown, options: { dir: string; fail: (message: string) => never; assets?: string }): ValidCampaign;
