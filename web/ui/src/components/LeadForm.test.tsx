// @vitest-environment jsdom
import { act, cleanup, fireEvent, getDefaultNormalizer, render as rtlRender, screen, waitFor } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { hydrateRoot } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import { CopyProvider, copyFor, type Locale } from '../copy';
import { campaign } from 'virtual:campaign';
import { LeadForm } from './LeadForm';

type FetchMock = ReturnType<typeof vi.fn<typeof fetch>>;

// Most checks read the English copy; the Persian page has its own block below.
const copy = copyFor('en', campaign);
const fa = copyFor('fa', campaign);
const within = (locale: Locale) =>
  function Wrapper({ children }: { children: ReactNode }) {
    return <CopyProvider value={copyFor(locale, campaign)}>{children}</CopyProvider>;
  };
const render = (ui: ReactElement, locale: Locale = 'en') => rtlRender(ui, { wrapper: within(locale) });

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let fetchMock: FetchMock;

beforeEach(() => {
  fetchMock = vi.fn<typeof fetch>();
  vi.stubGlobal('fetch', fetchMock);
  window.history.replaceState(null, '', '/');
});

afterEach(() => {
  cleanup();
  delete document.documentElement.dataset.region;
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const phoneInput = () => screen.getByLabelText(copy.form.label) as HTMLInputElement;
const submitButton = () => screen.getByRole('button', { name: new RegExp(`${copy.form.submit}|${copy.form.pending}`) });

function typePhone(value: string) {
  fireEvent.change(phoneInput(), { target: { value } });
}

describe('LeadForm', () => {
  it('renders a form that works without JavaScript', () => {
    const { container } = render(<LeadForm />);
    const form = container.querySelector('form')!;
    expect(form.getAttribute('method')).toBe('post');
    expect(form.getAttribute('action')).toBe('/api/leads/');
    const input = phoneInput();
    expect(input.name).toBe('phone');
    expect(input.type).toBe('tel');
    expect(input.getAttribute('autocomplete')).toBe('tel');
    expect(input.getAttribute('inputmode')).toBe('tel');
    const honeypot = container.querySelector<HTMLInputElement>('input[name="website"]')!;
    expect(honeypot.tabIndex).toBe(-1);
    expect(honeypot.getAttribute('autocomplete')).toBe('off');
    expect(honeypot.closest('[aria-hidden="true"]')).not.toBeNull();
    expect(container.querySelector<HTMLInputElement>('input[name="source"]')!.value).toBe('hero');
  });

  it('shows the pending state synchronously on click', () => {
    const answer = deferred<Response>();
    fetchMock.mockReturnValue(answer.promise);
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    // No await: the pending state must be committed inside the click handler itself.
    const button = submitButton();
    expect(button).toHaveProperty('disabled', true);
    expect(button.getAttribute('aria-busy')).toBe('true');
    expect(button.textContent).toContain(copy.form.pending);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('never sends twice on a double click or a repeated submit', async () => {
    const answer = deferred<Response>();
    fetchMock.mockReturnValue(answer.promise);
    const { container } = render(<LeadForm />);
    typePhone('09123456789');
    const button = submitButton();
    fireEvent.click(button);
    fireEvent.click(button);
    // Even if the disabled button were bypassed, the ref guard holds.
    fireEvent.submit(container.querySelector('form')!);
    fireEvent.submit(container.querySelector('form')!);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    await act(async () => answer.resolve(json(202, { id: 'x', status: 'queued', phone: '+989123456789', duplicate: false })));
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('posts JSON with source and utm, and shows the normalised number on success', async () => {
    window.history.replaceState(null, '', `/?utm_source=google&utm_medium=cpc&utm_campaign=${'x'.repeat(200)}&other=1`);
    fetchMock.mockResolvedValue(json(202, { id: 'abc', status: 'queued', phone: '+989123456789', duplicate: false }));
    render(<LeadForm />);
    typePhone('۰۹۱۲ ۳۴۵ ۶۷۸۹');
    fireEvent.click(submitButton());

    expect(await screen.findByText('+98 912 345 6789')).toBeTruthy();
    expect(screen.getByRole('heading', { name: copy.success.title })).toBeTruthy();

    const [url, init] = fetchMock.mock.calls[0];
    expect(url).toBe('/api/leads/');
    expect(init?.method).toBe('POST');
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
    expect(JSON.parse(String(init?.body))).toEqual({
      phone: '۰۹۱۲ ۳۴۵ ۶۷۸۹',
      source: 'hero',
      utm: { source: 'google', medium: 'cpc', campaign: 'x'.repeat(128) },
    });
  });

  it('says "we already have your number" for a duplicate', async () => {
    fetchMock.mockResolvedValue(json(202, { id: 'abc', status: 'queued', phone: '+989123456789', duplicate: true }));
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    expect(await screen.findByRole('heading', { name: copy.success.duplicateTitle })).toBeTruthy();
    expect(screen.getByText('+98 912 345 6789')).toBeTruthy();
  });

  it('shows the retry time from Retry-After on 429', async () => {
    fetchMock.mockResolvedValue(
      json(429, { error: { code: 'rate_limited', message: 'Too many requests.' } }, { 'Retry-After': '42' }),
    );
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    const alert = await screen.findByRole('alert');
    await waitFor(() => expect(alert.textContent).toContain('try again in 42 seconds'));
    expect(submitButton()).toHaveProperty('disabled', false);
    expect(phoneInput().value).toBe('09123456789');
  });

  it('says temporarily unavailable with the retry time on 503', async () => {
    fetchMock.mockResolvedValue(json(503, { error: { code: 'unavailable', message: 'x' } }, { 'Retry-After': '5' }));
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/temporarily unavailable.*5 seconds/i));
  });

  it("shows the server's message next to the field on 422", async () => {
    fetchMock.mockResolvedValue(
      json(422, { error: { code: 'region_not_allowed', message: 'We only take numbers from Iran.', field: 'phone' } }),
    );
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    await waitFor(() => expect(phoneInput().getAttribute('aria-invalid')).toBe('true'));
    const message = document.getElementById(phoneInput().getAttribute('aria-describedby')!)!;
    expect(message.textContent).toContain('We only take numbers from Iran.');
    expect(message.getAttribute('aria-live')).toBe('polite');
  });

  it("shows the server's message for a 400", async () => {
    fetchMock.mockResolvedValue(json(400, { error: { code: 'invalid_body', message: 'The request body is not valid.' } }));
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('The request body is not valid.'));
  });

  it('keeps the typed number on a network error', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    render(<LeadForm />);
    typePhone('0912 345 6789');
    fireEvent.click(submitButton());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain(copy.status.network));
    expect(phoneInput().value).toBe('0912 345 6789');
    expect(submitButton()).toHaveProperty('disabled', false);
  });

  it('says so when offline', async () => {
    vi.spyOn(window.navigator, 'onLine', 'get').mockReturnValue(false);
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'));
    render(<LeadForm />);
    typePhone('09123456789');
    fireEvent.click(submitButton());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain(copy.status.offline));
    expect(phoneInput().value).toBe('09123456789');
  });

  it('does not nag while typing a prefix, but does after blur', () => {
    render(<LeadForm />);
    typePhone('0912');
    expect(phoneInput().getAttribute('aria-invalid')).toBe('false');
    fireEvent.blur(phoneInput());
    expect(phoneInput().getAttribute('aria-invalid')).toBe('true');
    // as written: its example number's no-break spaces (which keep it on one line) included
    const exact = getDefaultNormalizer({ collapseWhitespace: false });
    expect(screen.getByText(copy.errors.invalid_phone, { normalizer: exact }).textContent).toContain('0912\u00a0345\u00a06789');
  });

  it('flags text that can never be valid right away, and says when a number is complete', () => {
    render(<LeadForm />);
    typePhone('12345');
    expect(phoneInput().getAttribute('aria-invalid')).toBe('true');
    typePhone('09123456789');
    expect(phoneInput().getAttribute('aria-invalid')).toBe('false');
    const message = document.getElementById(phoneInput().getAttribute('aria-describedby')!)!;
    expect(message.textContent).toBe(`${copy.form.valid} +98 912 345 6789`);
  });

  it('names a landline as not a mobile, and a blank submit as missing, without sending', () => {
    render(<LeadForm />);
    typePhone('02112345678');
    fireEvent.blur(phoneInput());
    expect(screen.getByText(copy.errors.not_mobile)).toBeTruthy();
    typePhone('');
    fireEvent.click(submitButton());
    expect(screen.getByText(copy.errors.missing_phone)).toBeTruthy();
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it('shows the thank-you state after the no-JS redirect to ?submitted=1', () => {
    window.history.replaceState(null, '', '/?submitted=1');
    render(<LeadForm />);
    expect(screen.getByRole('heading', { name: copy.success.title })).toBeTruthy();
    expect(screen.getByText(copy.success.redirectBody)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: copy.success.again }));
    expect(phoneInput()).toBeTruthy();
    expect(window.location.search).toBe('');
  });
});

