/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { copy } from './src/copy';

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Fills index.html's <html lang/dir>, <title> and description from src/copy.ts (dev and build). */
function headFromCopy(): Plugin {
  return {
    name: 'leadcap-head-from-copy',
    transformIndexHtml(html) {
      return html
        .replace('__APP_LANG__', escapeHtml(copy.locale.lang))
        .replace('__APP_DIR__', escapeHtml(copy.locale.dir))
        .replace('<!--app-title-->', escapeHtml(copy.meta.title))
        .replace('<!--app-description-->', escapeHtml(copy.meta.description));
    },
  };
}

// Where `npm run dev` forwards /api/* (the Python backend, `leadcap serve`).
const devApi = process.env.LEADCAP_DEV_API ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react(), headFromCopy()],
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
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
