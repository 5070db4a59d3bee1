/** Talking to POST /api/leads/ (shared/api.md). */

import type { Copy } from './copy';

export const UTM_KEYS = ['source', 'medium', 'campaign', 'term', 'content'] as const;
export type UtmKey = (typeof UTM_KEYS)[number];
export type Utm = Partial<Record<UtmKey, string>>;

const UTM_MAX = 128;
const TIMEOUT_MS = 15_000;

/** utm_* parameters of the page's query string (each at most 128 characters, as the server requires). */
export function utmFromSearch(search: string): Utm {
  const params = new URLSearchParams(search);
  const utm: Utm = {};
  for (const key of UTM_KEYS) {
    const value = params.get(`utm_${key}`)?.trim();
    if (value) utm[key] = value.slice(0, UTM_MAX);
  }
  return utm;
}

export type LeadRequest = { phone: string; source: string; utm: Utm; website?: string; campaign?: string };

/** The campaign a page belongs to: the server marks /SLUG/ pages with <html data-campaign="SLUG">
 * (web/landing.py, with_slug); the default campaign's page has none, and its JSON names none. */
export function pageCampaign(): string | undefined {
  return typeof document === 'undefined' ? undefined : document.documentElement.dataset.campaign || undefined;
}

/** A code's timers, in seconds: when it expires and when a new one may be asked for. */
export type CodeTimers = { expiresIn: number; resendIn: number };

/**
 * What a lead's first 202 said about the SMS code (LEADCAP_VERIFY=sms): it went out, its timers,
 * and the token that /verify and /resend need. The token lives only here, in the page's memory:
 * never in the URL or in storage.
 */
export type Verification = CodeTimers & { id: string; token: string };

type VerificationBody = { id?: unknown; status?: unknown; verification?: { expires_in?: unknown; resend_in?: unknown; token?: unknown } } | null;

/** The timers of a 202 whose code went out (a first answer's or a resend's); null otherwise. */
export function timersOf(body: unknown): CodeTimers | null {
  const data = body as VerificationBody;
  const v = data?.verification;
  if (data?.status !== 'verification_sent' || !v) return null;
  if (typeof v.expires_in !== 'number' || typeof v.resend_in !== 'number') return null;
  return { expiresIn: v.expires_in, resendIn: v.resend_in };
}

/**
 * The code step of a 202 body: only a lead's first answer, whose code went out, carries the token
 * without which the step cannot work. A duplicate's answer (no token) gets the plain thank-you.
 */
export function verificationOf(body: unknown): Verification | null {
  const data = body as VerificationBody;
  const timers = timersOf(body);
  const token = data?.verification?.token;
  if (!timers || typeof data?.id !== 'string' || typeof token !== 'string' || !token) return null;
  return { id: data.id, token, ...timers };
}

export type LeadOutcome =
  | { kind: 'success'; phone: string; duplicate: boolean; verification?: Verification | null }
  /** `field` is 'phone' when the message belongs next to the phone field. */
  | { kind: 'error'; message: string; field?: 'phone'; code?: string };

export function apiBase(): string {
  const base = import.meta.env.VITE_API_BASE_URL ?? '';
  return String(base).replace(/\/+$/, '');
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now: number = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Math.max(1, parseInt(trimmed, 10));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(1, Math.ceil((date - now) / 1000));
}

type ErrorBody = { error?: { code?: unknown; message?: unknown; field?: unknown } };

async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** Sends a lead and turns every possible answer (or the lack of one) into words for the page. */
export async function submitLead(body: LeadRequest, copy: Copy, fetchImpl: typeof fetch = fetch): Promise<LeadOutcome> {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), TIMEOUT_MS) : null;
  let response: Response;
  try {
    response = await fetchImpl(`${apiBase()}/api/leads/`, {
      method: 'POST',
      // The server's error.message follows Accept-Language: ask for the page's language.
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': copy.locale.lang },
      body: JSON.stringify({ ...body, campaign: body.campaign ?? pageCampaign() }),
      signal: controller?.signal,
      credentials: 'same-origin',
    });
  } catch {
    const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
    return { kind: 'error', code: offline ? 'offline' : 'network', message: offline ? copy.status.offline : copy.status.network };
  } finally {
    if (timer) clearTimeout(timer);
  }

  const data = await readJson(response);

  if (response.ok) {
    const ok = data as { phone?: unknown; duplicate?: unknown } | null;
    return {
      kind: 'success',
      phone: typeof ok?.phone === 'string' ? ok.phone : body.phone,
      duplicate: ok?.duplicate === true,
      verification: verificationOf(data),
    };
  }

  const error = (data as ErrorBody | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const serverMessage = typeof error?.message === 'string' && error.message.trim() ? error.message : null;
  const field = error?.field === 'phone' ? ('phone' as const) : undefined;

  if (response.status === 429) {
    const seconds =
      retryAfterSeconds(response.headers.get('Retry-After')) ?? retryAfterSeconds(response.headers.get('RateLimit-Reset'));
    return { kind: 'error', code: code ?? 'rate_limited', message: copy.status.rateLimited(seconds) };
  }
  if (response.status === 503) {
    const seconds = retryAfterSeconds(response.headers.get('Retry-After'));
    return { kind: 'error', code: code ?? 'unavailable', message: copy.status.unavailable(seconds) };
  }
  return { kind: 'error', code, field, message: serverMessage ?? copy.status.unexpected(response.status) };
}
