"""`leadcap export-leads` against seeded leads: columns, filters, formats, formula safety."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from leadcap import lead
from leadcap.campaign import export
from leadcap.ids import uuid7
from leadcap.intake.submission import Submission
from leadcap.stores.postgres import Postgres
from tests import factories, servers
from tests.servers import Stores


@pytest.fixture(scope="module")
async def seeded(stores: Stores) -> AsyncIterator[tuple[str, dict[str, Submission]]]:
    """A database of its own with five leads on known days."""

    url = await servers.migrated_database(stores.database)
    postgres = await Postgres.open(url)

    def at(day: str, **fields: object) -> Submission:
        ms = int(datetime.fromisoformat(day + "T10:00:00+00:00").timestamp() * 1000)
        phone = factories.e164(factories.mobile())
        return Submission(id=uuid7(now_ms=ms), phone=phone, region="IR", **fields)  # type: ignore[arg-type]

    leads = {
        "old": at("2026-11-01"),
        "yesterday": at("2026-11-28", source='=HYPERLINK("http://x")', utm={"campaign": "+1", "term": "@me"}),
        "yesterday2": at("2026-11-28", utm={"source": "-2", "content": "\tx"}),
        "today": at("2026-11-29", source="hero"),
        "contacted": at("2026-11-29"),
    }
    await postgres.leads.record(list(leads.values()))
    conn = await asyncpg.connect(url)
    await conn.execute("UPDATE leads SET status = 'contacted' WHERE phone = $1", leads["contacted"].phone)
    await conn.close()
    await postgres.close()
    yield url, leads


def run_export(stores: Stores, url: str, tmp_path: object, *args: str) -> str:
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url)  # type: ignore[arg-type]
    result = servers.leadcap("export-leads", *args, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not a terminal: no progress bar, nothing but data on stdout
    return result.stdout


async def test_csv_has_the_documented_columns(
    seeded: tuple[str, dict[str, Submission]], stores: Stores, tmp_path: object
) -> None:
    url, leads = seeded
    rows = list(csv.DictReader(io.StringIO(run_export(stores, url, tmp_path))))
    assert tuple(rows[0]) == export.COLUMNS
    assert len(rows) == 5
    first = rows[0]
    assert first["phone"] == leads["old"].phone and first["id"] == str(leads["old"].id)
    # LEADCAP_TIMEZONE's default, Asia/Tehran (+03:30), with its offset
    assert first["first_submitted_at"] == "2026-11-01T13:30:00+03:30" and first["submissions"] == "1"
    assert first["carrier"] == "Hamrah-e Aval" and first["status"] == "new" and first["region"] == "IR"
    assert uuid.UUID(first["id"]).version == 7


async def test_filters(seeded: tuple[str, dict[str, Submission]], stores: Stores, tmp_path: object) -> None:
    url, leads = seeded
    yesterday = run_export(
        stores, url, tmp_path, "--since", "2026-11-28", "--until", "2026-11-28", "--format", "jsonl"
    )
    phones = {json.loads(line)["phone"] for line in yesterday.splitlines()}
    assert phones == {leads["yesterday"].phone, leads["yesterday2"].phone}
    contacted = run_export(stores, url, tmp_path, "--status", "contacted", "--format", "jsonl")
    assert [json.loads(line)["phone"] for line in contacted.splitlines()] == [leads["contacted"].phone]
    iso = run_export(stores, url, tmp_path, "--since", "2026-11-29T09:00:00Z")
    assert len(list(csv.DictReader(io.StringIO(iso)))) == 2
    assert run_export(stores, url, tmp_path, "--since", "2026-11-28", "--count").strip() == "4"


def test_today_and_yesterday() -> None:
    today = datetime(2026, 11, 29, tzinfo=UTC).date()
    since = export.parse_when("yesterday", "--since", today=today)
    until = export.parse_when("yesterday", "--until", end_of_day=True, today=today)
    assert (since.isoformat(), until.isoformat()) == (
        "2026-11-28T00:00:00+00:00",
        "2026-11-29T00:00:00+00:00",
    )
    assert export.parse_when("today", "--since", today=today).date() == today


async def test_formula_cells_are_escaped_phone_is_not(
    seeded: tuple[str, dict[str, Submission]], stores: Stores, tmp_path: object
) -> None:
    url, leads = seeded
    rows = {r["phone"]: r for r in csv.DictReader(io.StringIO(run_export(stores, url, tmp_path)))}
    y, y2 = rows[leads["yesterday"].phone], rows[leads["yesterday2"].phone]
    assert y["source"] == '\'=HYPERLINK("http://x")'
    assert (y["utm_campaign"], y["utm_term"]) == ("'+1", "'@me")
    assert (y2["utm_source"], y2["utm_content"]) == ("'-2", "'\tx")
    assert y["phone"].startswith("+98")  # E.164, written as is


async def test_output_file_and_bad_options(
    seeded: tuple[str, dict[str, Submission]], stores: Stores, tmp_path: object
) -> None:
    url, _ = seeded
    target = tmp_path / "out.csv"  # type: ignore[operator]
    assert run_export(stores, url, tmp_path, "--output", str(target)) == ""
    assert target.read_text().count("\n") == 6
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url)  # type: ignore[arg-type]
    for args in (("--format", "xml"), ("--since", "last week"), ("--status", "sold")):
        result = servers.leadcap("export-leads", *args, env=env)
        assert result.returncode == 2 and args[0] in result.stderr and "Traceback" not in result.stderr


async def test_bom_starts_the_csv_for_excel_and_is_refused_for_jsonl(
    seeded: tuple[str, dict[str, Submission]], stores: Stores, tmp_path: Path
) -> None:
    url, _leads = seeded
    target = tmp_path / "excel.csv"
    assert run_export(stores, url, tmp_path, "--bom", "--calendar", "jalali", "--output", str(target)) == ""
    written = target.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf" + b"id,phone,")  # the mark once, then the header
    rows = list(csv.DictReader(io.StringIO(written.decode("utf-8-sig"))))
    assert tuple(rows[0]) == export.COLUMNS + export.JALALI_COLUMNS and len(rows) == 5
    assert rows[0]["first_submitted_at"] == "2026-11-01T13:30:00+03:30"  # the export's zone rule
    assert run_export(stores, url, tmp_path, "--bom").startswith("\ufeffid,phone,")  # stdout too
    assert not run_export(stores, url, tmp_path).startswith("\ufeff")  # only when asked

    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url)
    refused = servers.leadcap(
        "export-leads", "--bom", "--format", "jsonl", "--output", str(tmp_path / "x"), env=env
    )
    assert refused.returncode == 2 and "--bom" in refused.stderr and "Traceback" not in refused.stderr
    assert refused.stdout == "" and not (tmp_path / "x").exists()


def only_database(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """An environment with nothing but LEADCAP_DATABASE_URL, and a data folder no `serve` uses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADCAP_")}
    return {**env, "LEADCAP_DATABASE_URL": url, "LEADCAP_DATA_DIR": str(data_dir), **extra}


