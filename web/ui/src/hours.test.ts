import { describe, expect, it } from 'vitest';
import type { Hours } from 'virtual:campaign';
import { callBackSentence, hoursLines } from './hours';

const HOURS: Hours[] = [
  { days: ['sat', 'sun', 'mon', 'tue', 'wed'], open: '09:00', close: '17:00' },
  { days: ['thu'], open: '09:00', close: '13:00' },
];

describe('the footer hours', () => {
  it('hold each time range to the day before it, so «۱۳» never wraps alone', () => {
    expect(hoursLines(HOURS, 'fa')).toEqual([
      'شنبه تا چهارشنبه\u00a0۹\u00a0تا\u00a0۱۷',
      'پنج\u200cشنبه\u00a0۹\u00a0تا\u00a0۱۳',
    ]);
    expect(hoursLines(HOURS, 'en')).toEqual([
      'Saturday to Wednesday\u00a09:00–\u206017:00',
      'Thursday\u00a09:00–\u206013:00',
    ]);
  });

  it('write پنج‌شنبه and یک‌شنبه with their ZWNJ, as سه‌شنبه', () => {
    const sunday: Hours[] = [{ days: ['sun'], open: '10:00', close: '12:00' }];
    expect(hoursLines(sunday, 'fa')[0].startsWith('یک\u200cشنبه')).toBe(true);
    expect(callBackSentence(HOURS, 'fa')).toContain('و پنج\u200cشنبه از ساعت');
  });
});
