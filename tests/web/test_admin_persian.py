"""The campaign view in Persian through the app `create_app()` builds, in process: Solar Hijri
dates and Persian digits on a known date, times in LEADCAP_TIMEZONE, phones as a visitor writes
them, date filters typed in either calendar (hostile ones answered with the form), the CSV's
byte-order mark, columns and zone, the admin's font, and `admin list-users` in the zone.

Its own database (leads seeded at known instants) and its own Redis database.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import jdatetime
import pytest

from leadcap.campaign import export
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.stores.postgres import Postgres
from leadcap.stores.postgres.migrate import migrate
from tests import inprocess, servers
from tests.servers import Stores, on_db
from tests.web.test_campaign_view import PASSWORD, add_user, set_cookies, sign_in, value

REDIS_DB = 15  # its own Redis database (each module that flushes one has its own)
TEHRAN = ZoneInfo("Asia/Tehran")
# 20:45 UTC on 20 March 2026 is 00:15 on Nowruz in Tehran (1 Farvardin 1405); in UTC it is still
# the last day of 1404, so a date written in the wrong zone changes even its year.
NOWRUZ = datetime(2026, 3, 20, 20, 45, tzinfo=UTC)
PHONE = "+989123456789"
FONT = b"wOF2 stand-in for the built subset"


@pytest.fixture(scope="module")
async def fa_db(stores: Stores) -> AsyncIterator[str]:
    url = await servers.create_database(stores.database)
    await migrate(url)
    postgres = await Postgres.open(url)
    ms = int(NOWRUZ.timestamp() * 1000)
    await postgres.leads.record(
        [
            Submission(id=uuid7(now_ms=ms), phone=PHONE, region="IR", source="بهار"),
            Submission(id=uuid7(now_ms=ms + 1000), phone="+989350000000", region="IR", source="=cmd|x"),
        ]
    )
    await postgres.close()
    yield url


@pytest.fixture(scope="module")
def fa_env(env: dict[str, str], fa_db: str, stores: Stores, run_dir: Path) -> dict[str, str]:
    build = run_dir / "admin-font-build"
    (build / "admin").mkdir(parents=True, exist_ok=True)
    (build / "admin" / "vazirmatn.woff2").write_bytes(FONT)
    return {
        **env,
        "LEADCAP_DATABASE_URL": fa_db,
        "LEADCAP_REDIS_URL": on_db(stores.redis, REDIS_DB),
        "LEADCAP_TIMEZONE": "Asia/Tehran",
        "LEADCAP_UI_DIST": str(build),
    }


@pytest.fixture(scope="module")
async def fa_stack(fa_env: dict[str, str]) -> AsyncIterator[inprocess.App]:
    """The app in this process (nothing here needs a process of its own)."""
    async with inprocess.running(fa_env) as app:
        add_user(fa_env, "ops")
        yield app


@pytest.fixture
async def signed_in(fa_stack: inprocess.App) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as ops, its session cookie sent by hand (Secure cookies, plain HTTP)."""
    async with fa_stack.client("127.33.0.1") as http:
        token = value(set_cookies(await sign_in(http, "ops", PASSWORD))["leadcap_admin"])
        http.headers["cookie"] = f"leadcap_admin={token}"
        yield http