async def test_export_needs_only_the_database_url(
    seeded: tuple[str, dict[str, Submission]], tmp_path: Path
) -> None:
    url, _ = seeded
    env = only_database(url, tmp_path / "data")
    result = servers.leadcap("export-leads", "--format", "jsonl", env=env)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5
    counted = servers.leadcap("export-leads", "--count", env=env)
    assert (counted.returncode, counted.stdout.strip()) == (0, "5"), counted.stderr
    assert not (tmp_path / "data").exists()  # nothing embedded was started or looked for


async def test_export_in_production_needs_only_the_database_url(
    seeded: tuple[str, dict[str, Submission]], tmp_path: Path
) -> None:
    url, _ = seeded
    env = only_database(url, tmp_path / "data", LEADCAP_ENV="production")
    result = servers.leadcap("export-leads", "--format", "jsonl", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert len(result.stdout.splitlines()) == 5
    counted = servers.leadcap("export-leads", "--count", env=env)
    assert (counted.returncode, counted.stdout.strip()) == (0, "5"), counted.stderr
    # The URL it does read is still required there.
    del env["LEADCAP_DATABASE_URL"]
    missing = servers.leadcap("export-leads", env=env)
    assert missing.returncode == 78 and missing.stdout == ""
    assert missing.stderr.splitlines() == [
        "leadcap: configuration error: LEADCAP_DATABASE_URL is required when LEADCAP_ENV=production"
    ]


async def test_output_is_private_and_written_only_when_complete(
    seeded: tuple[str, dict[str, Submission]], tmp_path: Path
) -> None:
    url, _ = seeded
    target = tmp_path / "leads.csv"
    ok = servers.leadcap("export-leads", "--output", str(target), env=only_database(url, tmp_path))
    assert ok.returncode == 0, ok.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().count("\n") == 6

    down = only_database("postgresql://postgres@127.0.0.1:9/leads", tmp_path)
    fresh = tmp_path / "fresh" / "leads.csv"
    fresh.parent.mkdir()
    failed = servers.leadcap("export-leads", "--output", str(fresh), env=down)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert list(fresh.parent.iterdir()) == []  # no file, no half-written leftover
    for fmt in export.FORMATS:  # to stdout: not even the header, which would leave a header-only file
        piped = servers.leadcap("export-leads", "--format", fmt, env=down)
        assert (piped.returncode, piped.stdout) == (1, ""), piped.stderr
        assert len(piped.stderr.splitlines()) == 1 and "Traceback" not in piped.stderr
    before = target.read_bytes()
    again = servers.leadcap("export-leads", "--output", str(target), env=down)
    assert again.returncode == 1 and target.read_bytes() == before  # the last good export stays


async def test_time_zone_and_jalali_calendar(
    seeded: tuple[str, dict[str, Submission]], stores: Stores, tmp_path: Path
) -> None:
    url, _leads = seeded
    utc = list(csv.DictReader(io.StringIO(run_export(stores, url, tmp_path, "--tz", "UTC"))))
    assert utc[0]["first_submitted_at"] == "2026-11-01T10:00:00Z"
    # A time without an offset is read in the zone: 12:00 in Tehran is 08:30 UTC, before the
    # leads of the 29th (10:00 UTC); 12:00 UTC is after them.
    since_noon = ("--since", "2026-11-29T12:00:00", "--count")
    assert run_export(stores, url, tmp_path, *since_noon).strip() == "2"
    assert run_export(stores, url, tmp_path, *since_noon, "--tz", "UTC").strip() == "0"
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url, LEADCAP_TIMEZONE="UTC")
    assert servers.leadcap("export-leads", *since_noon, env=env).stdout.strip() == "0"

    jalali = list(csv.DictReader(io.StringIO(run_export(stores, url, tmp_path, "--calendar", "jalali"))))
    assert tuple(jalali[0]) == export.COLUMNS + export.JALALI_COLUMNS
    assert jalali[0]["first_submitted_jalali"] == "1405-08-10"  # 2026-11-01
    assert jalali[-1]["last_submitted_jalali"] == "1405-09-08"  # 2026-11-29
    lines = run_export(stores, url, tmp_path, "--calendar", "jalali", "--format", "jsonl").splitlines()
    assert json.loads(lines[0])["first_submitted_jalali"] == "1405-08-10"


