"""The /admin/ pages as server-rendered HTML: every value escaped, no inline script or style."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from leadcap.campaign import leadbook
from leadcap.campaign.stats import Report, Row
from web.admin import charts
from web.admin.words import WORDS
from web.messages import localise_digits

ASSETS = "/admin/static/"


def number(value: float | None, lang: str) -> str:
    if value is None:
        return "—"
    return localise_digits(f"{value:,.0f}", lang)


def percent(value: float | None, lang: str) -> str:
    return "—" if value is None else localise_digits(f"{value:.1%}", lang)


def layout(lang: str, title: str, body: str, *, user: str | None = None, csrf: str | None = None) -> str:
    w = WORDS[lang]
    direction = "rtl" if lang == "fa" else "ltr"
    other = "en" if lang == "fa" else "fa"
    nav = ""
    if user:
        nav = (
            f'<nav aria-label="{escape(w["title"])}"><a href="/admin/">{escape(w["overview"])}</a>'
            f'<a href="/admin/leads">{escape(w["leads"])}</a>'
            f'<a href="?lang={other}" lang="{other}">{escape(w["language"])}</a>'
            f'<form method="post" action="/admin/logout" class="inline">'
            f'<input type="hidden" name="csrf" value="{escape(csrf or "")}">'
            f'<button type="submit">{escape(w["sign_out"])} ({escape(user)})</button></form></nav>'
        )
    return (
        f'<!doctype html>\n<html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="robots" content="noindex"><title>{escape(title)} · {escape(w["title"])}</title>'
        f'<link rel="icon" href="{ASSETS}favicon.svg" type="image/svg+xml">'
        f'<link rel="stylesheet" href="{ASSETS}admin.css"><script src="{ASSETS}admin.js" defer></script>'
        f'</head><body><header><p class="brand">{escape(w["title"])}</p>{nav}</header>'
        f"<main>{body}</main></body></html>"
    )


def login(lang: str, csrf: str, *, error: str | None = None, name: str = "") -> str:
    w = WORDS[lang]
    other = "en" if lang == "fa" else "fa"
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<h1>{escape(w['sign_in'])}</h1>{alert}"
        f'<form method="post" action="/admin/login" class="card login">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<label for="name">{escape(w["user"])}</label>'
        f'<input id="name" name="name" autocomplete="username" dir="ltr" required maxlength="64"'
        f' value="{escape(name)}">'
        f'<label for="password">{escape(w["password"])}</label>'
        f'<input id="password" name="password" type="password" autocomplete="current-password" dir="ltr"'
        f' required maxlength="1024"><button type="submit">{escape(w["sign_in"])}</button></form>'
        f'<p><a href="?lang={other}" lang="{other}">{escape(w["language"])}</a></p>'
    )
    return layout(lang, w["sign_in"], body)


def error(lang: str, status: int, sentence: str) -> str:
    w = WORDS[lang]
    body = (
        f"<h1>{escape(w['error'])} {localise_digits(str(status), lang)}</h1>"
        f'<p role="alert">{escape(sentence)}</p><p><a href="/admin/">{escape(w["back"])}</a></p>'
    )
    return layout(lang, w["error"], body)


def _card(label: str, value: str) -> str:
    return (
        f'<div class="card stat"><p class="label">{escape(label)}</p>'
        f'<p class="value">{escape(value)}</p></div>'
    )


def _table(lang: str, caption: str, first: str, rows: Sequence[Row]) -> str:
    w = WORDS[lang]
    head = "".join(
        f'<th scope="col">{escape(w[k])}</th>'
        for k in (
            "visitors",
            "submissions",
            "new_leads",
            "without_visit",
            "duplicates",
            "rejected",
            "rate_limited",
            "verified",
        )
    )
    body = "".join(
        f'<tr><th scope="row">{escape(localise_digits(r.label, lang))}</th>'
        + "".join(
            f"<td>{number(v, lang)}</td>"
            for v in (
                r.visits,
                r.submissions,
                r.new_leads,
                r.new_leads_without_visit,
                r.duplicates,
                r.rejected_total,
                r.rate_limited,
                r.verified,
            )
        )
        + f"<td>{percent(r.conversion, lang)}</td></tr>"
        for r in rows
    )
    return (
        f'<details><summary>{escape(caption)}</summary><div class="scroll"><table><thead><tr>'
        f'<th scope="col">{escape(first)}</th>{head}<th scope="col">{escape(w["conversion"])}</th>'
        f"</tr></thead><tbody>{body}</tbody></table></div></details>"
    )


def overview(
    lang: str, user: str, csrf: str, *, days: Report, hours: Report, sources: Report, campaigns: Report
) -> str:
    w = WORDS[lang]

    def num(v: float) -> str:
        return number(v, lang)

    today = days.rows[-1] if days.rows else Row("")
    # Conversion counts only the leads that came with a counted visit; the others are shown apart.
    cards = "".join(
        (
            _card(f"{w['visitors']} · {w['today']}", number(today.visits, lang)),
            _card(f"{w['new_leads']} · {w['today']}", number(today.new_leads, lang)),
            _card(f"{w['without_visit']} · {w['today']}", number(today.new_leads_without_visit, lang)),
            _card(f"{w['conversion']} · {w['today']}", percent(today.conversion, lang)),
            _card(w["visitors"], number(days.total.visits, lang)),
            _card(w["new_leads"], number(days.total.new_leads, lang)),
            _card(w["without_visit"], number(days.total.new_leads_without_visit, lang)),
            _card(w["conversion"], percent(days.total.conversion, lang)),
        )
    )

    def series(rows: Sequence[Row]) -> list[tuple[str, str, list[float]]]:
        return [
            (w["visitors"], "s1", [r.visits or 0 for r in rows]),
            (w["with_visit"], "s2", [r.new_leads_with_visit for r in rows]),
            (w["without_visit"], "s3", [r.new_leads_without_visit for r in rows]),
        ]

    hour_labels = [r.label[-5:-3] for r in hours.rows]
    day_labels = [r.label[5:] for r in days.rows]
    body = (
        f'<h1>{escape(w["overview"])}</h1><section class="cards">{cards}</section>'
        f"<section><h2>{escape(w['today_by_hour'])}</h2>"
        + charts.columns(w["today_by_hour"], hour_labels, series(hours.rows), number=num)
        + _table(lang, w["data_table"], w["hour"], hours.rows)
        + f"</section><section><h2>{escape(w['by_day'])}</h2>"
        + charts.columns(w["by_day"], day_labels, series(days.rows), number=num)
        + _table(lang, w["data_table"], w["day"], days.rows)
        + f'</section><section class="pair"><div><h2>{escape(w["by_source"])}</h2>'
        + charts.bars(w["by_source"], [(r.label, r.new_leads) for r in sources.rows], number=num)
        + f"</div><div><h2>{escape(w['by_campaign'])}</h2>"
        + charts.bars(w["by_campaign"], [(r.label, r.new_leads) for r in campaigns.rows], number=num)
        + "</div></section>"
    )
    return layout(lang, w["overview"], body, user=user, csrf=csrf)


def _select(name: str, label: str, options: Sequence[tuple[str, str]], chosen: str | None, ident: str) -> str:
    opts = "".join(
        f'<option value="{escape(v)}"{" selected" if v == (chosen or "") else ""}>{escape(t)}</option>'
        for v, t in options
    )
    return f'<label for="{ident}">{escape(label)}</label><select id="{ident}" name="{name}">{opts}</select>'


def leads(
    lang: str,
    user: str,
    csrf: str,
    *,
    page: leadbook.Page,
    query: Mapping[str, str],
    tz: ZoneInfo,
    notice: str | None = None,
) -> str:
    w = WORDS[lang]
    statuses = [("", w["any"]), *((s, w["status_" + s]) for s in leadbook.STATUSES)]
    filters = (
        '<form method="get" action="/admin/leads" class="card filters">'
        + _select("status", w["status"], statuses, query.get("status"), "f-status")
        + "".join(
            f'<label for="f-{k}">{escape(w[k])}</label><input id="f-{k}" name="{k}" maxlength="128"'
            f' value="{escape(query.get(k, ""))}">'
            for k in ("source", "campaign")
        )
        + "".join(
            f'<label for="f-{k}">{escape(w[k])}</label><input id="f-{k}" name="{k}" type="date" dir="ltr"'
            f' value="{escape(query.get(k, ""))}">'
            for k in ("since", "until")
        )
        + f'<button type="submit">{escape(w["filter"])}</button></form>'
    )
    kept = {k: v for k, v in query.items() if k in ("status", "source", "campaign", "since", "until") and v}
    back = "/admin/leads" + ("?" + urlencode(kept) if kept else "")
    settable = [(s, w["status_" + s]) for s in leadbook.SETTABLE]
    rows = []
    for lead in page.rows:
        at: datetime = lead["first_submitted_at"]
        ident = str(lead["id"])
        rows.append(
            f'<tr><td dir="ltr">{escape(lead["phone"])}</td>'
            f'<td><span class="status {escape(lead["status"])}">'
            f"{escape(w.get('status_' + lead['status'], lead['status']))}</span></td>"
            f"<td>{escape(lead['source'] or '—')}</td><td>{escape(lead['utm_campaign'] or '—')}</td>"
            f'<td dir="ltr">{escape(localise_digits(f"{at.astimezone(tz):%Y-%m-%d %H:%M}", lang))}</td>'
            f'<td><form method="post" action="/admin/leads/{ident}/status" class="inline status-form">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<input type="hidden" name="back" value="{escape(back)}">'
            + _select("status", w["status"], settable, lead["status"], f"s-{ident}")
            + f'<button type="submit">{escape(w["change"])}</button></form></td></tr>'
        )
    heads = "".join(
        f'<th scope="col">{escape(w[k])}</th>'
        for k in ("phone", "status", "source", "campaign", "first_seen", "set_status")
    )
    table = (
        f'<div class="scroll"><table class="leads"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else f"<p>{escape(w['none'])}</p>"
    )
    more = ""
    if page.next_cursor:
        after = urlencode({**kept, "after": page.next_cursor})
        more = f'<a class="button" href="/admin/leads?{escape(after)}">{escape(w["next"])}</a>'
    if query.get("after"):
        more = f'<a href="{escape(back)}">{escape(w["first_page"])}</a> ' + more
    csv_query = escape("?" + urlencode(kept) if kept else "")
    csv = f'<a class="button" href="/admin/leads.csv{csv_query}">{escape(w["csv"])}</a>'
    alert = f'<p class="ok" role="status">{escape(notice)}</p>' if notice else ""
    body = (
        f'<h1>{escape(w["leads"])}</h1>{alert}{filters}<p class="actions">{csv}</p>{table}'
        f'<p class="actions">{more}</p>'
    )
    return layout(lang, w["leads"], body, user=user, csrf=csrf)


def query_of(args: Any) -> dict[str, str]:
    """The first value of each known query argument, capped in length."""
    return {
        k: str(args.get(k))[:256]
        for k in ("status", "source", "campaign", "since", "until", "after", "done")
        if args.get(k)
    }
