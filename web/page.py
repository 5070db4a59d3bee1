"""The server-rendered landing page: a working form with no JavaScript, used when no front-end
build exists and to answer a form post that failed."""

from __future__ import annotations

from html import escape

from web.campaign import Copy

# The few words of the form itself, per language (the campaign file holds the rest of the copy).
FORM = {
    "fa": {
        "label": "شماره موبایل",
        "placeholder": "۰۹۱۲ ۳۴۵ ۶۷۸۹",
        "honeypot": "وب‌سایت (این خانه را خالی بگذارید)",
        "thanks": "ممنون! شماره‌ی شما به دست ما رسید.",
        "privacy": "حریم خصوصی",
        "phone": "تلفن",
        "code_label": "کد تأیید",
        "code_hint": "کد ۵ رقمی‌ای را که برایتان پیامک کردیم وارد کنید.",
        "confirm": "تأیید شماره",
        "resend": "ارسال دوباره‌ی کد",
        "verified": "شماره‌ی شما تأیید شد. ممنون!",
    },
    "en": {
        "label": "Mobile number",
        "placeholder": "0912 345 6789",
        "honeypot": "Website (leave this empty)",
        "thanks": "Thank you! We have your number.",
        "privacy": "Privacy policy",
        "phone": "Phone",
        "code_label": "Verification code",
        "code_hint": "Enter the 5-digit code we sent you by SMS.",
        "confirm": "Confirm my number",
        "resend": "Send the code again",
        "verified": "Your number is confirmed. Thank you!",
    },
}

_PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/fallback.css">
</head>
<body>
<main class="hero">
<p class="brand">{brand}</p>
<h1>{headline}</h1>
<p class="lead">{supporting}</p>
{notice}
{form}
</main>
<footer class="legal">
<p>{company} · {address}</p>
<p>{phone_label}: <a href="tel:{tel}" dir="ltr">{phone}</a> · <a href="{privacy_url}">{privacy}</a></p>
</footer>
</body>
</html>
"""


_PHONE_FORM = """<form method="post" action="/api/leads/" class="cta">
<label for="phone">{label}</label>
<input id="phone" name="phone" type="tel" dir="ltr" autocomplete="tel" inputmode="tel" maxlength="32"
 placeholder="{placeholder}" required>
<input type="hidden" name="source" value="hero">
<div class="hp" aria-hidden="true"><label for="website">{honeypot}</label>
<input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
{consent}<button type="submit">{cta}</button>
</form>"""

# The campaign's consent (leadcap/landing/consent.py): a ticked box sends consent=1. After a
# refused post the box points at the sentence that says why (aria-describedby, aria-invalid).
_CONSENT = """<p class="consent">
<input id="consent" name="consent" type="checkbox" value="1" required{invalid}>
<label for="consent">{text}</label></p>
"""

# The code step (LEADCAP_VERIFY=sms) without JavaScript: the code, then a separate resend form.
_CODE_FORM = """<form method="post" action="/api/leads/{id}/verify" class="cta">
<label for="code">{code_label}</label>
<p class="hint" id="code-hint">{code_hint}</p>
<input id="code" name="code" type="text" dir="ltr" inputmode="numeric" autocomplete="one-time-code"
 maxlength="5" pattern="[0-9\u06f0-\u06f9\u0660-\u0669]{{5}}" aria-describedby="code-hint" required>
<button type="submit">{confirm}</button>
</form>
<form method="post" action="/api/leads/{id}/resend" class="resend">
<button type="submit" class="link">{resend}</button>
</form>"""


def render(
    copy: Copy,
    *,
    error: str | None = None,
    submitted: bool = False,
    verify_id: str | None = None,
    verified: bool = False,
    field: str | None = None,
) -> str:
    """The page in `copy`'s language, with an error sentence or a thank-you when there is one;
    with `verify_id`, the code step of that submission instead of the phone form. `field`: the
    form field the error is about, marked invalid and tied to the sentence."""
    words = FORM[copy.lang]
    if error:
        notice = f'<p class="error" role="alert" id="form-error">{escape(error)}</p>'
    elif verified:
        notice = f'<p class="ok" role="status">{escape(words["verified"])} {escape(copy.call_back)}</p>'
    elif submitted:
        notice = f'<p class="ok" role="status">{escape(words["thanks"])} {escape(copy.call_back)}</p>'
    else:
        notice = ""
    if verify_id:
        form = _CODE_FORM.format(
            id=escape(verify_id),
            code_label=escape(words["code_label"]),
            code_hint=escape(words["code_hint"]),
            confirm=escape(words["confirm"]),
            resend=escape(words["resend"]),
        )
    else:
        form = _PHONE_FORM.format(
            label=escape(words["label"]),
            placeholder=escape(words["placeholder"]),
            honeypot=escape(words["honeypot"]),
            cta=escape(copy.cta),
            consent=""
            if copy.consent is None
            else _CONSENT.format(
                text=escape(copy.consent),
                invalid=' aria-invalid="true" aria-describedby="form-error"'
                if error and field == "consent"
                else "",
            ),
        )
    return _PAGE.format(
        lang=copy.lang,
        dir=copy.dir,
        title=escape(copy.title),
        brand=escape(copy.brand),
        headline=escape(copy.headline),
        supporting=escape(copy.supporting),
        notice=notice,
        form=form,
        company=escape(copy.company),
        address=escape(copy.address),
        phone_label=escape(words["phone"]),
        tel=escape(copy.phone_tel),
        phone=escape(copy.phone_display),
        privacy_url=escape(copy.privacy_url),
        privacy=escape(words["privacy"]),
    )


FALLBACK_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.6 Vazirmatn,Tahoma,system-ui,sans-serif;color:#0f172a;
background:linear-gradient(135deg,#eef2ff,#f8fafc)}.hero{max-width:32rem;margin:10vh auto;padding:2rem}
h1{font-size:2rem;line-height:1.2;margin:0 0 .5rem}.lead{color:#334155;margin:0 0 1.5rem}
.cta{display:grid;gap:.5rem;background:#fff;padding:1.5rem;border-radius:1rem;
box-shadow:0 10px 30px rgba(15,23,42,.08)}input{font:inherit;padding:.75rem;border:1px solid #94a3b8;
border-radius:.5rem}button{font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:.5rem;
background:#4338ca;color:#fff;cursor:pointer}button:focus-visible,input:focus-visible{
outline:3px solid #f59e0b;outline-offset:2px}.error{color:#b91c1c}.ok{color:#15803d}
.hp{position:absolute;inset-inline-start:-10000px}.brand{font-weight:700;color:#4338ca;margin:0 0 1rem}
.legal{max-width:32rem;margin:0 auto 2rem;padding:0 2rem;font-size:.875rem;color:#475569}
.legal a{color:#3730a3}input[dir=ltr]{text-align:left}.hint{margin:0;color:#475569;font-size:.875rem}
.resend{margin-top:.5rem}.link{background:none;color:#3730a3;text-decoration:underline;padding:.25rem}
.consent{display:flex;gap:.5rem;align-items:flex-start;margin:0;font-size:.875rem;color:#334155}
.consent input{width:1.25rem;height:1.25rem;margin:.15rem 0 0;flex:none}
"""
