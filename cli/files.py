"""Files a command writes whole or not at all: `leadcap export-leads --output` and `leadcap init`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from leadcap.errors import LeadcapError


@contextlib.contextmanager
def written_aside(path: Path, mode: int = 0o600, *, replace: bool = True) -> Iterator[TextIO]:
    """A text stream that becomes `path`, with `mode` from its first byte, only if the block
    completes. Without `replace` an existing `path` is never replaced (FileExistsError): the file
    is linked into place, which fails on one, rather than checked and then written."""
    try:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise LeadcapError(f"cannot write {path}: {exc.strerror}") from None
    part = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            os.fchmod(out.fileno(), mode)
            yield out
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(part, path)
        else:
            os.link(part, path)
    except FileExistsError:
        raise
    except OSError as exc:
        raise LeadcapError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        part.unlink(missing_ok=True)