describe('LeadForm in Persian', () => {
  const faInput = () => screen.getByLabelText(fa.form.label) as HTMLInputElement;
  const faSubmit = () => screen.getByRole('button', { name: new RegExp(`${fa.form.submit}|${fa.form.pending}`) });

  it('keeps the number field left to right, with a Persian example', () => {
    render(<LeadForm />, 'fa');
    const input = faInput();
    expect(input.getAttribute('dir')).toBe('ltr');
    expect(input.getAttribute('inputmode')).toBe('tel');
    expect(input.getAttribute('autocomplete')).toBe('tel');
    expect(input.placeholder).toBe('۰۹۱۲ ۳۴۵ ۶۷۸۹');
  });

  it.each(['۰۹۱۲ ۳۴۵ ۶۷۸۹', '٠٩١٢ ٣٤٥ ٦٧٨٩', '0912 345 6789'])('previews %s in Persian digits, isolated left to right', (typed) => {
    render(<LeadForm />, 'fa');
    fireEvent.change(faInput(), { target: { value: typed } });
    const message = document.getElementById(faInput().getAttribute('aria-describedby')!)!;
    const preview = message.querySelector('bdi')!;
    expect(preview.textContent).toBe('+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹');
    expect(preview.getAttribute('dir')).toBe('ltr');
  });

  it('asks the server for Persian, counts seconds in Persian digits', async () => {
    fetchMock.mockResolvedValue(
      json(429, { error: { code: 'rate_limited', message: 'x' } }, { 'Retry-After': '42' }),
    );
    render(<LeadForm />, 'fa');
    fireEvent.change(faInput(), { target: { value: '09123456789' } });
    fireEvent.click(faSubmit());
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('۴۲ ثانیه'));
    expect(new Headers(fetchMock.mock.calls[0][1]?.headers).get('Accept-Language')).toBe('fa');
  });

  it('says on success when we will call, from the business hours', async () => {
    fetchMock.mockResolvedValue(json(202, { id: 'abc', status: 'queued', phone: '+989123456789', duplicate: false }));
    render(<LeadForm />, 'fa');
    fireEvent.change(faInput(), { target: { value: '۰۹۱۲۳۴۵۶۷۸۹' } });
    fireEvent.click(faSubmit());
    expect(await screen.findByText('+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹')).toBeTruthy();
    expect(screen.getByTestId('next-step').textContent).toBe(
      'کارشناسان ما شنبه تا چهارشنبه از ساعت ۹ تا ۱۷ و پنج‌شنبه از ساعت ۹ تا ۱۳ با شما تماس می‌گیرند.',
    );
  });
});

