import { StrictMode } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { App } from './App';
import { CopyProvider, copyFor, documentCampaign, documentLocale } from './copy';
import './index.css';

const container = document.getElementById('root');
if (!container) throw new Error('leadcap: #root is missing from index.html');

// The page was rendered in one locale (its <html lang>) from the campaign it carries as JSON
// (filled in by leadcap at run time); hydrate with the same copy.
const app = (
  <StrictMode>
    <CopyProvider value={copyFor(documentLocale(), documentCampaign())}>
      <App />
    </CopyProvider>
  </StrictMode>
);

// The production build pre-renders <App /> into #root (scripts/prerender.mjs); `npm run dev` does not.
if (container.firstElementChild) {
  hydrateRoot(container, app);
} else {
  createRoot(container).render(app);
}
