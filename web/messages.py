"""Every `error.message` the web tier sends, in each language the page speaks, keyed by `error.code`.

The code is the contract and never changes with the language; the sentence is for the visitor. The
leadcap core raises errors with an English sentence of its own (kept for logs and the CLI); what a
visitor reads comes from here. A code missing here falls back to that sentence, and
tests/web/test_messages.py fails for it, so a new code cannot ship in one language only.

Persian sentences are written for a call-back campaign's visitor (polite plural, «لطفاً»), with
Persian digits; a phone number inside a sentence is wrapped in Unicode isolates (LRI … PDI) so it
reads left to right inside right-to-left text, and its groups are joined by no-break spaces
(U+00A0) so it never breaks across lines.
"""

from __future__ import annotations

from leadcap.campaign import formats
from leadcap.errors import LeadcapError
from leadcap.intake.submission import MAX_BODY  # the one place the 4 KiB limit is written
from leadcap.settings import LOCALES

LRI, PDI = "\u2066", "\u2069"  # left-to-right isolate … pop directional isolate
NBSP = "\u00a0"  # between a number's digit groups: a line never breaks inside it
_MAX_LANGUAGES = 32  # an Accept-Language longer than this is judged on its first entries

CATALOGUE: dict[str, dict[str, str]] = {
    "invalid_body": {
        "fa": "اطلاعات ارسال‌شده قابل پردازش نیست. لطفاً صفحه را دوباره باز کنید و از نو بفرستید.",
        "en": "We could not read this request. Please reload the page and send it again.",
    },
    "not_found": {
        "fa": "صفحه‌ای با این نشانی پیدا نشد.",
        "en": "There is nothing at this address.",
    },
    "method_not_allowed": {
        "fa": "این نوع درخواست در این نشانی پذیرفته نمی‌شود.",
        "en": "This method is not allowed here.",
    },
    "body_too_large": {
        "fa": "حجم اطلاعات ارسال‌شده بیش از حد مجاز است (حداکثر {kib} کیلوبایت).",
        "en": "The request is too large (at most {kib} KiB).",
    },
    "unsupported_media_type": {
        "fa": "اطلاعات باید به‌صورت فرم یا JSON ارسال شود.",
        "en": "Send the lead as a form or as JSON.",
    },
    "missing_phone": {
        "fa": "لطفاً شماره موبایل خود را وارد کنید.",
        "en": "Please enter your mobile number.",
    },
    "invalid_phone": {
        "fa": "این شماره درست به نظر نمی‌رسد. "
        f"شماره موبایل را مثل {LRI}۰۹۱۲{NBSP}۳۴۵{NBSP}۶۷۸۹{PDI} وارد کنید.",
        "en": f"That does not look like a phone number. Try 0912{NBSP}345{NBSP}6789.",
    },
    "not_mobile": {
        "fa": "این شماره تلفن ثابت است. لطفاً شماره موبایل وارد کنید (با ۰۹ شروع می‌شود).",
        "en": "That looks like a landline. Please enter a mobile number (it starts with 09).",
    },
    "region_not_allowed": {
        "fa": "فعلاً شماره موبایل این کشور را نمی‌پذیریم. لطفاً شماره موبایل ایرانی وارد کنید.",
        "en": "We cannot accept mobile numbers from that country yet.",
    },
    "consent_required": {
        "fa": "لطفاً برای ثبت شماره، کادر موافقت را علامت بزنید.",
        "en": "Please tick the box to agree before sending your number.",
    },
    "invalid_code": {
        "fa": "کد واردشده درست نیست. {attempts} بار دیگر می‌توانید امتحان کنید.",
        "en": "That code is not right. You can try {attempts} more times.",
    },
    "code_expired": {
        "fa": "این کد منقضی شده یا قبلاً استفاده شده است. لطفاً کد تازه‌ای درخواست کنید.",
        "en": "This code has expired or was already used. Please ask for a new code.",
    },
    "too_many_attempts": {
        "fa": "کد را چند بار اشتباه وارد کردید و این کد دیگر اعتبار ندارد. لطفاً کد تازه‌ای درخواست کنید.",
        "en": "Too many wrong codes: this one no longer works. Please ask for a new code.",
    },
    "rate_limited": {
        "fa": "تعداد تلاش‌ها زیاد بود. لطفاً {seconds} ثانیه دیگر دوباره امتحان کنید.",
        "en": "Too many attempts. Please try again in {seconds} seconds.",
    },
    "unavailable": {
        "fa": "همین حالا امکان ثبت شماره نیست. لطفاً {seconds} ثانیه دیگر دوباره امتحان کنید.",
        "en": "We cannot take your number right now. Please try again in {seconds} seconds.",
    },
    "forbidden_origin": {
        "fa": "این فرم را فقط از صفحه‌ی خود ما می‌شود فرستاد.",
        "en": "This form can only be sent from our own page.",
    },
    "invalid_credentials": {
        "fa": "نام کاربری یا گذرواژه درست نیست.",
        "en": "The user name or password is not right.",
    },
    "csrf_failed": {
        "fa": "این فرم منقضی شده است. لطفاً صفحه را دوباره باز کنید و از نو بفرستید.",
        "en": "This form has expired. Please reload the page and send it again.",
    },
    "https_required": {
        "fa": "ورود فقط با HTTPS ممکن است: مرورگر کوکی امن ورود را در HTTP ساده نگه نمی‌دارد. "
        "لطفاً این صفحه را با نشانی‌ای که با https:// شروع می‌شود باز کنید.",
        "en": "Sign-in needs HTTPS: over plain HTTP the browser drops the secure sign-in cookie. "
        "Please open this page at an address that starts with https://.",
    },
    "unauthorized": {
        "fa": "این درخواست کلید معتبری ندارد. کلید API را در سرآیند Authorization: Bearer بفرستید.",
        "en": "This request has no valid key. Send an API key as Authorization: Bearer <key>.",
    },
    "forbidden": {
        "fa": "این کلید API اجازه‌ی این کار را ندارد.",
        "en": "This API key is not allowed to do this.",
    },
    "invalid_query": {
        "fa": "پارامتر «{parameter}» در نشانی درخواست قابل استفاده نیست.",
        "en": "The query parameter {parameter} {problem}.",
    },
    "unknown_campaign": {
        "fa": "کمپینی با این نام وجود ندارد.",
        "en": "There is no campaign by that name.",
    },
    "internal": {
        "fa": "مشکلی از سمت ما پیش آمد. لطفاً دوباره امتحان کنید.",
        "en": "Something went wrong on our side. Please try again.",
    },
}


