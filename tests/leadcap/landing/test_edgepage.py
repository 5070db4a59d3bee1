"""The page nginx serves from LEADCAP_EDGE_DIR: never older than the last flush's version."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from leadcap.campaign.visits import seconds_left_in_hour
from leadcap.landing import edgepage


def page(folder: Path) -> bytes | None:
    path = folder / edgepage.PAGE
    return path.read_bytes() if path.exists() else None


def test_a_newer_page_replaces_the_old_one(tmp_path: Path) -> None:
    assert edgepage.write(tmp_path, 1, b"one")
    assert edgepage.write(tmp_path, 2, b"two")
    assert edgepage.write(tmp_path, 2, b"two")  # every process writes its copy
    assert page(tmp_path) == b"two"
    assert edgepage.recorded_version(tmp_path) == 2
    assert oct((tmp_path / edgepage.PAGE).stat().st_mode & 0o777) == oct(0o644)  # nginx reads it
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_an_older_page_written_late_is_removed_not_served(tmp_path: Path) -> None:
    """A process that read version 1 just before a flush finishes writing after another wrote 2."""
    edgepage.write(tmp_path, 2, b"two")
    assert not edgepage.write(tmp_path, 1, b"one")
    assert page(tmp_path) is None  # nginx proxies: correct, only slower
    assert edgepage.recorded_version(tmp_path) == 2
    assert edgepage.write(tmp_path, 2, b"two")
    assert page(tmp_path) == b"two"


def test_a_flush_retires_the_page_before_announcing(tmp_path: Path) -> None:
    edgepage.write(tmp_path, 1, b"one")
    edgepage.retire(tmp_path, 2)
    assert page(tmp_path) is None
    assert not edgepage.write(tmp_path, 1, b"one")  # a stale writer cannot bring it back
    assert page(tmp_path) is None
    assert edgepage.write(tmp_path, 2, b"two")
    assert page(tmp_path) == b"two"


def test_a_flush_may_record_a_lower_version_after_redis_lost_its_count(tmp_path: Path) -> None:
    edgepage.write(tmp_path, 7, b"seven")
    edgepage.retire(tmp_path, 1)
    assert edgepage.write(tmp_path, 1, b"one")
    assert page(tmp_path) == b"one"


def test_withdraw_leaves_no_page(tmp_path: Path) -> None:
    edgepage.write(tmp_path, 1, b"one")
    edgepage.withdraw(tmp_path)
    assert page(tmp_path) is None


def test_a_counted_browser_stays_counted_until_the_hour_ends_in_the_zone() -> None:
    tehran = ZoneInfo("Asia/Tehran")  # UTC+03:30: its hours start at half past UTC's
    assert seconds_left_in_hour(datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC), tehran) == 1800
    assert seconds_left_in_hour(datetime(2026, 12, 1, 10, 29, 59, tzinfo=UTC), tehran) == 1
    assert seconds_left_in_hour(datetime(2026, 12, 1, 10, 30, 0, tzinfo=UTC), tehran) == 3600
    assert seconds_left_in_hour(datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC), ZoneInfo("UTC")) == 3600


def test_planted_links_are_never_followed(tmp_path: Path) -> None:
    """A folder others can write to (a Kubernetes emptyDir is 0777): links planted under the
    names a writer uses never make it write, create or chmod a file elsewhere."""
    folder = tmp_path / "edge"
    folder.mkdir()
    folder.chmod(0o777)
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    victim.chmod(0o600)
    absent = tmp_path / "absent"
    for name in (edgepage.PAGE, edgepage.VERSION):  # the temp names a writer used to choose
        (folder / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    (folder / edgepage.LOCK).symlink_to(absent)  # opening it with O_CREAT would create `absent`

    assert edgepage.write(folder, 1, b"one")
    edgepage.retire(folder, 2)
    assert edgepage.write(folder, 2, b"two")

    assert victim.read_bytes() == b"keep me"
    assert oct(victim.stat().st_mode & 0o777) == oct(0o600)
    assert not absent.exists() and not absent.is_symlink()
    assert page(folder) == b"two" and edgepage.recorded_version(folder) == 2
    assert not (folder / edgepage.PAGE).is_symlink() and not (folder / edgepage.VERSION).is_symlink()
    assert oct((folder / edgepage.PAGE).stat().st_mode & 0o777) == oct(0o644)


def test_a_planted_version_link_is_not_read_through(tmp_path: Path) -> None:
    """`.version` linked to another file (or a FIFO, which would block a plain open) reads as
    no version; the next write replaces the link, not its target."""
    victim = tmp_path / "victim"
    victim.write_text("99")
    folder = tmp_path / "edge"
    folder.mkdir()
    (folder / edgepage.VERSION).symlink_to(victim)
    assert edgepage.recorded_version(folder) is None
    assert edgepage.write(folder, 1, b"one")
    assert victim.read_text() == "99" and edgepage.recorded_version(folder) == 1
    (folder / edgepage.VERSION).unlink()
    os.mkfifo(folder / edgepage.VERSION)
    assert edgepage.recorded_version(folder) is None


def test_temp_names_are_not_predictable(tmp_path: Path) -> None:
    """Each write's temp file is made exclusively under a fresh random name: none is left, and a
    file planted under any fixed name is untouched."""
    planted = tmp_path / f".{edgepage.PAGE}.{os.getpid()}.tmp"
    planted.write_bytes(b"planted")
    for version in range(1, 4):
        assert edgepage.write(tmp_path, version, b"page %d" % version)
    assert planted.read_bytes() == b"planted"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == [planted.name]
