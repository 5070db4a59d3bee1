// @vitest-environment jsdom
import { cleanup, fireEvent, render as rtlRender, screen, waitFor } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CopyProvider, copyFor, type Locale } from '../copy';
import { campaign } from 'virtual:campaign';
import { verificationOf } from '../api';
import { readCode, resendCode, verifyCode } from '../verify';
import { verifyWords } from '../verify-copy';
import { CodeStep } from './CodeStep';
import { LeadForm } from './LeadForm';

const within = (locale: Locale) =>
  function Wrapper({ children }: { children: ReactNode }) {
    return <CopyProvider value={copyFor(locale, campaign)}>{children}</CopyProvider>;
  };
const render = (ui: ReactElement, locale: Locale = 'en') => rtlRender(ui, { wrapper: within(locale) });
const en = verifyWords('en');
const fa = verifyWords('fa');
const TOKEN = 'q0rJ5fY1cZ8v3mN6bT2xW9kP4hL7sD0gA5eU1iO8yR3';
const verification = { id: '0190d1a0-0000-7000-8000-000000000001', token: TOKEN, expiresIn: 120, resendIn: 60 };

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('readCode', () => {
  it('reads Persian and Arabic-Indic digits as ASCII and drops the rest', () => {
    expect(readCode('۱۲۳۴۵')).toBe('12345');
    expect(readCode('١٢ ٣٤٥')).toBe('12345');
    expect(readCode('12-34-5-6')).toBe('12345');
    expect(readCode('abc')).toBe('');
  });
});