describe('the server-rendered region', () => {
  it('leaves numbers of another region to the server', () => {
    document.documentElement.dataset.region = 'GB';
    render(<LeadForm />);
    typePhone('07400 123456');
    fireEvent.blur(phoneInput());
    expect(phoneInput().getAttribute('aria-invalid')).toBe('false');
  });

  it('applies the Iranian rules when the page says IR', () => {
    document.documentElement.dataset.region = 'IR';
    render(<LeadForm />);
    typePhone('07400 123456');
    fireEvent.blur(phoneInput());
    expect(phoneInput().getAttribute('aria-invalid')).toBe('true');
  });
});

describe('pre-rendered page', () => {
  it.each(['fa', 'en'] as const)('hydrates the server markup (%s) without mismatches or inline styles', async (locale) => {
    const page = (
      <CopyProvider value={copyFor(locale, campaign)}>
        <App />
      </CopyProvider>
    );
    const html = renderToString(page);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).toContain(copyFor(locale, campaign).hero.headline);
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.appendChild(container);
    const errors = vi.spyOn(console, 'error');
    const recoverable = vi.fn();
    let root: ReturnType<typeof hydrateRoot> | undefined;
    await act(async () => {
      root = hydrateRoot(container, page, { onRecoverableError: recoverable });
    });
    expect(errors).not.toHaveBeenCalled();
    expect(recoverable).not.toHaveBeenCalled();
    // Same DOM as the server markup, apart from the two attributes set once hydrated.
    const expected = document.createElement('div');
    expected.innerHTML = html;
    expect(container.innerHTML.replace(/ data-hydrated="true"| novalidate=""/g, '')).toBe(expected.innerHTML);
    act(() => root?.unmount());
    container.remove();
  });
});

