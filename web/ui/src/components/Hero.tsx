import { Award, BadgeCheck, Clock, Headset, Phone, ShieldCheck, Sparkles, Star, type LucideIcon } from 'lucide-react';
import type { BenefitIcon } from 'virtual:campaign';
import { slot, useCopy } from '../copy';

const icons: Record<BenefitIcon, LucideIcon> = {
  clock: Clock,
  shield: ShieldCheck,
  sparkles: Sparkles,
  phone: Phone,
  star: Star,
  award: Award,
  headset: Headset,
  'badge-check': BadgeCheck,
};

/** Eyebrow, headline and the one supporting line. */
export function HeroIntro({ className = '' }: { className?: string }) {
  const { hero } = useCopy();
  return (
    <div className={className}>
      <p className="inline-flex items-center gap-2 rounded-full bg-white/70 px-3 py-1 text-sm font-medium text-indigo-700 ring-1 ring-inset ring-indigo-200 backdrop-blur">
        <span className="h-1.5 w-1.5 rounded-full bg-emerald-500" aria-hidden="true" />
        {hero.eyebrow}
      </p>
      <h1 className="mt-5 text-balance text-4xl font-bold tracking-tight text-slate-900 sm:text-5xl lg:text-6xl">
        {hero.headline}
      </h1>
      <p className="mt-5 max-w-xl text-pretty text-lg leading-relaxed text-slate-600 sm:text-xl sm:leading-relaxed">
        {hero.supporting}
      </p>
    </div>
  );
}

/** The three benefit points. */
export function Benefits({ className = '' }: { className?: string }) {
  const { hero, template } = useCopy();
  const items = hero.benefits.map((benefit) => {
        return (
          <li key={benefit.title} className="flex gap-4">
            <span className="flex h-10 w-10 flex-none items-center justify-center rounded-xl bg-indigo-600/10 text-indigo-700 ring-1 ring-inset ring-indigo-600/20">
              {template ? iconChoice() : icon(benefit.icon)}
            </span>
            <span>
              <span className="block font-semibold text-slate-900">{benefit.title}</span>
              <span className="mt-0.5 block text-slate-600">{benefit.text}</span>
            </span>
          </li>
        );
  });
  return (
    <ul className={`space-y-5 ${className}`} aria-label={hero.benefitsLabel}>
      {template ? (
        <>
          {slot('each:benefits')}
          {items}
          {slot('/each:benefits')}
        </>
      ) : (
        items
      )}
    </ul>
  );
}

const icon = (name: BenefitIcon) => {
  const Icon = icons[name];
  return <Icon key={name} className="h-5 w-5" aria-hidden="true" strokeWidth={2} />;
};

/** The template's icon: every icon, each in its own `if`, one text node between two icons (the
 *  closing marker and the next opening one), so React separates no texts with comments. */
function iconChoice() {
  const names = Object.keys(icons) as BenefitIcon[];
  return names.flatMap((name, i) => [
    `${i ? slot(`/if:benefit.icon=${names[i - 1]}`) : ''}${slot(`if:benefit.icon=${name}`)}`,
    icon(name),
    ...(i === names.length - 1 ? [slot(`/if:benefit.icon=${name}`)] : []),
  ]);
}
