/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the leadcap API when it is not the page's own (e.g. https://api.example.com). Empty: same origin. */
  readonly VITE_API_BASE_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
