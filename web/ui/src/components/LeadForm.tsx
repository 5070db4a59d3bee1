import {
  useCallback,
  useEffect,
  useId,
  useRef,
  useState,
  useSyncExternalStore,
  type FormEvent,
  type RefObject,
} from 'react';
import { flushSync } from 'react-dom';
import { ArrowRight, CircleAlert, CircleCheck, Lock, LoaderCircle, Phone } from 'lucide-react';
import { slot, useCopy } from '../copy';
import { formatE164, isPossiblePrefix, normalisePhone, pageRegion } from '../phone';
import { submitLead, utmFromSearch, type LeadOutcome, type Verification } from '../api';
import { CodeStep } from './CodeStep';

type Status =
  | { kind: 'idle' }
  | { kind: 'pending' }
  | { kind: 'error'; message: string; field?: 'phone' | 'consent' }
  | { kind: 'success'; phone: string; duplicate: boolean; verification?: Verification | null };

export type LeadFormProps = {
  /** Injected in tests; defaults to the real network call. */
  send?: typeof submitLead;
};

// `?submitted=1` means the no-JS form was accepted and the server redirected here. Read through
// useSyncExternalStore so that hydration sees the server's answer (false) and the thank-you state
// follows right after, without a hydration mismatch.
const subscribeNothing = () => () => {};
const readSubmittedFlag = () => new URLSearchParams(window.location.search).get('submitted') === '1';
const serverSubmittedFlag = () => false;

