/**
 * The code step of phone verification (LEADCAP_VERIFY=sms): POST /api/leads/{id}/verify and
 * /resend (shared/api.md, "Phone verification"), and the pure rules of a typed code.
 */
import { apiBase, retryAfterSeconds, timersOf, type CodeTimers } from './api';
import type { Locale } from './copy';

export type { CodeTimers, Verification } from './api';

export const CODE_LENGTH = 5;
const TIMEOUT_MS = 15_000;

/** The code as typed, with Persian and Arabic-Indic digits read as ASCII and anything else dropped. */
export function readCode(typed: string): string {
  let out = '';
  for (const ch of typed) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x30 && c <= 0x39) out += ch;
    else if (c >= 0x6f0 && c <= 0x6f9) out += String(c - 0x6f0);
    else if (c >= 0x660 && c <= 0x669) out += String(c - 0x660);
  }
  return out.slice(0, CODE_LENGTH);
}

/** A countdown as m:ss. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export type VerifyOutcome =
  | { kind: 'verified' }
  | { kind: 'wrong'; message: string; attemptsLeft: number }
  | { kind: 'expired'; message: string }
  | { kind: 'dead'; message: string }
  | { kind: 'error'; message: string | null; retryAfter: number | null };

export type ResendOutcome =
  | { kind: 'sent'; timers: CodeTimers }
  | { kind: 'unavailable' }
  | { kind: 'too_early'; retryAfter: number | null }
  | { kind: 'error'; message: string | null };

async function post(path: string, lang: Locale, body: unknown, fetchImpl: typeof fetch): Promise<Response | null> {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), TIMEOUT_MS) : null;
  try {
    return await fetchImpl(`${apiBase()}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Accept-Language': lang },
      body: JSON.stringify(body),
      signal: controller?.signal,
      credentials: 'same-origin',
    });
  } catch {
    return null;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

async function errorOf(response: Response): Promise<{ code?: string; message: string | null; attemptsLeft?: number }> {
  try {
    const error = ((await response.json()) as { error?: { code?: unknown; message?: unknown; attempts_left?: unknown } }).error;
    return {
      code: typeof error?.code === 'string' ? error.code : undefined,
      message: typeof error?.message === 'string' && error.message.trim() ? error.message : null,
      attemptsLeft: typeof error?.attempts_left === 'number' ? error.attempts_left : undefined,
    };
  } catch {
    return { message: null };
  }
}

/**
 * Sends a typed code with the token of the lead's first 202; the server's sentence (in the page's
 * language) comes back with each refusal.
 */
export async function verifyCode(
  id: string,
  token: string,
  code: string,
  lang: Locale,
  fetchImpl: typeof fetch = fetch,
): Promise<VerifyOutcome> {
  const response = await post(`/api/leads/${encodeURIComponent(id)}/verify`, lang, { code, token }, fetchImpl);
  if (response === null) return { kind: 'error', message: null, retryAfter: null };
  if (response.ok) return { kind: 'verified' };
  const error = await errorOf(response);
  const message = error.message ?? '';
  if (error.code === 'invalid_code') return { kind: 'wrong', message, attemptsLeft: error.attemptsLeft ?? 0 };
  if (error.code === 'code_expired') return { kind: 'expired', message };
  if (error.code === 'too_many_attempts') return { kind: 'dead', message };
  return { kind: 'error', message: error.message, retryAfter: retryAfterSeconds(response.headers.get('Retry-After')) };
}

/** Asks for a new code, with the same token (the server keeps it; the answer carries none). */
export async function resendCode(id: string, token: string, lang: Locale, fetchImpl: typeof fetch = fetch): Promise<ResendOutcome> {
  const response = await post(`/api/leads/${encodeURIComponent(id)}/resend`, lang, { token }, fetchImpl);
  if (response === null) return { kind: 'error', message: null };
  if (response.status === 202) {
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      /* an unreadable 202 is treated as no code */
    }
    const timers = timersOf(body);
    return timers ? { kind: 'sent', timers } : { kind: 'unavailable' };
  }
  const error = await errorOf(response);
  if (response.status === 429 && error.code === 'rate_limited') {
    return { kind: 'too_early', retryAfter: retryAfterSeconds(response.headers.get('Retry-After')) };
  }
  return { kind: 'error', message: error.message };
}
