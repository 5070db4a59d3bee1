"""The landing page as a file that nginx serves `GET /` from (LEADCAP_EDGE_DIR), kept in step
with `flush-cache` so that its promise holds through the edge as well.

nginx reads `index.html` from this folder on every request (no open_file_cache) and proxies to
leadcap when it is absent, so an absent file is always correct, only slower. Web processes write
the page they serve whenever they reload it; `flush-cache` retires the old file before it
announces a new version. Writers can race (several processes and replicas share the folder, and
a process may finish writing an old page just after a flush), so every change happens under one
lock on the folder and a version file keeps the rule: a page older than the recorded version is
never written, and its writer removes the file instead. Files are replaced by rename, so nginx
never reads half a page.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAGE = "index.html"  # what nginx.conf's `location = /` tries
VERSION = ".version"
LOCK = ".lock"


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recorded(folder: Path) -> int | None:
    try:
        return int((folder / VERSION).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _replace(folder: Path, name: str, data: bytes) -> None:
    temp = folder / f".{name}.{os.getpid()}.tmp"
    temp.write_bytes(data)
    temp.chmod(0o644)  # nginx's workers run as another user
    os.replace(temp, folder / name)


def recorded_version(folder: Path) -> int | None:
    """The version of the page in the folder (or of the flush that retired it), if any."""
    return _recorded(folder)


def write(folder: Path, version: int, body: bytes) -> bool:
    """Put `body`, the page of landing `version`, where nginx reads it, unless a newer version is
    recorded: then remove the file (nginx proxies). Return whether the page was written."""
    with _locked(folder):
        recorded = _recorded(folder)
        if recorded is not None and version < recorded:
            (folder / PAGE).unlink(missing_ok=True)
            return False
        try:
            _replace(folder, PAGE, body)
            _replace(folder, VERSION, str(version).encode())
        except OSError:
            (folder / PAGE).unlink(missing_ok=True)  # an old page must not outlive a failed write
            raise
        return True


def withdraw(folder: Path) -> None:
    """Remove the page: nginx proxies `GET /` until a process writes it again."""
    with _locked(folder):
        (folder / PAGE).unlink(missing_ok=True)


def retire(folder: Path, version: int) -> None:
    """Before `version` is announced: remove the page and record `version`, so that only a page
    of `version` or newer can be written from now on. `flush-cache` is the authority on the
    version, so it may record a lower one (after Redis lost its data, the count starts again)."""
    with _locked(folder):
        (folder / PAGE).unlink(missing_ok=True)
        _replace(folder, VERSION, str(version).encode())
