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

The folder may be writable by others (a Kubernetes emptyDir is 0777), so no name in it is trusted
to be what it seems: a temp file is created exclusively under a random name (mkstemp: O_EXCL,
which never follows a link) and given its mode through its descriptor, and the lock and version
files are opened with O_NOFOLLOW. A link planted under any name is never written, created or
chmodded through; rename replaces a link itself, not its target.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PAGE = "index.html"  # what nginx.conf's `location = /` tries
VERSION = ".version"
LOCK = ".lock"


_NO_LINKS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # O_NONBLOCK: a planted FIFO must not hang


def _open_regular(path: Path, flags: int) -> int:
    """A descriptor of the regular file at `path`, never through a link (OSError otherwise)."""
    fd = os.open(path, flags | _NO_LINKS, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return fd


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    path = folder / LOCK
    try:
        fd = _open_regular(path, os.O_RDWR | os.O_CREAT)
    except OSError:
        # Something else sits under the lock's name (a link, a FIFO): the lock is only ever a
        # plain empty file of ours, so remove whatever it is (unlink never follows a link) and
        # make it afresh; a second failure is raised.
        path.unlink(missing_ok=True)
        fd = _open_regular(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _recorded(folder: Path) -> int | None:
    try:
        fd = _open_regular(folder / VERSION, os.O_RDONLY)
    except OSError as exc:  # absent, or not a plain file (a planted link): no version recorded
        if exc.errno in (errno.ENOENT, errno.ELOOP, errno.EINVAL):
            return None
        raise
    try:
        return int(os.read(fd, 32))
    except ValueError:
        return None
    finally:
        os.close(fd)


def _replace(folder: Path, name: str, data: bytes) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            os.fchmod(file.fileno(), 0o644)  # nginx's workers run as another user
        os.replace(temp, folder / name)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
