"""The server-rendered landing page: a working form with no JavaScript, used when no front-end
build exists and to answer a form post that failed."""

from __future__ import annotations

from html import escape

TITLE = "Get a call back in minutes"
LEAD = "Leave your mobile number and we will call you. No spam, ever."

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="/fallback.css">
</head>
<body>
<main class="hero">
<h1>{title}</h1>
<p class="lead">{lead}</p>
{notice}
<form method="post" action="/api/leads/" class="cta">
<label for="phone">Mobile number</label>
<input id="phone" name="phone" type="tel" autocomplete="tel" inputmode="tel" maxlength="32"
 placeholder="0912 345 6789" required value="{phone}">
<input type="hidden" name="source" value="hero">
<div class="hp" aria-hidden="true"><label for="website">Website</label>
<input id="website" name="website" type="text" tabindex="-1" autocomplete="off"></div>
<button type="submit">Call me back</button>
</form>
</main>
</body>
</html>
"""


def render(*, error: str | None = None, submitted: bool = False, phone: str = "") -> str:
    """The page, with an error sentence or a thank-you when there is one to show."""
    if error:
        notice = f'<p class="error" role="alert">{escape(error)}</p>'
    elif submitted:
        notice = '<p class="ok" role="status">Thank you! We have your number and will call you soon.</p>'
    else:
        notice = ""
    return _PAGE.format(title=escape(TITLE), lead=escape(LEAD), notice=notice, phone=escape(phone))


FALLBACK_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#0f172a;
background:linear-gradient(135deg,#eef2ff,#f8fafc)}.hero{max-width:32rem;margin:10vh auto;padding:2rem}
h1{font-size:2rem;line-height:1.2;margin:0 0 .5rem}.lead{color:#334155;margin:0 0 1.5rem}
.cta{display:grid;gap:.5rem;background:#fff;padding:1.5rem;border-radius:1rem;
box-shadow:0 10px 30px rgba(15,23,42,.08)}input{font:inherit;padding:.75rem;border:1px solid #94a3b8;
border-radius:.5rem}button{font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:.5rem;
background:#4338ca;color:#fff;cursor:pointer}button:focus-visible,input:focus-visible{
outline:3px solid #f59e0b;outline-offset:2px}.error{color:#b91c1c}.ok{color:#15803d}
.hp{position:absolute;inset-inline-start:-10000px}
"""
