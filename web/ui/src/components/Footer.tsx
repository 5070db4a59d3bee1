import type { ReactNode } from 'react';
import { Clock, Phone } from 'lucide-react';
import { slot, useCopy } from '../copy';

/** Trust cues: business hours, the legal company name and address, a phone, the privacy policy, seals. */
export function Footer() {
  const { footer, template } = useCopy();
  const badges = footer.badges.map((badge) => (
    <li key={badge.link}>
      <a href={badge.link} target="_blank" rel="noopener" referrerPolicy="origin" className="block rounded focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600">
        <img src={badge.src} width={badge.width} height={badge.height} alt={badge.alt} referrerPolicy="origin" loading="lazy" />
      </a>
    </li>
  ));
  const badgeList = (children: ReactNode) => (
    <ul className="flex flex-wrap items-center gap-3" aria-label={footer.badgesLabel}>
      {children}
    </ul>
  );
  return (
    <footer className="mx-auto w-full max-w-6xl px-5 pb-8 text-sm text-slate-600 sm:px-8">
      <div className="flex flex-col gap-4 border-t border-slate-200 pt-6 md:flex-row md:items-start md:justify-between">
        <div className="space-y-1.5">
          <p className="flex items-start gap-1.5">
            <Clock className="mt-0.5 h-4 w-4 flex-none" aria-hidden="true" />
            <span>
              <span className="font-medium text-slate-900">{footer.hours}: </span>
              {footer.hoursLines.join(' · ')}
            </span>
          </p>
          <p className="flex items-center gap-1.5">
            <Phone className="h-4 w-4 flex-none" aria-hidden="true" />
            <span className="font-medium text-slate-900">{footer.phone}: </span>
            <a href={`tel:${footer.phoneTel}`} dir="ltr" className="rounded text-indigo-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600">
              {footer.phoneDisplay}
            </a>
          </p>
          <p>
            {footer.company}
            <span aria-hidden="true"> · </span>
            {footer.address}
          </p>
          <p>
            <a href={footer.privacyUrl} className="rounded font-medium text-indigo-700 underline underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600">
              {footer.privacy}
            </a>
          </p>
        </div>
        {template ? (
          <>
            {slot('if:badges')}
            {badgeList(
              <>
                {slot('each:badges')}
                {badges}
                {slot('/each:badges')}
              </>,
            )}
            {slot('/if:badges')}
          </>
        ) : (
          footer.badges.length > 0 && badgeList(badges)
        )}
      </div>
    </footer>
  );
}
