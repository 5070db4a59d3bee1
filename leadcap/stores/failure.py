"""What kind of failure a store error was, in one word a stranger may read.

Drivers' messages name hosts, ports, users and databases; a public health report must not. Each
failure is reduced to a category by the exception classes the drivers raise (this is the one
place outside each store's module that knows them): `timeout`, `refused`, `auth`, else `error`.
"""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import redis.exceptions as redis_errors
from pymongo import errors as mongo_errors

TIMEOUT = "timeout"
REFUSED = "refused"
AUTH = "auth"
NOT_CONFIGURED = "not configured"
ERROR = "error"

_AUTH: tuple[type[BaseException], ...] = (
    asyncpg.InvalidAuthorizationSpecificationError,  # includes InvalidPasswordError
    redis_errors.AuthenticationError,
    redis_errors.AuthenticationWrongNumberOfArgsError,
    redis_errors.AuthorizationError,
)
_MONGO_AUTH_CODES = {11, 13, 18}  # UserNotFound, Unauthorized, AuthenticationFailed
_TIMEOUT: tuple[type[BaseException], ...] = (
    TimeoutError,
    redis_errors.TimeoutError,
    mongo_errors.NetworkTimeout,  # includes WaitQueueTimeoutError
    mongo_errors.ExecutionTimeout,
    asyncpg.QueryCanceledError,
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and those it was raised from or during (stores wrap driver errors)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _mongo_selection(exc: mongo_errors.ServerSelectionTimeoutError) -> str:
    # PyMongo gives up on server selection with one error whatever happened to the connections;
    # what did happen is only in its text (read here, never passed on).
    text = str(exc).lower()
    if "refused" in text:
        return REFUSED
    if "auth" in text:
        return AUTH
    return TIMEOUT


def category(exc: BaseException) -> str:
    """`timeout`, `refused`, `auth` or `error`: the kind of a store failure, and nothing more."""
    for link in _chain(exc):
        if isinstance(link, _AUTH):
            return AUTH
        if isinstance(link, mongo_errors.OperationFailure) and link.code in _MONGO_AUTH_CODES:
            return AUTH
        if isinstance(link, redis_errors.ResponseError) and str(link).startswith(("NOAUTH", "WRONGPASS")):
            return AUTH
        if isinstance(link, ConnectionRefusedError):
            return REFUSED
        if isinstance(link, mongo_errors.ServerSelectionTimeoutError):
            return _mongo_selection(link)
        if isinstance(link, _TIMEOUT):
            return TIMEOUT
    return ERROR
