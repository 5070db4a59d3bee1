import { describe, expect, it } from 'vitest';
import { formatE164, isPossiblePrefix, normalisePhone, toAsciiDigits } from './phone';

const E164 = '+989123456789';

describe('normalisePhone — every form of +989123456789 in shared/api.md', () => {
  it.each([
    '09123456789',
    '9123456789',
    '+989123456789',
    '00989123456789',
    '0912 345 6789',
    '0912-345-6789',
    '(0912) 345 6789',
    '۰۹۱۲۳۴۵۶۷۸۹', // Persian digits
    '٠٩١٢٣٤٥٦٧٨٩', // Arabic-Indic digits
  ])('%s → +989123456789', (input) => {
    expect(normalisePhone(input)).toEqual({ ok: true, e164: E164 });
  });

  it.each([
    '+98 912 345 6789',
    '0098 912 345 6789',
    '0912.345.6789',
    '  09123456789  ',
    '+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹',
    '۰۹۱۲-۳۴۵-۶۷۸۹',
    '(٠٩١٢) ٣٤٥ ٦٧٨٩',
    '۰۹۱۲ 345 ۶۷۸۹', // mixed scripts
    '989123456789', // country code without +
    '0912\u00a0345\u00a06789', // no-break spaces
  ])('also accepts %s', (input) => {
    expect(normalisePhone(input)).toEqual({ ok: true, e164: E164 });
  });

  it.each(['', '   ', '\t\n'])('blank %j → missing_phone', (input) => {
    expect(normalisePhone(input)).toEqual({ ok: false, code: 'missing_phone' });
  });

  it('null or absent → missing_phone, a non-string → invalid_phone', () => {
    expect(normalisePhone(null)).toEqual({ ok: false, code: 'missing_phone' });
    expect(normalisePhone(undefined)).toEqual({ ok: false, code: 'missing_phone' });
    expect(normalisePhone(9123456789)).toEqual({ ok: false, code: 'invalid_phone' });
  });

  it.each(['02112345678', '021 1234 5678', '+982112345678', '00985112345678', '۰۲۱۱۲۳۴۵۶۷۸'])(
    'IR landline %s → not_mobile',
    (input) => {
      expect(normalisePhone(input)).toEqual({ ok: false, code: 'not_mobile' });
    },
  );

  it.each([
    '12345',
    'abc',
    'call me',
    '0912345678', // one digit short
    '091234567890', // one digit long
    '+98912345678',
    '+14155552671', // not IR
    '+',
    '00',
    '0912+3456789',
    '0912_345_6789',
    '٠٩١٢٣٤٥٦٧٨٩x',
    '0000000000',
  ])('junk %s → invalid_phone', (input) => {
    expect(normalisePhone(input)).toEqual({ ok: false, code: 'invalid_phone' });
  });

  it('more than 32 characters as typed → invalid_phone, even if the digits are fine', () => {
    const padded = `0912-${'-'.repeat(20)}345-6789`;
    expect(padded.length).toBe(33);
    expect(normalisePhone(padded)).toEqual({ ok: false, code: 'invalid_phone' });
    const exactly32 = `0912-${'-'.repeat(19)}345-6789`;
    expect(exactly32.length).toBe(32);
    expect(normalisePhone(exactly32)).toEqual({ ok: true, e164: E164 });
  });
});

describe('isPossiblePrefix — no nagging while the number is being typed', () => {
  it.each(['', '0', '09', '0912', '0912 345', '9', '912345', '+', '+9', '+98', '+98 9', '00', '0098', '009891', '۰۹۱', '(0912) 3'])(
    '%j could still become valid',
    (input) => {
      expect(isPossiblePrefix(input)).toBe(true);
    },
  );

  it.each(['1', '12345', '021', '+1', '0012', '+97', 'a', '091234567890', '0912x', '+98 8'])('%j cannot', (input) => {
    expect(isPossiblePrefix(input)).toBe(false);
  });

  it('every complete valid form is also a possible prefix', () => {
    for (const input of ['09123456789', '9123456789', '+989123456789', '00989123456789', '989123456789']) {
      expect(isPossiblePrefix(input)).toBe(true);
    }
  });
});

describe('helpers', () => {
  it('toAsciiDigits converts Persian and Arabic-Indic digits only', () => {
    expect(toAsciiDigits('۰۱۲۳۴۵۶۷۸۹ ٠١٢٣٤٥٦٧٨٩ 0123456789')).toBe('0123456789 0123456789 0123456789');
  });

  it('formatE164 groups an IR mobile number and leaves others alone', () => {
    expect(formatE164('+989123456789')).toBe('+98 912 345 6789');
    expect(formatE164('+14155552671')).toBe('+14155552671');
  });
});
