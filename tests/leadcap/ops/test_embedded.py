"""The embedded default is private to the user who starts it: folder and file modes, a password
on every store, and nothing changed outside the data folder (run as root, as this machine does)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pymongo
import pytest
import redis as sync_redis
from pymongo.errors import OperationFailure

from leadcap.ops import embedded
from leadcap.settings import Settings

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the system-user cases need root")


def without_password(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=netloc, query=""))


def modes(paths: list[Path]) -> dict[Path, tuple[int, int, int]]:
    return {p: (p.stat().st_mode, p.stat().st_uid, p.stat().st_gid) for p in paths}


@contextlib.contextmanager
def stores_in(data: Path) -> Iterator[embedded.EmbeddedStores]:
    with embedded.running(Settings(data_dir=data)) as (_, running):
        yield running
    shutil.rmtree(embedded.own_pg_folder(data.resolve()), ignore_errors=True)


def grants_others_nothing(folder: Path) -> list[str]:
    """Every path under `folder` that grants group or others anything (PostgreSQL's own
    cluster aside: initdb makes it 0700 itself)."""
    loose = []
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            if path.stat().st_mode & 0o077:
                loose.append(f"{path}: {stat.filemode(path.stat().st_mode)}")
    return loose


async def test_every_store_demands_its_password_and_the_folder_is_private(tmp_path: Path) -> None:
    # tmp_path's parents include /tmp/pytest-of-root (0700): under root, PostgreSQL's system user
    # cannot reach the data folder there, which was the case that opened root's folders before.
    data = tmp_path / "data"
    parents = list(data.parents)
    before = modes(parents)
    with stores_in(data) as running:
        urls = running.urls
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        for name in ("stores.json", "passwords.json", "valkey.conf", "postgres.log", "valkey.log"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
        assert grants_others_nothing(data) == []
        saved = json.loads((data / "stores.json").read_text())["urls"]
        assert saved == urls  # the other commands find the stores, passwords included
        secrets = json.loads((data / "passwords.json").read_text())
        assert set(secrets) == {"database", "redis", "mongo"}

        # PostgreSQL: refused without the password, served with it.
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
            await asyncpg.connect(without_password(urls["database"]), password="wrong")
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InterfaceError)):
            await asyncpg.connect(without_password(urls["database"]), password="")
        conn = await asyncpg.connect(urls["database"])
        assert await conn.fetchval("SELECT 1") == 1
        await conn.close()

        # Valkey: every command but AUTH is refused without it.
        port = urlsplit(urls["redis"]).port
        assert port
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(b"SET stolen 1\r\n")
            assert raw.recv(100).startswith(b"-NOAUTH")
        with sync_redis.Redis.from_url(urls["redis"]) as client:
            assert client.ping()

        # SecantusDB: its --auth, with a user made before it first listened.
        open_client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            without_password(urls["mongo"]), serverSelectionTimeoutMS=5000
        )
        with pytest.raises(OperationFailure) as refused:
            open_client["leadcap"]["leads"].find_one()
        assert refused.value.code == 13
        open_client.close()
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            urls["mongo"], serverSelectionTimeoutMS=5000
        )
        client["leadcap"]["probe"].insert_one({"ok": 1})
        assert client["leadcap"]["probe"].find_one({"ok": 1})
        client.close()
    assert modes(parents) == before


@as_root
def test_postgres_enters_a_reachable_data_folder_by_its_group_only(tmp_path: Path) -> None:
    # A folder every user may pass through (0711, as /tmp/x often is): the system user can reach
    # the data folder, so it keeps its files there and enters through the folder's group.
    outer = Path(tempfile.mkdtemp(prefix="leadcap-embedded-"))
    try:
        outer.chmod(0o711)
        data = outer / "data"
        before = modes(list(data.parents))
        child = embedded.start_postgres(data)
        try:
            st = data.stat()
            assert stat.S_IMODE(st.st_mode) == 0o710
            assert st.st_gid == embedded.pwd.getpwnam(embedded.PG_SYSTEM_USER).pw_gid
            assert child.files == data / "postgres"
            assert stat.S_IMODE((data / "passwords.json").stat().st_mode) == 0o600
            assert stat.S_IMODE((data / "postgres").stat().st_mode) == 0o700
            # Redis beside it keeps the 0710 PostgreSQL needs.
            redis_child = embedded.start_redis(data)
            redis_child.stop()
            assert stat.S_IMODE(data.stat().st_mode) == 0o710
        finally:
            child.stop()
        assert modes(list(data.parents)) == before
    finally:
        shutil.rmtree(outer)


@as_root
def test_a_data_folder_the_system_user_cannot_reach_keeps_postgres_apart(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    shut = tmp_path / "home"
    shut.mkdir(mode=0o700)
    data = shut / "data"
    before = modes([shut, *shut.parents])
    child = embedded.start_postgres(data)
    try:
        own = embedded.own_pg_folder(data.resolve())
        assert child.files == own / "postgres"
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert own.stat().st_uid == embedded.pwd.getpwnam(embedded.PG_SYSTEM_USER).pw_uid
        assert (own / "data-folder").read_text().strip() == str(data.resolve())
        said = capfd.readouterr().err
        assert [line for line in said.splitlines() if str(own) in line] == [
            f"leadcap: {embedded.PG_SYSTEM_USER} cannot reach {data.resolve()}: "
            f"the embedded PostgreSQL keeps its files in {own}"
        ]
        assert embedded.passwords(data)["database"] not in said
    finally:
        child.stop()
    # The same data folder finds the same cluster, and its password, on the next start.
    again = embedded.start_postgres(data)
    again.stop()
    assert urlsplit(again.url).password == urlsplit(child.url).password
    assert modes([shut, *shut.parents]) == before
    shutil.rmtree(embedded.own_pg_folder(data.resolve()))


async def test_a_cluster_made_with_trust_gets_a_password(tmp_path: Path) -> None:
    # What an older leadcap left behind: initdb --auth=trust, no passwords.json.
    child = embedded.start_postgres(tmp_path / "data")
    child.stop()
    assert child.files
    hba = child.files / "pg_hba.conf"
    hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
    (tmp_path / "data" / "passwords.json").unlink()
    again = embedded.start_postgres(tmp_path / "data")
    try:
        with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InterfaceError)):
            await asyncpg.connect(without_password(again.url), password="")
        conn = await asyncpg.connect(again.url)
        await conn.close()
    finally:
        again.stop()
        shutil.rmtree(embedded.own_pg_folder((tmp_path / "data").resolve()), ignore_errors=True)


@as_root
async def test_an_older_cluster_the_system_user_can_no_longer_reach_moves_with_its_rows() -> None:
    # The layout an older leadcap left under root: the cluster in the data folder, trust, no
    # passwords.json, and (once its parents are closed again) no way in for the system user.
    outer = Path(tempfile.mkdtemp(prefix="leadcap-embedded-"))
    data = outer / "data"
    try:
        outer.chmod(0o711)
        child = embedded.start_postgres(data)
        conn = await asyncpg.connect(child.url)
        await conn.execute("CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
        await conn.close()
        child.stop()
        assert child.files
        hba = child.files / "pg_hba.conf"
        hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
        (data / "passwords.json").unlink()
        outer.chmod(0o700)

        again = embedded.start_postgres(data)
        try:
            own = embedded.own_pg_folder(data.resolve())
            assert again.files == own / "postgres" and not (data / "postgres").exists()
            with pytest.raises((asyncpg.InvalidPasswordError, asyncpg.InterfaceError)):
                await asyncpg.connect(without_password(again.url), password="")
            conn = await asyncpg.connect(again.url)
            assert await conn.fetchval("SELECT n FROM kept") == 7
            await conn.close()
        finally:
            again.stop()
        assert stat.S_IMODE(outer.stat().st_mode) == 0o700
    finally:
        shutil.rmtree(outer)
        shutil.rmtree(embedded.own_pg_folder(data.resolve()), ignore_errors=True)


@as_root
def test_creating_the_system_user_is_said_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    name = f"leadcap-t{os.getpid()}"  # a user of its own: the real one may be in use by other runs
    monkeypatch.setattr(embedded, "PG_SYSTEM_USER", name)
    try:
        assert embedded._pg_user() == name
        assert embedded._pg_user() == name  # the second time it exists: nothing said
        assert capfd.readouterr().err.splitlines() == [
            f"leadcap: created system user {name}: the embedded PostgreSQL refuses to run as root"
        ]
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)