export function LeadForm({ send = submitLead }: LeadFormProps) {
  const copy = useCopy();
  const region = pageRegion();
  const ids = useId();
  const inputId = `${ids}-phone`;
  const messageId = `${ids}-phone-message`;
  const consentId = `${ids}-consent`;
  const consentMessageId = `${ids}-consent-message`;

  const [phone, setPhone] = useState('');
  const [touched, setTouched] = useState(false);
  const [submitAttempted, setSubmitAttempted] = useState(false);
  const [status, setStatus] = useState<Status>({ kind: 'idle' });
  const [agreed, setAgreed] = useState(false);
  const [consentMissing, setConsentMissing] = useState(false);
  const [redirectDismissed, setRedirectDismissed] = useState(false);
  const submittedViaRedirect = useSyncExternalStore(subscribeNothing, readSubmittedFlag, serverSubmittedFlag);

  const inFlight = useRef(false);
  const cardRef = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const consentRef = useRef<HTMLInputElement>(null);
  const honeypotRef = useRef<HTMLInputElement>(null);
  const successHeadingRef = useRef<HTMLHeadingElement>(null);

  // Marks the card as interactive (used by the browser test) once React owns it.
  useEffect(() => {
    cardRef.current?.setAttribute('data-hydrated', 'true');
  }, []);

  const showSuccess = status.kind === 'success' || (submittedViaRedirect && !redirectDismissed && status.kind === 'idle');

  useEffect(() => {
    if (status.kind === 'success') successHeadingRef.current?.focus();
  }, [status.kind]);

  // With JavaScript our own validation replaces the browser's (the `required` attribute stays for no-JS).
  const formRef = useCallback((form: HTMLFormElement | null) => {
    if (form) form.setAttribute('novalidate', '');
  }, []);

  const pending = status.kind === 'pending';
  const result = normalisePhone(phone, region);
  const fieldServerError = status.kind === 'error' && status.field === 'phone' ? status.message : null;
  const consentServerError = status.kind === 'error' && status.field === 'consent' ? status.message : null;
  const formError = status.kind === 'error' && !status.field ? status.message : null;
  const consentError = consentServerError ?? (consentMissing ? copy.errors.consent_required : null);

  let fieldMessage: { tone: 'hint' | 'ok' | 'error'; text: string; number?: string };
  if (fieldServerError) {
    fieldMessage = { tone: 'error', text: fieldServerError };
  } else if (result.ok && result.e164 !== null) {
    fieldMessage = { tone: 'ok', text: copy.form.valid, number: copy.digits(formatE164(result.e164)) };
  } else if (result.ok) {
    fieldMessage = { tone: 'hint', text: copy.form.hint }; // another region: the server judges the number
  } else if (submitAttempted || (touched && phone.trim() !== '') || !isPossiblePrefix(phone, region)) {
    fieldMessage = { tone: 'error', text: copy.errors[result.code] };
  } else {
    fieldMessage = { tone: 'hint', text: copy.form.hint };
  }
  const invalid = fieldMessage.tone === 'error';

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (inFlight.current) return; // a double click never sends twice

    const typed = inputRef.current?.value ?? phone;
    const check = normalisePhone(typed, region);
    if (!check.ok) {
      setPhone(typed);
      setSubmitAttempted(true);
      setStatus({ kind: 'idle' });
      inputRef.current?.focus();
      return;
    }
    // The campaign asks for consent: not sent until the box is ticked (the server refuses it too).
    const ticked = consentRef.current?.checked ?? agreed;
    if (copy.consent && !ticked) {
      setPhone(typed);
      setConsentMissing(true);
      setStatus({ kind: 'idle' });
      consentRef.current?.focus();
      return;
    }

    inFlight.current = true;
    // Commit the pending state synchronously, so it is painted in the same frame as the click.
    flushSync(() => {
      setPhone(typed);
      setStatus({ kind: 'pending' });
    });

    const website = honeypotRef.current?.value ?? '';
    send(
      {
        phone: typed.trim(),
        source: 'hero',
        utm: utmFromSearch(window.location.search),
        ...(website ? { website } : {}),
        ...(copy.consent ? { consent: true as const } : {}),
      },
      copy,
    )
      .catch((): LeadOutcome => ({ kind: 'error', message: copy.status.network }))
      .then((outcome) => {
        inFlight.current = false;
        if (outcome.kind === 'success') {
          setStatus({
            kind: 'success',
            phone: outcome.phone,
            duplicate: outcome.duplicate,
            verification: outcome.verification,
          });
        } else {
          setStatus({ kind: 'error', message: outcome.message, field: outcome.field });
          if (outcome.field === 'phone') inputRef.current?.focus();
          if (outcome.field === 'consent') consentRef.current?.focus();
        }
      });
  }

  function startOver() {
    setStatus({ kind: 'idle' });
    setPhone('');
    setTouched(false);
    setSubmitAttempted(false);
    setRedirectDismissed(true);
    if (submittedViaRedirect) {
      const url = new URL(window.location.href);
      url.searchParams.delete('submitted');
      window.history.replaceState(null, '', url);
    }
    requestAnimationFrame(() => inputRef.current?.focus());
  }

  // The campaign's consent: a real checkbox with its text as the label (click or Space ticks it),
  // its error tied to it by aria-describedby. Its place is in the template, so it never moves the page.
  const consentBox = (
    <div className="mb-3 mt-1">
      <div className="flex items-start gap-2.5">
        <input
          ref={consentRef}
          id={consentId}
          name="consent"
          type="checkbox"
          value="1"
          required
          checked={agreed}
          aria-invalid={consentError !== null}
          aria-describedby={consentMessageId}
          onChange={(e) => {
            setAgreed(e.currentTarget.checked);
            setConsentMissing(false);
            if (status.kind === 'error' && status.field === 'consent') setStatus({ kind: 'idle' });
          }}
          className="mt-1 h-5 w-5 flex-none rounded border-slate-300 text-indigo-600 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 focus-visible:ring-offset-2"
        />
        <label htmlFor={consentId} className="text-sm leading-6 text-slate-700">
          {copy.consent ?? ''}
        </label>
      </div>
      <p id={consentMessageId} aria-live="polite" className="mt-1 min-h-5 text-sm text-rose-700">
        {consentError}
      </p>
    </div>
  );

  return (
    <div
      ref={cardRef}
      className="relative w-full rounded-3xl bg-white/90 p-6 shadow-2xl shadow-indigo-900/10 ring-1 ring-slate-900/5 backdrop-blur sm:p-8"
    >
      {status.kind === 'success' && status.verification ? (
        // LEADCAP_VERIFY=sms and the code went out: the code step takes the card's place.
        <CodeStep verification={status.verification} phone={status.phone} onStartOver={startOver} />
      ) : showSuccess ? (
        <SuccessView
          copy={copy}
          headingRef={successHeadingRef}
          status={status.kind === 'success' ? status : null}
          onStartOver={startOver}
        />
      ) : (
        <form
          ref={formRef}
          method="post"
          action="/api/leads/"
          aria-labelledby={`${ids}-title`}
          data-state={status.kind}
          onSubmit={handleSubmit}
        >
          <h2 id={`${ids}-title`} className="text-xl font-semibold tracking-tight text-slate-900 sm:text-2xl">
            {copy.form.title}
          </h2>
          <p className="mt-1.5 text-slate-600">{copy.form.subtitle}</p>

          <label htmlFor={inputId} className="mt-6 block text-sm font-medium text-slate-900">
            {copy.form.label}
          </label>
          <div className="relative mt-2">
            <span className="pointer-events-none absolute inset-y-0 start-0 flex items-center ps-4 text-slate-500">
              <Phone className="h-5 w-5" aria-hidden="true" />
            </span>
            {/* A phone number is always written left to right (dir="ltr"), so the input's own logical
                padding is physical; the rtl: classes keep the room on the icon's side in RTL pages. */}
            <input
              ref={inputRef}
              id={inputId}
              name="phone"
              type="tel"
              inputMode="tel"
              autoComplete="tel"
              dir="ltr"
              required
              placeholder={copy.form.placeholder}
              aria-invalid={invalid}
              aria-describedby={messageId}
              onChange={(e) => {
                setPhone(e.currentTarget.value);
                if (status.kind === 'error') setStatus({ kind: 'idle' });
              }}
              onBlur={(e) => {
                setPhone(e.currentTarget.value);
                setTouched(true);
              }}
              className={`block h-14 w-full rounded-xl border-0 bg-white pe-4 ps-12 text-start text-lg rtl:pe-12 rtl:ps-4 rtl:text-end tracking-wide text-slate-900 shadow-sm ring-1 ring-inset transition placeholder:text-slate-500 focus:outline-none focus:ring-2 focus:ring-inset ${
                invalid ? 'ring-rose-400 focus:ring-rose-600' : 'ring-slate-300 focus:ring-indigo-600'
              }`}
            />
          </div>
          <p
            id={messageId}
            aria-live="polite"
            className={`mt-2 flex min-h-10 items-start gap-1.5 text-sm ${
              fieldMessage.tone === 'error' ? 'text-rose-700' : fieldMessage.tone === 'ok' ? 'text-emerald-700' : 'text-slate-600'
            }`}
          >
            {fieldMessage.tone === 'error' && <CircleAlert className="mt-0.5 h-4 w-4 flex-none" aria-hidden="true" />}
            {fieldMessage.tone === 'ok' && <CircleCheck className="mt-0.5 h-4 w-4 flex-none" aria-hidden="true" />}
            <span>
              {fieldMessage.text}
              {fieldMessage.number && (
                <>
                  {' '}
                  <bdi dir="ltr" className="whitespace-nowrap font-medium">
                    {fieldMessage.number}
                  </bdi>
                </>
              )}
            </span>
          </p>

          {copy.template ? (
            <>
              {slot('if:consent')}
              {consentBox}
              {slot('/if:consent')}
            </>
          ) : (
            copy.consent && consentBox
          )}

          {/* Honeypot: invisible to people and assistive tech; bots that fill it are dropped server-side. */}
          <div className="sr-only" aria-hidden="true">
            <label htmlFor={`${ids}-website`}>{copy.form.honeypotLabel}</label>
            <input ref={honeypotRef} id={`${ids}-website`} type="text" name="website" tabIndex={-1} autoComplete="off" />
          </div>
          <input type="hidden" name="source" value="hero" />

          <button
            type="submit"
            disabled={pending}
            aria-busy={pending}
            className="group mt-2 inline-flex h-14 w-full items-center justify-center gap-2 rounded-xl bg-indigo-600 px-6 text-lg font-semibold text-white shadow-lg shadow-indigo-600/25 transition hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 focus-visible:ring-offset-2 active:bg-indigo-800 disabled:cursor-wait disabled:bg-indigo-700"
          >
            {pending ? (
              <>
                <LoaderCircle className="h-5 w-5 animate-spin" aria-hidden="true" />
                {copy.form.pending}
              </>
            ) : (
              <>
                {copy.form.submit}
                <ArrowRight
                  className="h-5 w-5 transition-transform group-hover:translate-x-0.5 rtl:-scale-x-100 rtl:group-hover:-translate-x-0.5"
                  aria-hidden="true"
                />
              </>
            )}
          </button>

          <div role="alert">
            {formError && (
              <p className="mt-4 flex items-start gap-2 rounded-xl bg-rose-50 p-3 text-sm text-rose-800 ring-1 ring-inset ring-rose-200">
                <CircleAlert className="mt-0.5 h-4 w-4 flex-none" aria-hidden="true" />
                <span>{formError}</span>
              </p>
            )}
          </div>

          <p className="mt-5 flex items-center justify-center gap-1.5 text-sm text-slate-600">
            <Lock className="h-3.5 w-3.5" aria-hidden="true" />
            {copy.form.privacy}
          </p>
        </form>
      )}
    </div>
  );
}

