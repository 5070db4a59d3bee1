import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { campaign as demo, type Campaign } from 'virtual:campaign';
import { App } from './App';
import { CopyProvider, copyFor, LOCALES, slot, type Copy, type Locale } from './copy';

export { LOCALES };

type Rendered = { html: string; lang: string; dir: string; title: string; description: string; data: string };

function renderCopy(copy: Copy, data: string): Rendered {
  const html = renderToString(
    <StrictMode>
      <CopyProvider value={copy}>
        <App />
      </CopyProvider>
    </StrictMode>,
  );
  return { html, lang: copy.locale.lang, dir: copy.locale.dir, title: copy.meta.title, description: copy.meta.description, data };
}

/** What the page's script hydrates from, for one language: the same shape as
 *  leadcap/landing/template.py's page_data, so that a page filled there is this page. */
export function pageData(campaign: Campaign, lang: Locale): Campaign {
  return {
    phone: campaign.phone,
    privacyUrl: campaign.privacyUrl,
    hours: campaign.hours,
    logo: campaign.logo,
    badges: campaign.badges.map((b) => ({ src: b.src, link: b.link, width: b.width, height: b.height, alt: { [lang]: b.alt[lang] } as Record<Locale, string> })),
    locales: { [lang]: campaign.locales[lang] } as Campaign['locales'],
  };
}

/** JSON safe inside <script type="application/json"> (as template.py's script_json writes it). */
export const scriptJson = (data: unknown) =>
  JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** The page in `locale` for the build's campaign (the demo unless LEADCAP_CAMPAIGN_FILE is set). */
export function render(locale: Locale): Rendered {
  return renderCopy(copyFor(locale, demo), scriptJson(pageData(demo, locale)));
}

/** The run-time template in `locale`: slots in place of the campaign's copy, every choice with
 *  both branches and every list with one item (leadcap/landing/template.py fills it). */
export function renderTemplate(locale: Locale): Rendered {
  const number = (name: string) => slot(name) as unknown as number;
  const words = Object.fromEntries(
    ['brand', 'title', 'description', 'eyebrow', 'headline', 'supporting', 'cta', 'company', 'address'].map((k) => [k, slot(k)]),
  );
  const slots: Campaign = {
    phone: { tel: slot('phone.tel'), display: slot('phone.display') },
    privacyUrl: slot('privacy_url'),
    hours: [],
    logo: { src: slot('logo.src'), width: number('logo.width'), height: number('logo.height') },
    badges: [{ src: slot('badge.src'), link: slot('badge.link'), width: number('badge.width'), height: number('badge.height'), alt: { fa: slot('badge.alt'), en: slot('badge.alt') } }],
    locales: {
      [locale]: {
        ...words,
        benefits: [{ icon: 'clock', title: slot('benefit.title'), text: slot('benefit.text') }],
        consent: slot('consent.text'),
      },
    } as unknown as Campaign['locales'],
  };
  const copy = copyFor(locale, slots);
  const template: Copy = { ...copy, template: true, footer: { ...copy.footer, hoursLines: [slot('hours')] } };
  return renderCopy(template, slot('campaign.json'));
}
