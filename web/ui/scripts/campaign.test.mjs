// The campaign file's validation: each bad field is named, and a bad file stops the build.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { DEFAULT_CAMPAIGN, loadCampaign, validateCampaign } from './campaign.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const fresh = () => JSON.parse(readFileSync(DEFAULT_CAMPAIGN, 'utf8'));
const check = (data) =>
  validateCampaign(data, {
    dir: here,
    fail: (message) => {
      throw new Error(message);
    },
  });

describe('campaign file', () => {
  it('accepts the shipped default, with hours sorted Saturday first', () => {
    const campaign = loadCampaign(DEFAULT_CAMPAIGN);
    expect(campaign.locales.fa.brand).toBeTruthy();
    expect(campaign.hours[0].days).toEqual(['sat', 'sun', 'mon', 'tue', 'wed']);
  });

  it('accepts the documented example, with its logo and badges', () => {
    const campaign = loadCampaign(path.resolve(here, '..', '..', 'campaign.example.json'), path.resolve(here, '..', '..', 'assets.example'));
    expect(campaign.logo.file).toMatch(/assets\.example\/logo\.svg$/);
    expect(campaign.badges.map((b) => new URL(b.url).host)).toEqual(['trustseal.enamad.ir', 'logo.samandehi.ir']);
  });

  it.each([
    ['locales.fa.headline must be non-empty text', (d) => delete d.locales.fa.headline],
    ['locales.en.benefits.1.icon must be one of', (d) => (d.locales.en.benefits[1].icon = 'rocket')],
    ['hours.0.open must be a time like 09:00', (d) => (d.hours[0].open = '9')],
    ['hours.1.close must be later than hours.1.open', (d) => (d.hours[1].close = '08:00')],
    ['hours.0.days must list days among', (d) => (d.hours[0].days = ['saturday'])],
    ['phone.tel must be an E.164 number', (d) => (d.phone.tel = '021 9100')],
    ['privacy_url must be an https:// address or a /path', (d) => (d.privacy_url = 'javascript:alert(1)')],
    ['badges.0.alt.en must be non-empty text', (d) => (d.badges = [{ image: 'https://trustseal.enamad.ir/logo.aspx?id=1', link: 'https://trustseal.enamad.ir/', width: 90, height: 90, alt: { fa: 'نماد' } }])],
    ['logo.src names a file that does not exist', (d) => (d.logo = { src: 'nope.svg', width: 32, height: 32 })],
    ['headline is not a campaign field', (d) => (d.headline = 'at the wrong level')],
    ['locales.de is not a supported language', (d) => (d.locales.de = d.locales.en)],
  ])('names the field: %s', (message, change) => {
    const data = fresh();
    change(data);
    expect(() => check(data)).toThrow(message);
  });

  it('stops the build with one line naming the file and the field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'campaign-'));
    const file = path.join(dir, 'campaign.json');
    const data = fresh();
    data.locales.fa.cta = '';
    writeFileSync(file, JSON.stringify(data));
    const run = spawnSync(process.execPath, [path.join(here, 'font.mjs')], {
      env: { ...process.env, LEADCAP_CAMPAIGN_FILE: file },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`campaign: ${file}: locales.fa.cta must be non-empty text`);
  });
});
