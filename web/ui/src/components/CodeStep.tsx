import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { flushSync } from 'react-dom';
import { CircleAlert, CircleCheck, LoaderCircle, MessageSquareText, RotateCw } from 'lucide-react';
import { useCopy } from '../copy';
import { formatE164 } from '../phone';
import { CODE_LENGTH, clock, readCode, resendCode, verifyCode, type Verification } from '../verify';
import { verifyWords } from '../verify-copy';

type Step =
  | { kind: 'idle'; note?: string }
  | { kind: 'pending' }
  | { kind: 'error'; message: string }
  | { kind: 'expired'; message: string }
  | { kind: 'verified' };

export type CodeStepProps = {
  verification: Verification;
  phone: string;
  onStartOver: () => void;
  /** Injected in tests; default to the real network calls. */
  verify?: typeof verifyCode;
  resend?: typeof resendCode;
};

/**
 * After a 202 with `verification_sent`: the code field (numeric keyboard, one-time-code autofill,
 * Persian digits read as ASCII), a countdown to resend, and the server's sentence for a wrong,
 * expired or dead code. A full code submits itself; the pending state paints in the same frame.
 * Every request carries the token of that first 202 (`verification.token`).
 *
 * The field and its message always agree: a wrong code empties the field (the next digits start a
 * new code, and autofill lands in an empty field) and the server's sentence says why it is empty
 * until something is typed; a tap on the button meanwhile keeps that sentence rather than asking
 * for five digits.
 */
