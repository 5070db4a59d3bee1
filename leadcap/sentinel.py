"""A Sentinel-managed Redis named by a `redis+sentinel://` URL, parsed here and nowhere else.

    redis+sentinel://[[user]:password@]host[:port][,host[:port]…]/<master name>[/<db>][?options]

The hosts are the sentinels (port 26379 unless given); the user name and password are the
primary's and its replicas', and also the sentinels' unless `sentinel_password=` (and
`sentinel_username=`) say otherwise (`sentinel_password=` empty: the sentinels ask for none).
`wait_replicas=N` (default 1, 0 turns it off): the intake counts a submission as taken by Redis
only once N replicas hold it too (WAIT), so a failover cannot lose an accepted one; when fewer
answer in time, it takes the direct path to PostgreSQL instead. The settings check a URL with
`parse` (its errors never echo the URL: it holds passwords); the Redis store connects with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

SCHEME = "redis+sentinel"
DEFAULT_PORT = 26379
_OPTIONS = ("sentinel_username", "sentinel_password", "wait_replicas")


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """Where the sentinels are, which primary they watch, and how to log in to each."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    wait_replicas: int = 1


def is_sentinel(url: str) -> bool:
    return url.startswith(SCHEME + "://")


def parse(url: str) -> SentinelUrl:
    """The parts of a `redis+sentinel://` URL; ValueError (with a message free of the URL's
    text) when it is not one."""
    parts = urlsplit(url)
    if parts.scheme != SCHEME:
        raise ValueError(f"the scheme is not {SCHEME}")
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    user, colon, password = userinfo.partition(":")
    sentinels = tuple(_host(h) for h in hostlist.split(","))
    path = [p for p in parts.path.split("/") if p]
    if not 1 <= len(path) <= 2:
        raise ValueError("the path must be /<master name> or /<master name>/<db>")
    if len(path) == 2 and not path[1].isdigit():
        raise ValueError("the database after the master name must be a number")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        # not named: a mangled password can end up in the query
        raise ValueError(f"an option is none of {', '.join(_OPTIONS)}")
    wait = options.get("wait_replicas", "1")
    if not wait.isdigit():
        raise ValueError("wait_replicas must be a whole number")
    password_ = unquote(password) if colon else None
    return SentinelUrl(
        sentinels=sentinels,
        master=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(user) or None,
        password=password_,
        sentinel_username=options.get("sentinel_username") or (unquote(user) or None),
        sentinel_password=options.get("sentinel_password", password_) or None,
        wait_replicas=int(wait),
    )


def _host(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":") if not text.endswith("]") else (text, "", "")
    if not colon:
        host, port = text, str(DEFAULT_PORT)
    host = host.strip("[]")
    if not host:
        raise ValueError("a sentinel host is empty")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("a sentinel port is not a number from 1 to 65535")
    return host, int(port)
