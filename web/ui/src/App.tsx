import { PhoneCall } from 'lucide-react';
import { slot, useCopy, type Copy } from './copy';
import { Benefits, HeroIntro } from './components/Hero';
import { LeadForm } from './components/LeadForm';
import { Footer } from './components/Footer';

const logoImage = (logo: Copy['logo']) =>
  logo && <img src={logo.src} width={logo.width} height={logo.height} alt="" className="h-8 w-auto" />;

const logoIcon = (
  <span className="flex h-8 w-8 items-center justify-center rounded-lg bg-indigo-600 text-white shadow-sm shadow-indigo-600/30">
    <PhoneCall className="h-4 w-4" aria-hidden="true" strokeWidth={2.25} />
  </span>
);

export function App() {
  const copy = useCopy();
  return (
    <div className="relative isolate flex min-h-screen flex-col overflow-hidden">
      {/* Decorative background: a soft gradient and two blurred glows (classes only, no inline style). */}
      <div aria-hidden="true" className="pointer-events-none absolute inset-0 -z-10 bg-gradient-to-b from-indigo-50 via-white to-sky-50" />
      <div
        aria-hidden="true"
        className="pointer-events-none absolute -top-40 start-1/2 -z-10 h-[36rem] w-[36rem] -translate-x-1/2 rounded-full bg-gradient-to-tr from-indigo-300/40 to-sky-200/40 blur-3xl rtl:translate-x-1/2 lg:start-[30%]"
      />
      <div
        aria-hidden="true"
        className="pointer-events-none absolute -bottom-40 end-[-10rem] -z-10 h-[28rem] w-[28rem] rounded-full bg-gradient-to-tr from-violet-200/50 to-indigo-100/40 blur-3xl"
      />

      <header className="mx-auto w-full max-w-6xl px-5 pt-6 sm:px-8 sm:pt-8">
        <a
          href="/"
          className="inline-flex items-center gap-2 rounded-lg text-lg font-semibold tracking-tight text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 focus-visible:ring-offset-4"
        >
          {copy.template ? (
            <>
              {slot('if:logo')}
              {logoImage(copy.logo)}
              {slot('else:logo')}
              {logoIcon}
              {slot('/if:logo')}
            </>
          ) : copy.logo ? (
            logoImage(copy.logo)
          ) : (
            logoIcon
          )}
          <span>{copy.brand}</span>
        </a>
      </header>

      {/* Source order (headline, form, benefits) is the mobile and reading order; on wide screens
          the form moves to its own column beside the headline and benefits. */}
      <main className="mx-auto grid w-full max-w-6xl flex-1 content-center gap-10 px-5 py-10 sm:px-8 sm:py-14 lg:grid-cols-[minmax(0,1fr)_26rem] lg:gap-x-16 lg:py-16">
        <HeroIntro className="lg:col-start-1 lg:row-start-1 lg:self-end" />
        <div className="lg:col-start-2 lg:row-span-2 lg:row-start-1 lg:self-center">
          <LeadForm />
        </div>
        <Benefits className="lg:col-start-1 lg:row-start-2 lg:self-start" />
      </main>

      <Footer />
    </div>
  );
}