describe('CodeStep', () => {
  it('asks for the code the way phones autofill it', () => {
    render(<CodeStep verification={verification} phone="+989123456789" onStartOver={() => {}} />);
    const input = screen.getByLabelText(en.label) as HTMLInputElement;
    expect(input.getAttribute('inputmode')).toBe('numeric');
    expect(input.getAttribute('autocomplete')).toBe('one-time-code');
    expect(screen.getByTestId('resend').hasAttribute('disabled')).toBe(true);
    expect(screen.getByTestId('resend').textContent).toContain('1:00');
    expect(screen.getByTestId('code-message').textContent).toContain('2:00');
  });

  it('sends Persian digits as ASCII the moment the fifth one is typed, pending in the same frame', async () => {
    const verify = vi.fn<typeof verifyCode>().mockResolvedValue({ kind: 'verified' });
    render(<CodeStep verification={verification} phone="+989123456789" onStartOver={() => {}} verify={verify} />, 'fa');
    fireEvent.change(screen.getByLabelText(fa.label), { target: { value: '۱۲۳۴۵' } });
    expect(screen.getByRole('button', { name: fa.pending })).toBeTruthy(); // painted before the answer
    expect(verify).toHaveBeenCalledWith(verification.id, TOKEN, '12345', 'fa');
    await screen.findByText(fa.verifiedTitle);
  });

  it('shows the server’s sentence for a wrong code and clears the field', async () => {
    const verify = vi.fn<typeof verifyCode>().mockResolvedValue({ kind: 'wrong', message: 'Wrong, 4 left.', attemptsLeft: 4 });
    render(<CodeStep verification={verification} phone="+989123456789" onStartOver={() => {}} verify={verify} />);
    const input = screen.getByLabelText(en.label) as HTMLInputElement;
    fireEvent.change(input, { target: { value: '11111' } });
    await screen.findByText('Wrong, 4 left.');
    expect(input.value).toBe('');
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });

  it('after a wrong code, the empty field keeps saying why it is empty when the button is tapped', async () => {
    // Issue 21: the fifth digit sent the code, the field cleared, and a tap on the button then
    // said "the code has 5 digits" instead of "that code was wrong, 4 tries left".
    const verify = vi.fn<typeof verifyCode>().mockResolvedValue({ kind: 'wrong', message: 'Wrong, 4 left.', attemptsLeft: 4 });
    render(<CodeStep verification={verification} phone="+989123456789" onStartOver={() => {}} verify={verify} />);
    const input = screen.getByLabelText(en.label) as HTMLInputElement;
    fireEvent.change(input, { target: { value: '11111' } });
    await screen.findByText('Wrong, 4 left.');
    fireEvent.click(screen.getByRole('button', { name: en.submit }));
    expect(screen.getByTestId('code-message').textContent).toBe('Wrong, 4 left.');
    expect(screen.queryByText(en.tooShort)).toBeNull();
    expect(input.value).toBe('');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(input);
    expect(verify).toHaveBeenCalledTimes(1); // nothing was sent again
    // typing starts over: the sentence gives way, and part of a code is explained as such
    fireEvent.change(input, { target: { value: '12' } });
    expect(screen.queryByText('Wrong, 4 left.')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: en.submit }));
    expect(screen.getByTestId('code-message').textContent).toBe(en.tooShort);
    expect(input.value).toBe('12');
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('an expired code disables confirming and, once allowed, a resend starts a new countdown', async () => {
    const verify = vi.fn<typeof verifyCode>().mockResolvedValue({ kind: 'expired', message: 'Expired.' });
    const resend = vi.fn<typeof resendCode>().mockResolvedValue({
      kind: 'sent',
      timers: { expiresIn: 120, resendIn: 60 },
    });
    render(
      <CodeStep verification={{ ...verification, resendIn: 0 }} phone="+989123456789" onStartOver={() => {}} verify={verify} resend={resend} />,
    );
    fireEvent.change(screen.getByLabelText(en.label), { target: { value: '22222' } });
    await screen.findByText('Expired.');
    expect(screen.getByRole('button', { name: en.submit }).hasAttribute('disabled')).toBe(true);
    fireEvent.click(screen.getByTestId('resend'));
    await screen.findByText(en.resent);
    expect(resend).toHaveBeenCalledWith(verification.id, TOKEN, 'en');
    expect(screen.getByTestId('resend').hasAttribute('disabled')).toBe(true);
    expect(screen.getByRole('button', { name: en.submit }).hasAttribute('disabled')).toBe(false);
  });

  it('a short code is explained, not sent', () => {
    const verify = vi.fn<typeof verifyCode>();
    render(<CodeStep verification={verification} phone="+989123456789" onStartOver={() => {}} verify={verify} />);
    fireEvent.change(screen.getByLabelText(en.label), { target: { value: '123' } });
    fireEvent.submit(screen.getByLabelText(en.label).closest('form')!);
    expect(screen.getByText(en.tooShort)).toBeTruthy();
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('the token of the first 202', () => {
  const sent = { id: verification.id, status: 'verification_sent', phone: '+989123456789', duplicate: false };

  it('is kept from the first answer, and an answer without one opens no code step', () => {
    expect(verificationOf({ ...sent, verification: { expires_in: 120, resend_in: 60, token: TOKEN } })).toEqual(verification);
    // a duplicate's 202: its id is answered to anyone, so it carries no token
    expect(verificationOf({ ...sent, duplicate: true, verification: { expires_in: 90, resend_in: 0 } })).toBeNull();
    expect(verificationOf({ ...sent, verification: { expires_in: 120, resend_in: 60, token: 42 } })).toBeNull();
    expect(verificationOf({ ...sent, verification: { expires_in: 120, resend_in: 60, token: '' } })).toBeNull();
  });

  it('goes with every code and every resend, in the JSON body, never in the URL', async () => {
    const fetchMock = vi
      .fn<typeof fetch>()
      .mockResolvedValueOnce(json(422, { error: { code: 'invalid_code', message: 'Wrong.', attempts_left: 4 } }))
      .mockResolvedValueOnce(json(202, { id: verification.id, status: 'verification_sent', verification: { expires_in: 120, resend_in: 60 } }));
    expect(await verifyCode(verification.id, TOKEN, '12345', 'en', fetchMock)).toEqual({ kind: 'wrong', message: 'Wrong.', attemptsLeft: 4 });
    expect(await resendCode(verification.id, TOKEN, 'en', fetchMock)).toEqual({ kind: 'sent', timers: { expiresIn: 120, resendIn: 60 } });
    const [[verifyUrl, verifyInit], [resendUrl, resendInit]] = fetchMock.mock.calls;
    expect(JSON.parse(String(verifyInit?.body))).toEqual({ code: '12345', token: TOKEN });
    expect(JSON.parse(String(resendInit?.body))).toEqual({ token: TOKEN });
    expect(String(verifyUrl)).toBe(`/api/leads/${verification.id}/verify`);
    expect(String(resendUrl)).toBe(`/api/leads/${verification.id}/resend`);
  });

  it('reaches the code step’s requests from the form’s 202', async () => {
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValueOnce(
      json(202, { ...sent, verification: { expires_in: 120, resend_in: 60, token: TOKEN } }),
    );
    fetchMock.mockResolvedValueOnce(json(200, { id: verification.id, status: 'verified', phone: '+989123456789' }));
    vi.stubGlobal('fetch', fetchMock);
    render(<LeadForm />);
    fireEvent.change(screen.getByLabelText(copyFor('en', campaign).form.label), { target: { value: '09123456789' } });
    fireEvent.click(screen.getByRole('button', { name: copyFor('en', campaign).form.submit }));
    fireEvent.change(await screen.findByLabelText(en.label), { target: { value: '12345' } });
    await screen.findByText(en.verifiedTitle);
    expect(JSON.parse(String(fetchMock.mock.calls[1][1]?.body))).toEqual({ code: '12345', token: TOKEN });
  });

  it('a duplicate’s 202 (no token) ends on the plain thank-you, not on a code step that cannot work', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn<typeof fetch>().mockResolvedValue(json(202, { ...sent, duplicate: true, verification: { expires_in: 90, resend_in: 0 } })),
    );
    const { container } = render(<LeadForm />);
    fireEvent.change(screen.getByLabelText(copyFor('en', campaign).form.label), { target: { value: '09123456789' } });
    fireEvent.click(screen.getByRole('button', { name: copyFor('en', campaign).form.submit }));
    await waitFor(() => expect(container.querySelector('[data-state="success"]')).toBeTruthy());
    expect(screen.queryByText(en.title)).toBeNull();
  });
});

describe('the form with verification on', () => {
  it('turns into the code step after a 202 that sent a code', async () => {
    const fetchMock = vi.fn<typeof fetch>().mockResolvedValue(
      json(202, {
        id: verification.id,
        status: 'verification_sent',
        phone: '+989123456789',
        duplicate: false,
        verification: { expires_in: 120, resend_in: 60, token: TOKEN },
      }),
    );
    vi.stubGlobal('fetch', fetchMock);
    render(<LeadForm />);
    fireEvent.change(screen.getByLabelText(copyFor('en', campaign).form.label), { target: { value: '09123456789' } });
    fireEvent.click(screen.getByRole('button', { name: copyFor('en', campaign).form.submit }));
    await screen.findByText(en.title);
    expect(screen.getByLabelText(en.label).getAttribute('autocomplete')).toBe('one-time-code');
  });

  it('keeps the plain thank-you when no code could be sent', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn<typeof fetch>().mockResolvedValue(
        json(202, {
          id: verification.id,
          status: 'queued',
          phone: '+989123456789',
          duplicate: false,
          verification: { available: false, token: TOKEN },
        }),
      ),
    );
    render(<LeadForm />);
    fireEvent.change(screen.getByLabelText(copyFor('en', campaign).form.label), { target: { value: '09123456789' } });
    fireEvent.click(screen.getByRole('button', { name: copyFor('en', campaign).form.submit }));
    await waitFor(() => expect(screen.getByText(copyFor('en', campaign).success.title)).toBeTruthy());
    expect(screen.queryByText(en.title)).toBeNull();
  });
});
