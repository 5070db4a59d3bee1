/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { campaignPath, loadCampaign } from './scripts/campaign.mjs';

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const VIRTUAL = 'virtual:campaign';
const RESOLVED = `\0${VIRTUAL}`;

/**
 * `import { campaign } from 'virtual:campaign'`: the campaign file (LEADCAP_CAMPAIGN_FILE, else
 * ../campaign.default.json), validated by scripts/campaign.mjs. Local images (logo, badges) are
 * imported, so they become hashed files under /assets/ like everything else.
 */
function campaignModule(): Plugin {
  return {
    name: 'leadcap-campaign',
    resolveId(id) {
      return id === VIRTUAL ? RESOLVED : null;
    },
    load(id) {
      if (id !== RESOLVED) return null;
      const file = campaignPath();
      this.addWatchFile(file);
      const c = loadCampaign(file);
      const imports: string[] = [];
      const image = (path: string) => {
        imports.push(`import img${imports.length} from ${JSON.stringify(`${path}?url`)};`);
        return `img${imports.length - 1}`;
      };
      const logo = c.logo ? `{ src: ${c.logo.file ? image(c.logo.file) : JSON.stringify(c.logo.url)}, width: ${c.logo.width}, height: ${c.logo.height} }` : 'null';
      const badges = c.badges.map(
        (b: { file?: string; url?: string; link: string; width: number; height: number; alt: object }) =>
          `{ src: ${b.file ? image(b.file) : JSON.stringify(b.url)}, link: ${JSON.stringify(b.link)}, width: ${b.width}, height: ${b.height}, alt: ${JSON.stringify(b.alt)} }`,
      );
      return [
        ...imports,
        `export const campaign = { phone: ${JSON.stringify(c.phone)}, privacyUrl: ${JSON.stringify(c.privacyUrl)},`,
        `  hours: ${JSON.stringify(c.hours)}, logo: ${logo}, badges: [${badges.join(', ')}],`,
        `  locales: ${JSON.stringify(c.locales)} };`,
      ].join('\n');
    },
  };
}

/** `npm run dev` only: fills index.html's placeholders in the dev locale (LEADCAP_LOCALE, default fa),
 *  the campaign's JSON among them.
 *  The build leaves them for scripts/prerender.mjs, which writes one page per locale. */
function devHead(): Plugin {
  return {
    name: 'leadcap-dev-head',
    apply: 'serve',
    transformIndexHtml(html) {
      const lang = process.env.LEADCAP_LOCALE === 'en' ? 'en' : 'fa';
      const campaign = loadCampaign();
      const c = campaign.locales[lang] as { title: string; description: string };
      // The page's campaign data (leadcap fills it at run time): local images through Vite's /@fs/.
      const src = (image: { file?: string; url?: string }) => image.url ?? `/@fs${image.file}`;
      const data = {
        phone: campaign.phone,
        privacyUrl: campaign.privacyUrl,
        hours: campaign.hours,
        logo: campaign.logo && { src: src(campaign.logo), width: campaign.logo.width, height: campaign.logo.height },
        badges: campaign.badges.map((b) => ({ src: src(b), link: b.link, width: b.width, height: b.height, alt: b.alt })),
        locales: campaign.locales,
      };
      return html
        .replace('__APP_DATA__', JSON.stringify(data).replace(/</g, '\\u003c'))
        .replace('__APP_LANG__', lang)
        .replace('__APP_DIR__', lang === 'fa' ? 'rtl' : 'ltr')
        .replace('<!--app-title-->', escapeHtml(c.title))
        .replace('<!--app-description-->', escapeHtml(c.description));
    },
  };
}

// Where `npm run dev` forwards /api/* (the Python backend, `leadcap serve`).
const devApi = process.env.LEADCAP_DEV_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react(), campaignModule(), devHead()],
  server: {
    proxy: {
      '/api': { target: devApi, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    // Vite's modulepreload polyfill is only needed by very old browsers; keep the bundle lean.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs into JS/CSS; keep everything a hashed file under /assets/.
    assetsInlineLimit: 0,
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.{ts,tsx}', 'scripts/**/*.test.mjs'],
  },
});
