"""The campaign view's figures as leadcap/campaign/stats.py computes them (pure: no store)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from leadcap.campaign import stats
from web.admin import views


def row(**figures: int) -> stats.Row:
    return stats.Row("2026-11-28", **figures)  # type: ignore[arg-type]


def test_conversion_counts_only_leads_that_came_with_a_visit() -> None:
    """Two visitors, ten new leads of which one came from a counted view: 50 %, not 500 %."""
    figures = row(visits=2, new_leads=10, new_leads_with_visit=1).as_dict()
    assert figures["conversion"] == 0.5
    assert (figures["new_leads_with_visit"], figures["new_leads_without_visit"]) == (1, 9)


def test_conversion_never_passes_one() -> None:
    """A visitor who leaves three numbers, or a HyperLogLog that counts a little low."""
    assert row(visits=2, new_leads=3, new_leads_with_visit=3).conversion == 1.0
    assert row(visits=0, new_leads=3, new_leads_with_visit=0).conversion is None


def test_admin_overview_shows_the_leads_without_a_visit_apart() -> None:
    tz = ZoneInfo("Asia/Tehran")
    since, until = datetime(2026, 11, 28, tzinfo=tz), datetime(2026, 11, 29, tzinfo=tz)

    def report(by: str) -> stats.Report:
        rows = [row(visits=2, new_leads=15, new_leads_with_visit=3)]
        made = stats.Report(by, since, until, "Asia/Tehran", rows)
        stats._add_totals(made, rows)
        made.total.visits = 2
        return made

    page = views.overview(
        "en", "ops", "csrf", days=report("day"), hours=report("hour"), sources=report("source"),
        campaigns=report("campaign"), today=since.date(),
    )  # fmt: skip
    assert "750.0%" not in page and "150.0%" not in page
    assert '<p class="value">100.0%</p>' in page  # 3 leads with a visit, 2 visitors: capped
    assert 'New leads with no visit (API)</p><p class="value">12</p>' in page
    assert page.count('class="s3"') == 2  # one column per chart: today by hour, by day


def test_rate_limited_answers_are_told_apart_by_the_window_that_refused() -> None:
    """A visitor's own limit, its address's shared ceiling, a cookie-less client's address; a
    refusal written before visitors existed (no code) was an address's."""
    report = stats.Report("day", datetime.now(UTC), datetime.now(UTC), "UTC", [])
    one, two = (
        stats.Row("a", rate_limited=0, rate_limited_by={}),
        stats.Row("b", rate_limited=0, rate_limited_by={}),
    )
    for window, n in (("visitor", 2), ("shared", 5), ("address", 1), ("", 3)):
        stats._add_outcome(one, "rate_limited", window, n)
    stats._add_outcome(two, "rate_limited", "shared", 1)
    stats._add_totals(report, [one, two])
    assert one.rate_limited == 11 and one.rate_limited_by == {"visitor": 2, "shared": 5, "address": 4}
    assert report.total.as_dict()["rate_limited"] == 12
    assert report.total.as_dict()["rate_limited_by"] == {"visitor": 2, "shared": 6, "address": 4}
    page = views.overview(
        "en", "ops", "csrf", days=report, hours=report, sources=report, campaigns=report,
        today=datetime.now(UTC).date(),
    )  # fmt: skip
    assert 'Rate-limited · per visitor</p><p class="value">2</p>' in page
    assert 'Rate-limited · shared address</p><p class="value">6</p>' in page
    assert 'Rate-limited · no visitor cookie</p><p class="value">4</p>' in page
