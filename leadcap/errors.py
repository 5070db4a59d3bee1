"""The one error family, each class carrying the contract's `code` (and `field` where it has one).

    LeadcapError
    ├── ConfigError            bad setting; commands exit 78 (EX_CONFIG)
    ├── UsageError             bad command-line flag; commands exit 2 (Click's usage status)
    ├── AlreadyServing         another `leadcap serve` runs embedded stores on the data folder
    ├── RequestError           the client's fault; web/errors.py picks the status
    │   ├── InvalidBody            invalid_body
    │   ├── BodyTooLarge           body_too_large
    │   ├── UnsupportedMediaType   unsupported_media_type
    │   ├── NotFound               not_found
    │   ├── MethodNotAllowed       method_not_allowed
    │   ├── RateLimited            rate_limited (carries retry_after)
    │   ├── ForbiddenOrigin        forbidden_origin: posted from another site's page
    │   ├── InvalidCredentials     invalid_credentials (an /admin/ sign-in refused)
    │   ├── CsrfRejected           csrf_failed (an /admin/ form without its session's token)
    │   ├── HttpsRequired          https_required (/admin/ over plain HTTP to a host not loopback)
    │   ├── Unauthorized           unauthorized: a read API request without a live key
    │   ├── Forbidden              forbidden: a read API key without the scope it needs
    │   ├── InvalidQuery           invalid_query: a query string parameter the read API cannot use
    │   ├── UnknownCampaign        unknown_campaign: no such campaign (a form's slug unknown or archived)
    │   ├── InvalidCode            invalid_code (carries attempts_left)
    │   ├── CodeExpired            code_expired: unknown, expired or used
    │   ├── TooManyAttempts        too_many_attempts: the code is dead
    │   └── PhoneError             field = "phone"
    │       ├── MissingPhone           missing_phone
    │       ├── InvalidPhone           invalid_phone
    │       ├── NotMobile              not_mobile
    │       └── RegionNotAllowed       region_not_allowed
    ├── SmsError               a provider did not send (carries kind: invalid_number, no_credit,
    │                          provider_down, rejected); never reaches a visitor as an error
    └── StoreError             a store failed or timed out (carries the store's name)
        └── Unavailable            unavailable: no durable path right now (carries retry_after)

Stores translate driver exceptions into StoreError at the edge, so nothing above them
catches asyncpg's or redis's own classes.
"""

from __future__ import annotations


class LeadcapError(Exception):
    code = "internal"
    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(LeadcapError):
    code = "config"

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable


class UsageError(LeadcapError):
    """A command-line option with a value the command cannot use (not a configuration error)."""

    code = "usage"

    def __init__(self, option: str, problem: str) -> None:
        super().__init__(f"{option} {problem}")
        self.option = option


class AlreadyServing(LeadcapError):
    """Another `leadcap serve` runs the embedded stores of this data folder (carries its pid)."""

    code = "already_serving"

    def __init__(self, pid: int | None, folder: str) -> None:
        who = f"(pid {pid}) " if pid else ""
        super().__init__(
            f"another `leadcap serve` {who}already runs on {folder}; stop it,"
            " or give this one its own LEADCAP_DATA_DIR"
        )
        self.pid = pid


class RequestError(LeadcapError):
    pass


class InvalidBody(RequestError):
    code = "invalid_body"


class BodyTooLarge(RequestError):
    code = "body_too_large"


class UnsupportedMediaType(RequestError):
    code = "unsupported_media_type"


class NotFound(RequestError):
    code = "not_found"


class MethodNotAllowed(RequestError):
    code = "method_not_allowed"


class RateLimited(RequestError):
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, window: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.window = window  # the intake's window that refused it: visitor, shared or address


class ForbiddenOrigin(RequestError):
    code = "forbidden_origin"


class InvalidCredentials(RequestError):
    code = "invalid_credentials"


class CsrfRejected(RequestError):
    code = "csrf_failed"


class HttpsRequired(RequestError):
    code = "https_required"


class Unauthorized(RequestError):
    code = "unauthorized"


class Forbidden(RequestError):
    code = "forbidden"


class InvalidQuery(RequestError):
    code = "invalid_query"

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter} {problem}")
        self.parameter = parameter
        self.problem = problem


class UnknownCampaign(RequestError):
    code = "unknown_campaign"


class InvalidCode(RequestError):
    code = "invalid_code"

    def __init__(self, message: str, *, attempts_left: int) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class CodeExpired(RequestError):
    code = "code_expired"


class TooManyAttempts(RequestError):
    code = "too_many_attempts"


class PhoneError(RequestError):
    field = "phone"


class MissingPhone(PhoneError):
    code = "missing_phone"


class InvalidPhone(PhoneError):
    code = "invalid_phone"


class NotMobile(PhoneError):
    code = "not_mobile"


class RegionNotAllowed(PhoneError):
    code = "region_not_allowed"


class SmsError(LeadcapError):
    code = "sms_failed"
    KINDS = ("invalid_number", "no_credit", "provider_down", "rejected")

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"sms {kind}: {detail}")
        self.kind = kind


class StoreError(LeadcapError):
    code = "unavailable"

    def __init__(
        self, store: str, reason: str, *, transient: bool = True, message: str | None = None
    ) -> None:
        # `message` replaces the operator's "store: reason" where the error is shown to a visitor.
        super().__init__(message or f"{store}: {reason}")
        self.store = store
        self.reason = reason
        # False when retrying cannot help (the data or the query is wrong, not the connection).
        self.transient = transient


class Unavailable(StoreError):
    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__("intake", message, message=message)
        self.retry_after = retry_after
