"""The /admin/ pages as server-rendered HTML: every value escaped, no inline script or style.

Every number, date and phone number goes through formats.py, so the Persian page writes them
all in Persian digits and the Solar Hijri calendar, and times are in the admin's zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from html import escape
from typing import Any
from urllib.parse import urlencode

from leadcap.campaign import formats, leadbook
from leadcap.campaign.stats import LIMITED_BY, Report, Row
from web.admin import charts
from web.admin.filters import Filter
from web.admin.words import WORDS

ASSETS = "/admin/static/"


def number(value: float | None, lang: str) -> str:
    return formats.number(value, lang)


def percent(value: float | None, lang: str) -> str:
    return formats.percent(value, lang)


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
        f"<h1>{escape(w['error'])} {formats.digits(str(status), lang)}</h1>"
        f'<p role="alert">{escape(sentence)}</p><p><a href="/admin/">{escape(w["back"])}</a></p>'
    )
    return layout(lang, w["error"], body)


def https_needed(lang: str, sentence: str, address: str | None) -> str:
    """/admin/ over plain HTTP at a host that is not loopback: what to do instead of a form."""
    w = WORDS[lang]
    link = (
        f'<p><a href="{escape(address)}" dir="ltr">{escape(address)}</a></p>' if address is not None else ""
    )
    body = f'<h1>{escape(w["https_needed"])}</h1><p role="alert">{escape(sentence)}</p>{link}'
    return layout(lang, w["https_needed"], body)


def _card(label: str, value: str) -> str:
    return (
        f'<div class="card stat"><p class="label">{escape(label)}</p>'
        f'<p class="value">{escape(value)}</p></div>'
    )


def _table(lang: str, caption: str, first: str, rows: Sequence[Row], *, by: str) -> str:
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
        f'<tr><th scope="row">{escape(formats.period(r.label, by, lang))}</th>'
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


def _today(lang: str, today: date, zone: str) -> str:
    """Today's date in words and the zone every time on the page is in."""
    w = WORDS[lang]
    return (
        f'<p class="today">{escape(w["today_is"])}: <time datetime="{today.isoformat()}">'
        f"{escape(formats.long_day(today, lang))}</time> · {escape(w['times_in'])}"
        f' <bdi dir="ltr">{escape(zone)}</bdi></p>'
    )


def _interval(row: Row, lang: str) -> str:
    if row.interval is None:
        return escape(formats.NONE)
    low, high = row.interval
    return f"{escape(percent(low, lang))} {escape(WORDS[lang]['interval_to'])} {escape(percent(high, lang))}"


def _verdict(report: Report, lang: str) -> str:
    """One plain sentence: which variant converts better, or that the intervals overlap."""
    w = WORDS[lang]
    if len(report.rows) < 2:
        return escape(w["variants_too_few"])
    if report.better is None:
        return escape(w["variants_overlap"])
    return escape(w["variant_better"]).replace("{variant}", f"<bdi>{escape(report.better)}</bdi>")


def variants_section(lang: str, report: Report) -> str:
    """Conversion per variant of one campaign with its Wilson 95 % interval, and what it tells."""
    w = WORDS[lang]
    heads = "".join(
        f'<th scope="col">{escape(w[k])}</th>'
        for k in ("variant", "visitors", "new_leads", "with_visit", "conversion", "interval")
    )
    body = "".join(
        f'<tr><th scope="row"><bdi>{escape(r.label)}</bdi></th>'
        + "".join(f"<td>{number(v, lang)}</td>" for v in (r.visits, r.new_leads, r.new_leads_with_visit))
        + f"<td>{percent(r.conversion, lang)}</td><td>{_interval(r, lang)}</td></tr>"
        for r in report.rows
    )
    return (
        f'<section class="variants"><h2>{escape(w["variants"])}</h2>'
        f'<p class="verdict" role="status">{_verdict(report, lang)}</p>'
        f'<div class="scroll"><table><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table></div>'
        "</section>"
    )