def test_today_is_the_day_of_the_time_zone() -> None:
    tehran = ZoneInfo("Asia/Tehran")
    since = export.parse_when("yesterday", "--since", tz=tehran, today=date(2026, 11, 29))
    until = export.parse_when("yesterday", "--until", tz=tehran, end_of_day=True, today=date(2026, 11, 29))
    assert since.astimezone(UTC).isoformat() == "2026-11-27T20:30:00+00:00"
    assert until.astimezone(UTC).isoformat() == "2026-11-28T20:30:00+00:00"
    now_in_tehran = datetime.now(tehran).date()
    assert export.parse_when("today", "--since", tz=tehran).date() == now_in_tehran


@pytest.mark.parametrize(
    "args",
    [
        ("--tz", "Mars/Olympus"),
        ("--tz", "../../etc/passwd"),
        ("--calendar", "persian"),
        ("--format", "xml"),
        ("--status", "sold"),
        ("--since", "last week"),
    ],
)
def test_bad_options_are_usage_errors(args: tuple[str, str], tmp_path: Path) -> None:
    result = servers.leadcap(
        "export-leads", *args, env=only_database("postgresql://x@127.0.0.1:9/x", tmp_path)
    )
    assert result.returncode == 2, result.stderr
    assert args[0] in result.stderr and "Traceback" not in result.stderr