def localise_digits(text: str, lang: str) -> str:
    """ASCII digits as the visitor reads them: Persian digits in `fa`."""
    return formats.digits(text, lang)


def negotiate(accept_language: str | None, default: str) -> str:
    """The supported language the request prefers (RFC 9110 §12.5.4), else `default`.

    Only the primary subtag counts (`fa-IR` is `fa`); `q=0` refuses a language; `*` means any,
    which is the default. Never raises: a malformed entry is skipped.
    """
    if not accept_language:
        return default
    best, best_q = default, 0.0
    for entry in accept_language.split(",", _MAX_LANGUAGES)[:_MAX_LANGUAGES]:
        tag, _, params = entry.partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        q = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip()[:5])
            except ValueError:
                continue
        if not 0.0 < q <= 1.0:
            continue
        if primary == "*":
            primary = default
        if primary in LOCALES and q > best_q:
            best, best_q = primary, q
    return best


def message(error: LeadcapError, lang: str) -> str:
    """The sentence for `error` in `lang`, with its figures (seconds, size) filled in."""
    sentences = CATALOGUE.get(error.code)
    if sentences is None or lang not in sentences:
        return error.message
    figures = {
        "seconds": getattr(error, "retry_after", 5),
        "kib": MAX_BODY // 1024,
        "attempts": getattr(error, "attempts_left", 0),
        "parameter": getattr(error, "parameter", ""),
        "problem": getattr(error, "problem", ""),
    }
    return sentences[lang].format(**{k: localise_digits(str(v), lang) for k, v in figures.items()})