export function CodeStep({ verification, phone, onStartOver, verify = verifyCode, resend = resendCode }: CodeStepProps) {
  const copy = useCopy();
  const lang = copy.locale.lang;
  const words = verifyWords(lang);
  const ids = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const inFlight = useRef(false);

  const [code, setCode] = useState('');
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [timers, setTimers] = useState(() => {
    const start = Date.now();
    return { expiresAt: start + verification.expiresIn * 1000, resendAt: start + verification.resendIn * 1000 };
  });
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(tick);
  }, []);

  useEffect(() => {
    if (step.kind === 'verified') headingRef.current?.focus();
    else inputRef.current?.focus();
  }, [step.kind]);

  const expiresIn = Math.max(0, (timers.expiresAt - now) / 1000);
  const resendIn = Math.max(0, (timers.resendAt - now) / 1000);
  const pending = step.kind === 'pending';

  function check(typed: string) {
    if (inFlight.current) return;
    const digits = readCode(typed);
    if (digits.length === 0 && step.kind === 'error') {
      inputRef.current?.focus(); // the message already says why the field is empty
      return;
    }
    if (digits.length !== CODE_LENGTH) {
      setStep({ kind: 'error', message: words.tooShort });
      return;
    }
    inFlight.current = true;
    flushSync(() => setStep({ kind: 'pending' }));
    verify(verification.id, verification.token, digits, lang)
      .catch(() => ({ kind: 'error' as const, message: null, retryAfter: null }))
      .then((outcome) => {
        inFlight.current = false;
        if (outcome.kind === 'verified') {
          setStep({ kind: 'verified' });
        } else if (outcome.kind === 'expired' || outcome.kind === 'dead') {
          setTimers((t) => ({ ...t, expiresAt: Date.now() }));
          setStep({ kind: 'expired', message: outcome.message || words.expired });
        } else if (outcome.kind === 'wrong') {
          setCode('');
          setStep({ kind: 'error', message: outcome.message });
        } else {
          setStep({ kind: 'error', message: outcome.message ?? words.network });
        }
      });
  }

  function handleSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    check(inputRef.current?.value ?? code);
  }

  function handleResend() {
    if (inFlight.current || resendIn > 0) return;
    inFlight.current = true;
    flushSync(() => setStep({ kind: 'pending' }));
    resend(verification.id, verification.token, lang)
      .catch(() => ({ kind: 'error' as const, message: null }))
      .then((outcome) => {
        inFlight.current = false;
        setCode('');
        if (outcome.kind === 'sent') {
          const start = Date.now();
          setTimers({
            expiresAt: start + outcome.timers.expiresIn * 1000,
            resendAt: start + outcome.timers.resendIn * 1000,
          });
          setNow(start);
          setStep({ kind: 'idle', note: words.resent });
        } else if (outcome.kind === 'too_early') {
          const start = Date.now();
          setTimers((t) => ({ ...t, resendAt: start + (outcome.retryAfter ?? 5) * 1000 }));
          setStep({ kind: 'idle' });
        } else if (outcome.kind === 'unavailable') {
          setStep({ kind: 'error', message: words.resendUnavailable });
        } else {
          setStep({ kind: 'error', message: outcome.message ?? words.network });
        }
      });
  }

  if (step.kind === 'verified') {
    return (
      <div className="py-4 text-center" role="status" data-state="verified">
        <span className="mx-auto flex h-14 w-14 items-center justify-center rounded-full bg-emerald-50 text-emerald-600 ring-1 ring-inset ring-emerald-200">
          <CircleCheck className="h-7 w-7" aria-hidden="true" />
        </span>
        <h2 ref={headingRef} tabIndex={-1} className="mt-5 text-2xl font-semibold tracking-tight text-slate-900 focus:outline-none">
          {words.verifiedTitle}
        </h2>
        <p className="mt-4 inline-block rounded-xl bg-slate-50 px-4 py-2 text-xl font-semibold tabular-nums tracking-wide text-slate-900 ring-1 ring-inset ring-slate-200" dir="ltr">
          {copy.digits(formatE164(phone))}
        </p>
        <p className="mt-4 text-slate-700" data-testid="next-step">{copy.success.next}</p>
      </div>
    );
  }

  const expired = step.kind === 'expired' || expiresIn <= 0;
  const message = step.kind === 'error' || step.kind === 'expired' ? step.message : expired ? words.expired : null;
  const inputId = `${ids}-code`;
  const messageId = `${ids}-code-message`;

  return (
    <form
      method="post"
      action={`/api/leads/${verification.id}/verify`}
      aria-labelledby={`${ids}-title`}
      data-state={step.kind === 'idle' ? 'code' : step.kind}
      onSubmit={handleSubmit}
      noValidate
    >
      <span className="flex h-12 w-12 items-center justify-center rounded-full bg-indigo-50 text-indigo-600 ring-1 ring-inset ring-indigo-200">
        <MessageSquareText className="h-6 w-6" aria-hidden="true" />
      </span>
      <h2 id={`${ids}-title`} className="mt-4 text-xl font-semibold tracking-tight text-slate-900 sm:text-2xl">
        {words.title}
      </h2>
      <p className="mt-1.5 text-slate-600">
        {words.body}{' '}
        <bdi dir="ltr" className="whitespace-nowrap font-medium text-slate-900">
          {copy.digits(formatE164(phone))}
        </bdi>
      </p>

      <label htmlFor={inputId} className="mt-6 block text-sm font-medium text-slate-900">
        {words.label}
      </label>
      <input
        ref={inputRef}
        id={inputId}
        name="code"
        type="text"
        inputMode="numeric"
        autoComplete="one-time-code"
        dir="ltr"
        maxLength={CODE_LENGTH * 2}
        required
        placeholder={words.placeholder}
        value={code}
        aria-invalid={step.kind === 'error'}
        aria-describedby={messageId}
        onChange={(e) => {
          const typed = e.currentTarget.value;
          setCode(typed);
          if (step.kind === 'error') setStep({ kind: 'idle' });
          if (readCode(typed).length === CODE_LENGTH && !expired) check(typed); // autofill or the fifth digit
        }}
        className="mt-2 block h-14 w-full rounded-xl border-0 bg-white px-4 text-center text-2xl font-semibold tracking-[0.5em] text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:outline-none focus:ring-2 focus:ring-inset focus:ring-indigo-600"
      />
      <p
        id={messageId}
        aria-live="polite"
        className={`mt-2 flex min-h-10 items-start gap-1.5 text-sm ${message ? 'text-rose-700' : 'text-slate-600'}`}
      >
        {message && <CircleAlert className="mt-0.5 h-4 w-4 flex-none" aria-hidden="true" />}
        <span data-testid="code-message">
          {message ?? (step.kind === 'idle' && step.note ? step.note : words.expiresIn(clock(expiresIn)))}
        </span>
      </p>

      <button
        type="submit"
        disabled={pending || expired}
        aria-busy={pending}
        className="mt-2 inline-flex h-14 w-full items-center justify-center gap-2 rounded-xl bg-indigo-600 px-6 text-lg font-semibold text-white shadow-lg shadow-indigo-600/25 transition hover:bg-indigo-700 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:bg-indigo-400"
      >
        {pending ? (
          <>
            <LoaderCircle className="h-5 w-5 animate-spin" aria-hidden="true" />
            {words.pending}
          </>
        ) : (
          words.submit
        )}
      </button>

      <div className="mt-4 flex flex-wrap items-center justify-between gap-2 text-sm">
        <button
          type="button"
          onClick={handleResend}
          disabled={pending || resendIn > 0}
          data-testid="resend"
          className="inline-flex items-center gap-1.5 rounded-lg px-3 py-2 font-semibold text-indigo-700 hover:bg-indigo-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600 disabled:cursor-not-allowed disabled:text-slate-500 disabled:hover:bg-transparent"
        >
          <RotateCw className="h-4 w-4" aria-hidden="true" />
          {resendIn > 0 ? words.resendIn(clock(resendIn)) : words.resend}
        </button>
        <button
          type="button"
          onClick={onStartOver}
          className="rounded-lg px-3 py-2 text-slate-600 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-600"
        >
          {words.changeNumber}
        </button>
      </div>
    </form>
  );
}