def campaign_choice(lang: str, slug: str | None, slugs: Sequence[str]) -> str:
    """The overview's campaign filter: every campaign (the site's figures) or one of them."""
    w = WORDS[lang]
    options = [("", w["all_campaigns"]), *((s, s) for s in slugs)]
    return (
        '<form method="get" action="/admin/" class="card filters">'
        + _select("slug", w["slug"], options, slug, "o-slug")
        + f'<button type="submit">{escape(w["filter"])}</button></form>'
    )


def overview(
    lang: str,
    user: str,
    csrf: str,
    *,
    days: Report,
    hours: Report,
    sources: Report | None,
    campaigns: Report,
    today: date,
    utm_campaigns: Report | None = None,
    variants: Report | None = None,
    slug: str | None = None,
    slugs: Sequence[str] = (),
) -> str:
    """The figures of every campaign, or (`slug`) of one: then the source and UTM charts, counted
    for the site and not per campaign, are left out, and a campaign with variants gets its table
    of conversion per variant."""
    w = WORDS[lang]

    def num(v: float) -> str:
        return number(v, lang)

    last = days.rows[-1] if days.rows else Row("")
    # Conversion counts only the leads that came with a counted visit; the others are shown apart.
    cards = "".join(
        (
            _card(f"{w['visitors']} · {w['today']}", number(last.visits, lang)),
            _card(f"{w['new_leads']} · {w['today']}", number(last.new_leads, lang)),
            _card(f"{w['without_visit']} · {w['today']}", number(last.new_leads_without_visit, lang)),
            _card(f"{w['conversion']} · {w['today']}", percent(last.conversion, lang)),
            _card(w["visitors"], number(days.total.visits, lang)),
            _card(w["new_leads"], number(days.total.new_leads, lang)),
            _card(w["without_visit"], number(days.total.new_leads_without_visit, lang)),
            _card(w["conversion"], percent(days.total.conversion, lang)),
            # Who the rate limit turned away: visitors, carrier addresses at their shared
            # ceiling (LEADCAP_SHARED_IP_LIMIT may be too low), clients that never loaded the page.
            *(
                _card(w["limited_" + window], number((days.total.rate_limited_by or {}).get(window, 0), lang))
                for window in LIMITED_BY
            ),
        )
    )

    def series(rows: Sequence[Row]) -> list[tuple[str, str, list[float]]]:
        return [
            (w["visitors"], "s1", [r.visits or 0 for r in rows]),
            (w["with_visit"], "s2", [r.new_leads_with_visit for r in rows]),
            (w["without_visit"], "s3", [r.new_leads_without_visit for r in rows]),
        ]

    hour_labels = [formats.digits(r.label[11:13], lang) for r in hours.rows]
    day_labels = [formats.short_day(date.fromisoformat(r.label[:10]), lang) for r in days.rows]
    body = (
        f"<h1>{escape(w['overview'])}</h1>{_today(lang, today, days.timezone)}"
        + campaign_choice(lang, slug, slugs)
        + f'<section class="cards">{cards}</section>'
        f"<section><h2>{escape(w['today_by_hour'])}</h2>"
        + charts.columns(w["today_by_hour"], hour_labels, series(hours.rows), number=num)
        + _table(lang, w["data_table"], w["hour"], hours.rows, by="hour")
        + f"</section><section><h2>{escape(w['by_day'])}</h2>"
        + charts.columns(w["by_day"], day_labels, series(days.rows), number=num)
        + _table(lang, w["data_table"], w["day"], days.rows, by="day")
        + "</section>"
        + (variants_section(lang, variants) if variants is not None and variants.rows else "")
        + '<section class="pair">'
        + "".join(
            f"<div><h2>{escape(w[key])}</h2>"
            + charts.bars(w[key], [(r.label, r.new_leads) for r in report.rows], number=num)
            + "</div>"
            for key, report in (("by_campaign", campaigns), ("by_source", sources), ("by_utm", utm_campaigns))
            if report is not None
        )
        + "</section>"
    )
    return layout(lang, w["overview"], body, user=user, csrf=csrf)


