"""Structured logs: one JSON object per line on stderr, the request id on every line, and no
phone number in full, whoever wrote the message."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
from datetime import UTC, datetime

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Seven or more digits, possibly with a leading + and the separators people type: a phone
# number in any shape (Persian and Arabic-Indic digits included), inside any message. Not when
# glued to letters or hyphenated hex, so ids (UUIDs, stream ids) stay readable in the logs.
_PHONE = re.compile(r"(?<![\w-])\+?[0-9۰-۹٠-٩](?:[\s\-.()]{0,2}[0-9۰-۹٠-٩]){6,}(?![\w-])")


def mask_phone(text: str) -> str:
    """Keep a number recognisable for support (its start and last two digits), never whole."""
    digits = [c for c in text if c.isdigit()]
    if len(digits) < 7:
        return text
    head = "+" if text.startswith("+") else ""
    return f"{head}{''.join(digits[:4])}{'*' * (len(digits) - 6)}{''.join(digits[-2:])}"


def scrub(message: str) -> str:
    """`message` with every phone-number-like run masked."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), message)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": request_id.get(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


def configure(level: str) -> None:
    """Send every logger (ours, Sanic's, Taskiq's) through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server", "sanic.websockets", "taskiq"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