def test_help_lists_the_choices(tmp_path: Path) -> None:
    shown = servers.leadcap("export-leads", "--help", env={"COLUMNS": "200"}, cwd=tmp_path).stdout
    for choice in (*export.FORMATS, *lead.STATUSES, "jalali"):
        assert choice in shown


async def test_campaign_column_and_filter(stores: Stores, tmp_path: Path) -> None:
    """The same phone in two campaigns is two rows, each with its slug; --campaign picks one;
    `stats --by campaign` groups by slug, `--campaign` keeps one campaign's figures."""
    url = await servers.migrated_database(stores.database)
    postgres = await Postgres.open(url)
    phone = factories.e164(factories.mobile())
    try:
        await postgres.leads.record(
            [
                Submission(id=uuid7(), phone=phone, region="IR", utm={"campaign": "fall"}),
                Submission(id=uuid7(), phone=phone, region="IR", campaign="spring"),
                Submission(id=uuid7(), phone=phone, region="IR", campaign="spring"),
            ]
        )
    finally:
        await postgres.close()
    rows = list(csv.DictReader(io.StringIO(run_export(stores, url, tmp_path))))
    assert sorted((r["phone"], r["campaign"], r["submissions"]) for r in rows) == [
        (phone, "default", "1"),
        (phone, "spring", "2"),
    ]
    spring = run_export(stores, url, tmp_path, "--campaign", "spring", "--format", "jsonl")
    assert [json.loads(line)["campaign"] for line in spring.splitlines()] == ["spring"]
    assert run_export(stores, url, tmp_path, "--campaign", "nothing", "--count").strip() == "0"
    env = servers.base_env(stores, tmp_path, LEADCAP_DATABASE_URL=url)  # type: ignore[arg-type]
    refused = servers.leadcap("export-leads", "--campaign", "../x", env=env)
    assert refused.returncode == 2 and "--campaign" in refused.stderr

    def stats(*args: str) -> dict[str, object]:
        done = servers.leadcap("stats", "--json", "--since", "today", *args, env=env)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    by_slug = stats("--by", "campaign")
    assert {r["label"]: r["new_leads"] for r in by_slug["rows"]} == {"default": 1, "spring": 1}  # type: ignore[index, union-attr]
    assert {r["label"]: r["submissions"] for r in by_slug["rows"]} == {"default": 1, "spring": 2}  # type: ignore[index, union-attr]
    by_utm = stats("--by", "utm_campaign")
    assert {r["label"]: r["new_leads"] for r in by_utm["rows"]} == {"fall": 1, "—": 1}  # type: ignore[index, union-attr]
    one = stats("--by", "day", "--campaign", "spring")
    assert one["total"]["submissions"] == 2 and one["total"]["duplicates"] is None  # type: ignore[index]
    assert stats("--by", "campaign", "--campaign", "spring")["total"]["new_leads"] == 1  # type: ignore[index]
    crossed = servers.leadcap("stats", "--by", "source", "--campaign", "spring", env=env)
    assert crossed.returncode == 2 and "--campaign" in crossed.stderr
