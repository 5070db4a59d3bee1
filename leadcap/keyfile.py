"""Keys generated once into the data folder, for a laptop or a test run that set none.

Production names its keys (LEADCAP_VERIFY_KEY, LEADCAP_VISITOR_KEY); elsewhere the first process
that needs one writes a random key into LEADCAP_DATA_DIR with mode 0600 and every later process
using that folder reads the same key, so the web processes of one instance agree.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def generated(folder: Path, name: str) -> bytes:
    """The key in `folder/name`, written first if it is not there yet. The file appears whole or
    not at all (written aside, then linked into place), so a process starting beside the one
    that writes it never reads a half-written or empty key."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / name
    if not path.exists():
        aside = folder / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_hex(32).encode())
        try:
            os.link(aside, path)  # fails if another process linked its own first: theirs wins
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return path.read_bytes().strip()