def _field(ident: str, label: str, control: str, problem: str | None) -> str:
    """A label and its control as one piece that never wraps apart, with its problem after it."""
    pair = f'<span class="field"><label for="{ident}">{escape(label)}</label>{control}</span>'
    if not problem:
        return pair
    said = f'<span class="problem" id="{ident}-problem">{escape(problem)}</span>'
    return f'<span class="group">{pair}{said}</span>'


def _invalid(ident: str, problem: str | None) -> str:
    return f' aria-invalid="true" aria-describedby="{ident}-problem"' if problem else ""


def _select(
    name: str,
    label: str,
    options: Sequence[tuple[str, str]],
    chosen: str | None,
    ident: str,
    problem: str | None = None,
) -> str:
    opts = "".join(
        f'<option value="{escape(v)}"{" selected" if v == (chosen or "") else ""}>{escape(t)}</option>'
        for v, t in options
    )
    control = f'<select id="{ident}" name="{name}"{_invalid(ident, problem)}>{opts}</select>'
    return _field(ident, label, control, problem)


def _day_input(lang: str, name: str, shown: str, problem: str | None) -> str:
    """A day field: Solar Hijri digits typed as text in `fa` (browsers' date pickers are
    Gregorian), the browser's date picker in `en`."""
    w = WORDS[lang]
    ident = f"f-{name}"
    kind = (
        f' type="text" autocomplete="off" maxlength="32" placeholder="{escape(w["day_example"])}"'
        if lang == "fa"
        else ' type="date"'
    )
    control = (
        f'<input id="{ident}" name="{name}"{kind} dir="ltr" value="{escape(shown)}"'
        f"{_invalid(ident, problem)}>"
    )
    return _field(ident, w[name], control, problem)


def _phone(e164: str, lang: str, region: str) -> str:
    """The number as a visitor writes it, in a left-to-right isolate (an <a dir> is one), so its
    digit groups keep their order inside right-to-left text; the link dials it."""
    shown = formats.phone(e164, lang, region)
    return f'<a class="phone" dir="ltr" href="tel:{escape(e164)}">{escape(shown)}</a>'


def filter_form(lang: str, chosen: Filter) -> str:
    w = WORDS[lang]
    problems = {k: w[v] for k, v in chosen.problems.items()}
    statuses = [("", w["any"]), *((s, w["status_" + s]) for s in leadbook.STATUSES)]
    texts = "".join(
        _field(
            f"f-{k}",
            w[k],
            f'<input id="f-{k}" name="{k}" maxlength="128" value="{escape(chosen.typed.get(k, ""))}"'
            f"{_invalid(f'f-{k}', problems.get(k))}>",
            problems.get(k),
        )
        for k in ("source", "campaign", "slug")
    )

    def shown(name: str) -> str:  # a day understood is shown in the page's calendar; else as typed
        understood = chosen.days.get(name)
        if understood is None or name in chosen.problems:
            return chosen.typed.get(name, "")
        return formats.day(understood, lang)

    days = "".join(_day_input(lang, k, shown(k), problems.get(k)) for k in ("since", "until"))
    alert = f'<p class="error" role="alert">{escape(w["fix_filter"])}</p>' if problems else ""
    return (
        f'{alert}<form method="get" action="/admin/leads" class="card filters">'
        + _select(
            "status", w["status"], statuses, chosen.typed.get("status"), "f-status", problems.get("status")
        )
        + texts
        + days
        + f'<button type="submit">{escape(w["filter"])}</button></form>'
    )


def _consent(lead: Any, tz: tzinfo, lang: str) -> str:
    """The consent the lead last gave: its version's first 8 digits (the whole in the title, as the
    export writes it) and when; a dash when its campaign asked for none."""
    version, at = lead["consent_version"], lead["consent_at"]
    if not version or at is None:
        return "—"
    return (
        f'<abbr title="{escape(version)}"><code>{escape(version[:8])}</code></abbr> '
        f'<time datetime="{at.astimezone(tz).isoformat()}">{escape(formats.moment(at, tz, lang))}</time>'
    )