class Text(HTMLParser):
    """The text a page shows (not its attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown(page: str) -> str:
    parser = Text()
    parser.feed(page)
    return " ".join(parser.parts)


async def test_leads_in_persian_show_solar_hijri_times_in_the_zone_and_phones_as_written(
    signed_in: httpx.AsyncClient,
) -> None:
    page = await signed_in.get("/admin/leads", params={"lang": "fa"})
    assert page.status_code == 200
    # The known instant, in Tehran, in the Solar Hijri calendar and Persian digits.
    assert '<time datetime="2026-03-21T00:15:00+03:30">۱۴۰۵/۰۱/۰۱ ۰۰:۱۵</time>' in page.text
    # The phone as a visitor writes it, in a left-to-right isolate, dialable.
    assert '<a class="phone" dir="ltr" href="tel:+989123456789">۰۹۱۲ ۳۴۵ ۶۷۸۹</a>' in page.text
    text = shown(page.text)
    assert not re.search(r"[0-9]", text), re.findall(r".{0,20}[0-9].{0,20}", text)
    # The day filters are text fields for Solar Hijri days (a browser's date picker is Gregorian).
    assert re.search(r'<input id="f-until" name="until" type="text" autocomplete="off"', page.text)
    assert '<span class="field"><label for="f-until">تا تاریخ</label><input id="f-until"' in page.text

    english = await signed_in.get("/admin/leads", params={"lang": "en"})
    assert '<time datetime="2026-03-21T00:15:00+03:30">2026-03-21 00:15</time>' in english.text
    assert ">+98 912 345 6789</a>" in english.text
    assert '<input id="f-until" name="until" type="date"' in english.text


async def test_day_filters_take_solar_hijri_days_in_persian_and_gregorian_in_english(
    signed_in: httpx.AsyncClient,
) -> None:
    async def phones(lang: str, **days: str) -> list[str]:
        page = await signed_in.get("/admin/leads", params={"lang": lang, **days})
        assert page.status_code == 200, shown(page.text)
        return re.findall(r'href="tel:([^"]+)"', page.text)

    # The lead is on 1 Farvardin 1405 in Tehran (its UTC day is 29 Esfand 1404).
    assert PHONE in await phones("fa", since="۱۴۰۵/۰۱/۰۱", until="۱۴۰۵/۰۱/۰۱")
    assert PHONE in await phones("fa", since="1405-1-1", until="١٤٠٥/٠١/٠١")
    assert PHONE not in await phones("fa", until="۱۴۰۴/۱۲/۲۹")
    assert PHONE not in await phones("fa", since="۱۴۰۵/۰۱/۰۲")
    assert PHONE in await phones("en", since="2026-03-21", until="2026-03-21")
    assert PHONE not in await phones("en", until="2026-03-20")
    # The form shows a day understood in the page's calendar, whatever calendar it came in.
    page = await signed_in.get("/admin/leads", params={"lang": "fa", "since": "2026-03-21"})
    assert 'value="۱۴۰۵/۰۱/۰۱"' in page.text
    assert "since=2026-03-21" in page.text  # links carry ISO days, read the same in any language


@pytest.mark.parametrize(
    ("hostile", "field"),
    [
        ({"since": "۱۴۰۴/۱۲/۳۰"}, "since"),  # 1404 has no 30 Esfand
        ({"until": "9999-12-31"}, "until"),  # its end is past the last day there is
        ({"since": "1405/13/01"}, "since"),
        ({"until": "'; DROP TABLE leads; --"}, "until"),
        ({"since": "1" * 300}, "since"),
        ({"until": "1405/09/08\x00"}, "until"),
        ({"since": "1405/09/10", "until": "1405/09/08"}, "until"),
        ({"status": "sold"}, "status"),
        ({"source": "a\x00b"}, "source"),
    ],
)
async def test_hostile_filters_get_the_form_back_with_a_clear_error(
    signed_in: httpx.AsyncClient, hostile: dict[str, str], field: str
) -> None:
    for path in ("/admin/leads", "/admin/leads.csv"):
        page = await signed_in.get(path, params={"lang": "fa", **hostile})
        assert page.status_code == 400, (path, hostile)
        assert page.headers["content-type"].startswith("text/html")
        assert '<p class="error" role="alert">فیلتر را درست کنید.</p>' in page.text
        invalid = rf'id="f-{field}"[^>]*aria-invalid="true" aria-describedby="f-{field}-problem"'
        assert re.search(invalid, page.text), page.text
        assert f'<span class="problem" id="f-{field}-problem">' in page.text
        assert "Traceback" not in page.text and "tel:" not in page.text
    english = await signed_in.get("/admin/leads", params={"lang": "en", "since": "1405/13/01"})
    assert english.status_code == 400 and "write it like 2026-11-29" in english.text


async def test_overview_in_persian_has_no_ascii_digit_and_todays_solar_hijri_date(
    signed_in: httpx.AsyncClient,
) -> None:
    page = await signed_in.get("/admin/", params={"lang": "fa"})
    assert page.status_code == 200
    text = shown(page.text)
    assert not re.search(r"[0-9]", text), re.findall(r".{0,20}[0-9].{0,20}", text)
    today = jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date())
    persian = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    assert (
        f"{today.day} {jdatetime.date.j_months_fa[today.month - 1]} {today.year}".translate(persian) in text
    )
    assert f"{today.year:04d}/{today.month:02d}/{today.day:02d}".translate(persian) in text  # the day table
    axis = re.findall(r'<text class="axis"[^>]*>([^<]*)</text>', page.text)
    assert axis and all(not re.search(r"[0-9]", label) for label in axis)
    assert "Asia/Tehran" in text
    english = await signed_in.get("/admin/", params={"lang": "en"})
    assert datetime.now(TEHRAN).date().isoformat() in shown(english.text)


async def test_csv_starts_with_a_byte_order_mark_and_has_the_exports_columns_in_the_zone(
    signed_in: httpx.AsyncClient,
) -> None:
    for lang, columns in (("fa", export.COLUMNS + export.JALALI_COLUMNS), ("en", export.COLUMNS)):
        download = await signed_in.get("/admin/leads.csv", params={"lang": lang, "since": "2026-03-21"})
        assert download.status_code == 200 and download.headers["content-type"] == "text/csv; charset=utf-8"
        assert download.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert tuple(rows[0]) == columns
        known = next(r for r in rows if r["phone"] == PHONE)
        assert known["first_submitted_at"] == "2026-03-21T00:15:00+03:30"
        assert known["source"] == "بهار"
        assert next(r for r in rows if r["phone"] != PHONE)["source"] == "'=cmd|x"
        if lang == "fa":
            assert known["first_submitted_jalali"] == "1405-01-01"


async def test_the_persian_pages_font_is_served_from_the_build(fa_stack: inprocess.App) -> None:
    async with fa_stack.client("127.33.0.2") as http:
        css = (await http.get("/admin/static/admin.css")).text
        assert '@font-face{font-family:Vazirmatn;src:url(vazirmatn.woff2) format("woff2")' in css
        font = await http.get("/admin/static/vazirmatn.woff2")
        assert font.status_code == 200 and font.headers["content-type"] == "font/woff2"
        assert font.content == FONT


async def test_list_users_shows_times_in_the_zone(
    fa_stack: inprocess.App, fa_env: dict[str, str], fa_db: str
) -> None:
    listed = servers.leadcap("admin", "list-users", env=fa_env)
    assert listed.returncode == 0, listed.stderr
    name, when = listed.stdout.strip().split("\t")
    conn = await asyncpg.connect(fa_db)
    try:
        created = await conn.fetchval("SELECT created_at FROM admin_users WHERE name = $1", name)
    finally:
        await conn.close()
    assert when == created.astimezone(TEHRAN).isoformat(timespec="seconds")
    assert when.endswith("+03:30")
    in_utc = servers.leadcap("admin", "list-users", env={**fa_env, "LEADCAP_TIMEZONE": "UTC"})
    assert in_utc.stdout.strip().endswith("+00:00")