// A campaign that asks for consent (leadcap/landing/consent.py): the checkbox, in both languages.
const consenting = {
  ...campaign,
  locales: {
    fa: { ...campaign.locales.fa, consent: 'با تماس کارشناسان موافقم.' },
    en: { ...campaign.locales.en, consent: 'I agree to be called.' },
  },
};

describe('LeadForm with a consent text', () => {
  const renderConsenting = (locale: Locale) =>
    rtlRender(<LeadForm />, {
      wrapper: ({ children }: { children: ReactNode }) => (
        <CopyProvider value={copyFor(locale, consenting)}>{children}</CopyProvider>
      ),
    });

  it.each(['en', 'fa'] as const)('asks with a labelled checkbox, and sends nothing until it is ticked (%s)', async (locale) => {
    const words = copyFor(locale, consenting);
    fetchMock.mockResolvedValue(json(202, { id: 'abc', status: 'queued', phone: '+989123456789', duplicate: false }));
    renderConsenting(locale);
    const box = screen.getByLabelText(consenting.locales[locale].consent) as HTMLInputElement;
    expect(box.type).toBe('checkbox');
    expect(box.name).toBe('consent');
    expect(box.required).toBe(true); // the no-JS form: the browser asks too
    fireEvent.change(screen.getByLabelText(words.form.label), { target: { value: '09123456789' } });
    fireEvent.click(screen.getByRole('button', { name: words.form.submit }));
    expect(fetchMock).not.toHaveBeenCalled();
    expect(box.getAttribute('aria-invalid')).toBe('true');
    const described = document.getElementById(box.getAttribute('aria-describedby')!)!;
    expect(described.textContent).toBe(words.errors.consent_required);
    expect(document.activeElement).toBe(box);
    fireEvent.click(box);
    expect(box.getAttribute('aria-invalid')).toBe('false');
    fireEvent.click(screen.getByRole('button', { name: words.form.submit }));
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    expect(JSON.parse(String(fetchMock.mock.calls[0][1]?.body)).consent).toBe(true);
  });

  it('shows the server refusal beside the checkbox', async () => {
    fetchMock.mockResolvedValue(json(422, { error: { code: 'consent_required', message: 'tick it', field: 'consent' } }));
    renderConsenting('en');
    const box = screen.getByLabelText('I agree to be called.') as HTMLInputElement;
    fireEvent.click(box);
    fireEvent.change(phoneInput(), { target: { value: '09123456789' } });
    fireEvent.click(submitButton());
    await waitFor(() => expect(box.getAttribute('aria-invalid')).toBe('true'));
    expect(document.getElementById(box.getAttribute('aria-describedby')!)!.textContent).toBe('tick it');
  });

  it('is absent when the campaign asks for none, and the request has no consent', async () => {
    fetchMock.mockResolvedValue(json(202, { id: 'abc', status: 'queued', phone: '+989123456789', duplicate: false }));
    const { container } = render(<LeadForm />);
    expect(container.querySelector('input[name="consent"]')).toBeNull();
    typePhone('09123456789');
    fireEvent.click(submitButton());
    await waitFor(() => expect(fetchMock).toHaveBeenCalledTimes(1));
    expect('consent' in JSON.parse(String(fetchMock.mock.calls[0][1]?.body))).toBe(false);
  });
});