def leads(
    lang: str,
    user: str,
    csrf: str,
    *,
    page: leadbook.Page | None,
    chosen: Filter,
    after: str | None,
    tz: tzinfo,
    region: str,
    notice: str | None = None,
) -> str:
    """The leads table under its filter form; `page` is None when the filter has a problem."""
    w = WORDS[lang]
    kept = chosen.link()
    back = "/admin/leads" + ("?" + urlencode(kept) if kept else "")
    settable = [(s, w["status_" + s]) for s in leadbook.SETTABLE]
    rows = []
    for lead in page.rows if page else []:
        at: datetime = lead["first_submitted_at"]
        ident = str(lead["id"])
        rows.append(
            f'<tr id="lead-{ident}"><td>{_phone(lead["phone"], lang, region)}</td>'  # notifications link here
            f'<td><span class="status {escape(lead["status"])}">'
            f"{escape(w.get('status_' + lead['status'], lead['status']))}</span></td>"
            f"<td>{escape(lead['source'] or '—')}</td><td>{escape(lead['utm_campaign'] or '—')}</td>"
            f"<td>{escape(lead['campaign'])}</td>"
            f'<td><time datetime="{at.astimezone(tz).isoformat()}">{escape(formats.moment(at, tz, lang))}'
            "</time></td>"
            f"<td>{_consent(lead, tz, lang)}</td>"
            f'<td><form method="post" action="/admin/leads/{ident}/status" class="inline status-form">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<input type="hidden" name="back" value="{escape(back)}">'
            + _select("status", w["status"], settable, lead["status"], f"s-{ident}")
            + f'<button type="submit">{escape(w["change"])}</button></form>'
            f' <a class="erase" href="/admin/leads/{ident}/erase">{escape(w["erase"])}</a></td></tr>'
        )
    heads = "".join(
        f'<th scope="col">{escape(w[k])}</th>'
        for k in ("phone", "status", "source", "campaign", "slug", "first_seen", "consent", "set_status")
    )
    table = (
        f'<div class="scroll"><table class="leads"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else f"<p>{escape(w['none'])}</p>"
        if page
        else ""
    )
    more = ""
    if page and page.next_cursor:
        later = urlencode({**kept, "after": page.next_cursor})
        more = f'<a class="button" href="/admin/leads?{escape(later)}">{escape(w["next"])}</a>'
    if after:
        more = f'<a href="{escape(back)}">{escape(w["first_page"])}</a> ' + more
    csv_query = escape("?" + urlencode(kept) if kept else "")
    csv = f'<a class="button" href="/admin/leads.csv{csv_query}">{escape(w["csv"])}</a>' if page else ""
    alert = f'<p class="ok" role="status">{escape(notice)}</p>' if notice else ""
    body = (
        f'<h1>{escape(w["leads"])}</h1>{alert}{filter_form(lang, chosen)}<p class="actions">{csv}</p>{table}'
        f'<p class="actions">{more}</p>'
    )
    return layout(lang, w["leads"], body, user=user, csrf=csrf)


def erase(lang: str, user: str, csrf: str, *, lead_id: str, masked: str) -> str:
    """The erase confirmation: the number masked, a form that erases, a way back."""
    w = WORDS[lang]
    warning = escape(w["erase_warning"]).replace("{phone}", f'<bdi dir="ltr">{escape(masked)}</bdi>')
    body = (
        f"<h1>{escape(w['erase_title'])}</h1><p>{warning}</p>"
        f'<form method="post" action="/admin/leads/{escape(lead_id)}/erase" class="card">'
        f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<button type="submit" class="danger">{escape(w["erase_confirm"])}</button> '
        f'<a href="/admin/leads">{escape(w["cancel"])}</a></form>'
    )
    return layout(lang, w["erase_title"], body, user=user, csrf=csrf)


def query_of(args: Any) -> dict[str, str]:
    """The first value of each known query argument, capped in length."""
    return {
        k: str(args.get(k))[:256]
        for k in ("status", "source", "campaign", "slug", "since", "until", "after", "done", "erased")
        if args.get(k)
    }
