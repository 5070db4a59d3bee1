/** @type {import('tailwindcss').Config} */
export default {
  content: ['./index.html', './src/**/*.{ts,tsx}'],
  theme: {
    extend: {
      fontFamily: {
        // The English page uses system fonts only. The Persian page sets Vazirmatn (self-hosted,
        // subset, preloaded) in src/index.css. Vazirmatn is deliberately not in this stack: where
        // none of the fonts before it exists (a bare Linux box), the English page would fetch the
        // Persian subset late, un-preloaded, and swap its spaces, digits and punctuation to it.
        sans: [
          'Inter',
          'ui-sans-serif',
          'system-ui',
          '-apple-system',
          'Segoe UI',
          'Roboto',
          'Tahoma',
          'Helvetica Neue',
          'Arial',
          'sans-serif',
        ],
      },
    },
  },
  plugins: [],
};