type SuccessViewProps = {
  copy: ReturnType<typeof useCopy>;
  headingRef: RefObject<HTMLHeadingElement>;
  status: { phone: string; duplicate: boolean } | null;
  onStartOver: () => void;
};

function SuccessView({ copy, headingRef, status, onStartOver }: SuccessViewProps) {
  const phone = status ? copy.digits(formatE164(status.phone)) : null;
  const title = status?.duplicate ? copy.success.duplicateTitle : copy.success.title;
  const body = status ? (status.duplicate ? copy.success.duplicateBody : copy.success.body) : copy.success.redirectBody;
  return (
    <div className="py-4 text-center" role="status" data-state="success">
      <span className="mx-auto flex h-14 w-14 items-center justify-center rounded-full bg-emerald-50 text-emerald-600 ring-1 ring-inset ring-emerald-200">
        <CircleCheck className="h-7 w-7" aria-hidden="true" />
      </span>
      <h2
        ref={headingRef}
        tabIndex={-1}
        className="mt-5 text-2xl font-semibold tracking-tight text-slate-900 focus:outline-none"
      >
        {title}
      </h2>
      <p className="mt-2 text-slate-600">{body}</p>
      {phone && (
        <p className="mt-4 inline-block rounded-xl bg-slate-50 px-4 py-2 text-xl font-semibold tabular-nums tracking-wide text-slate-900 ring-1 ring-inset ring-slate-200" dir="ltr">
          {phone}
        </p>
      )}
      <p className="mt-4 text-slate-700" data-testid="next-step">{copy.success.next}</p>
      <div className="mt-6">
        <button
          type="button"
          onClick={onStartOver}
          className="rounded-lg px-3 py-2 text-sm font-semibold text-indigo-700 hover:bg-indigo-50 hover:text-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600"
        >
          {copy.success.again}
        </button>
      </div>
    </div>
  );
}
