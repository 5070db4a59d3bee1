"""`leadcap export-leads` against seeded leads: columns, filters, formats, formula safety."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from leadcap import export
from leadcap.ids import uuid7
from leadcap.stores.postgres import Postgres
from leadcap.submission import Submission
from tests import factories, servers
from tests.servers import Stores


@pytest.fixture(scope="module")
async def seeded(stores: Stores) -> AsyncIterator[tuple[str, dict[str, Submission]]]:
    """A database of its own with five leads on known days."""
    from leadcap.migrate import migrate

    url = await servers.create_database(stores.database)
    await migrate(url)
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
    await postgres.record(list(leads.values()))
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
    assert first["first_submitted_at"] == "2026-11-01T10:00:00Z" and first["submissions"] == "1"
    assert first["carrier"] == "IR-MCI" and first["status"] == "new" and first["region"] == "IR"
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
