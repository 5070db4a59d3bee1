import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { App } from './App';
import { CopyProvider, copyFor, LOCALES, type Locale } from './copy';

export { LOCALES };

/** Markup for #root and the head's words in `locale`, rendered once at build time by scripts/prerender.mjs. */
export function render(locale: Locale): { html: string; lang: string; dir: string; title: string; description: string } {
  const copy = copyFor(locale);
  const html = renderToString(
    <StrictMode>
      <CopyProvider value={copy}>
        <App />
      </CopyProvider>
    </StrictMode>,
  );
  return { html, lang: copy.locale.lang, dir: copy.locale.dir, title: copy.meta.title, description: copy.meta.description };
}
