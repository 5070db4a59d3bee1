"""Phone verification: a one-time code by SMS, checked against an HMAC kept in Redis.

The invariant: the lead is captured durably BEFORE any code goes out (the intake has queued it
with `verify: true`, so the worker writes it as `unverified`); a failed SMS, a spent budget or
Redis going away only ever degrade the answer to "captured, not verified".

    start(submission, clients) ─► a new token (its hash held beside the phone) ─► budgets (one
                                 Lua round trip: phone/hour, phone/day, the client's, all)
                               ─► code hash + cooldown (one pipelined round trip)
                               ─► provider.send, bounded by LEADCAP_SMS_TIMEOUT
    verify(id, code, token)   ─► verify_take.lua (the token, then one try, atomically)
                               ─► constant-time compare
                               ─► PostgreSQL: the lead becomes `verified` (the lead.verified
                                  event belongs in that same transaction: LeadStore.mark_verified)
    resend(id, token, clients) ─► the token ─► cooldown (SET NX) ─► the same as start

The token: a lead's id is no secret (a duplicate submission answers it to anyone), so the first
202, and only it, carries a token; verify and resend without it are NotFound and spend no try, no
cooldown and no SMS. It is checked before anything is counted: inside verify_take.lua for a try,
before the cooldown's SET NX for a resend.

Redis keys (leadcap/keys.py): `vf:<id>` holds the phone, the submission and the token's SHA-256
for an hour (so a visitor may resend, and so verify can create the lead if the worker has not
yet; once verified only the token's hash stays, so a used code answers 410, not 404),
`vf:<id>:code` holds only the HMAC and the tries and expires with the code, `vf:<id>:wait` is
the cooldown.

Why the web tier sends, not the worker: the 202 must say whether the code went out, and the
visitor waits for the SMS anyway. The provider call is bounded (LEADCAP_SMS_TIMEOUT, default
2 s): past it the answer is `available: false` and the lead is still captured.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from leadcap import keyfile, keys
from leadcap.errors import (
    CodeExpired,
    ConfigError,
    InvalidCode,
    NotFound,
    RateLimited,
    SmsError,
    StoreError,
    TooManyAttempts,
)
from leadcap.groupcommit import GroupCommit
from leadcap.intake.submission import Submission
from leadcap.logs import mask_phone
from leadcap.settings import RateLimit, Settings
from leadcap.stores.postgres import Postgres
from leadcap.stores.redis import Redis
from leadcap.verification import codes, sms
from leadcap.verification.sms.http import Client as SmsClient

log = logging.getLogger(__name__)
PER_PHONE = ((3, 3600), (10, 86400))  # the contract's fixed caps: 3 an hour, 10 a day
KEY_FILE = "verify.key"
SENDS_AT_ONCE = 16
# After this many provider_down failures in a row, sends are skipped for PROVIDER_PAUSE_S: during
# an outage every POST would otherwise wait out LEADCAP_SMS_TIMEOUT for nothing.
PROVIDER_DOWN_TRIP = 3
PROVIDER_PAUSE_S = 5.0
LOG_EVERY_S = 10.0  # a spent budget or a paused provider is logged at most this often per process
WRITE_TIMEOUT_S = 5.0  # a verify waits this long for PostgreSQL, then answers 503 (code kept)
BUDGET_NAMES = ("phone_hour", "phone_day")  # then the client's budgets by their own names, then "global"
# The client's budgets of one send: (name, bucket, limit). The web tier decides them: the client
# address's (`ip`), or a visitor's own (`visitor`) and its address's visitors together (`shared_ip`).
ClientBudgets = Sequence[tuple[str, str, RateLimit]]
NOT_PENDING = "There is no verification pending for this lead."
HELD_FOR_RESEND = ("phone", "region", "submission")  # dropped once verified; the token's hash stays


@dataclass(frozen=True, slots=True)
class Sent:
    """What the 202 says about the code: it went out (and when it expires / may be resent), or not;
    and, in a lead's first 202 only, the token its code step needs."""

    available: bool
    expires_in: int = 0
    resend_in: int = 0
    token: str | None = None

    def body(self) -> dict[str, object]:
        verification: dict[str, object] = (
            {"expires_in": self.expires_in, "resend_in": self.resend_in}
            if self.available
            else {"available": False}
        )
        if self.token is not None:
            verification["token"] = self.token
        return {"status": "verification_sent" if self.available else "queued", "verification": verification}


NOT_SENT = Sent(available=False)


@dataclass(frozen=True, slots=True)
class Verified:
    id: str
    phone: str

    def body(self) -> dict[str, object]:
        return {"id": self.id, "status": "verified", "phone": self.phone}


def load_key(settings: Settings) -> bytes:
    """The HMAC key: LEADCAP_VERIFY_KEY, or (outside production) one generated once into the
    data folder with mode 0600, shared by every process that uses that folder."""
    if settings.verify_key:
        return settings.verify_key.encode()
    if settings.production:
        raise ConfigError(
            "LEADCAP_VERIFY_KEY", "is required with LEADCAP_VERIFY=sms when LEADCAP_ENV=production"
        )
    return keyfile.generated(Path(settings.data_dir), KEY_FILE)


class Verifier:
    """Sends, resends and checks codes. One per process, built by Services when LEADCAP_VERIFY=sms."""

    def __init__(
        self,
        settings: Settings,
        *,
        redis: Redis,
        postgres: Postgres,
        key: bytes,
    ) -> None:
        self.settings = settings
        self.store = redis.verification  # its slice of Redis: verifications, codes, SMS budgets
        self.postgres = postgres
        self.key = key
        # One pooled aiohttp client for every send, its connections kept alive (a TLS handshake per
        # send would cost a real provider's round trips), opened lazily on the serving loop. At most
        # SENDS_AT_ONCE sends are in flight per process; the rest wait on the semaphore, inside the
        # same LEADCAP_SMS_TIMEOUT. httpx, used before, took 70 % of the web process's CPU with every
        # POST sending (py-spy, bench/verify.py); see leadcap/verification/sms/http.py.
        self.client = SmsClient(timeout_s=settings.sms_timeout_s, max_connections=SENDS_AT_ONCE)
        self._sending = asyncio.Semaphore(SENDS_AT_ONCE)
        # Verified leads are group-committed: concurrent verifications share one transaction (one
        # fsync) instead of one each, as the worker does for submissions (bench/verify.py).
        self._verified: GroupCommit[Submission] = GroupCommit(postgres.leads.mark_verified, max_batch=256)
        self.provider = sms.make(settings, self.client)
        self.ttl_ms = settings.verify_code_ttl_s * 1000
        self.resend_ms = settings.verify_resend_s * 1000
        self._down_in_a_row = 0
        self._paused_until = 0.0
        self._logged_at: dict[str, float] = {}
        # The web tier's metrics hook (leadcap never imports web): (provider, outcome).
        self.on_send: Callable[[str, str], None] = lambda provider, outcome: None

    async def close(self) -> None:
        await self.client.close()

    # -- sending -----------------------------------------------------------------------------

    async def start(self, submission: Submission, clients: ClientBudgets) -> Sent:
        """Send the first code for a freshly queued submission, with the lead's token, whether the
        code went out or not (so that a resend stays possible); never raises."""
        sid = str(submission.id)
        token = codes.new_token()
        hold = {**_hold(submission), "t": codes.token_digest(token)}
        try:
            await self.store.hold_verification(keys.verification(sid), hold, keys.VERIFY_HOLD_S)
        except StoreError as exc:
            log.warning("verification not stored, lead captured unverified: %s", exc.reason)
            return dataclasses.replace(NOT_SENT, token=token)
        sent = await self._send(sid, submission.phone, submission.region, clients)
        return dataclasses.replace(sent, token=token)

    async def resend(self, submission_id: str, token: str | None, clients: ClientBudgets) -> Sent:
        """A new code for a pending verification, for the holder of its token; raise NotFound
        (nothing pending, or not that token: no cooldown started, nothing sent), or RateLimited
        before resend_in. The token stays the same, so the answer carries none."""
        held = await self._held(submission_id)
        if held is None or not _same_token(held["token"], token):
            raise NotFound(NOT_PENDING)
        wait_key = keys.verification_wait(submission_id)
        if (
            self.resend_ms
            and (left_ms := await self.store.start_cooldown(wait_key, self.resend_ms)) is not None
        ):
            retry = max(1, -(-left_ms // 1000))
            raise RateLimited(f"Please wait {retry} seconds before asking for a new code.", retry_after=retry)
        return await self._send(submission_id, held["phone"], held["region"], clients, cooldown_set=True)

    async def _send(
        self, sid: str, phone: str, region: str, clients: ClientBudgets, *, cooldown_set: bool = False
    ) -> Sent:
        """Spend the budgets, store the code's HMAC, hand the code to the provider; never raises."""
        allowed = self.settings.allowed_regions
        if allowed is not None and region not in allowed:  # a second lock: intake refused them already
            self.on_send(self.provider.name, "region_not_allowed")
            return NOT_SENT
        if time.monotonic() < self._paused_until:
            self.on_send(self.provider.name, "provider_paused")
            self._log_now("paused", "sms provider paused after repeated failures; leads captured unverified")
            return NOT_SENT
        member = f"{sid}:{secrets.token_hex(4)}"
        spent = await self._spend(member, phone, clients)
        if spent is not None:
            self.on_send(self.provider.name, f"budget_{spent}")
            self._log_now(f"budget_{spent}", f"sms budget {spent} spent; leads captured unverified")
            return NOT_SENT
        code = codes.new_code()
        code_key = keys.verification_code(sid)
        try:
            await self.store.store_code(
                code_key,
                codes.digest(self.key, sid, code),
                self.ttl_ms,
                (keys.verification_wait(sid), self.resend_ms)
                if self.resend_ms and not cooldown_set
                else None,
            )
        except StoreError as exc:
            log.warning("code not stored: %s", exc.reason)
            await self._refund(member, phone, clients)
            return NOT_SENT
        try:
            async with asyncio.timeout(self.settings.sms_timeout_s), self._sending:
                await self.provider.send(phone, code)
        except (SmsError, TimeoutError) as exc:
            kind = exc.kind if isinstance(exc, SmsError) else "provider_down"
            self.on_send(self.provider.name, kind)
            self._down_in_a_row = self._down_in_a_row + 1 if kind == "provider_down" else 0
            if self._down_in_a_row >= PROVIDER_DOWN_TRIP:
                self._paused_until = time.monotonic() + PROVIDER_PAUSE_S
            log.warning("sms to %s not sent (%s); lead captured unverified", mask_phone(phone), kind)
            await self._forget(code_key, sid)
            await self._refund(member, phone, clients)
            return NOT_SENT
        self.on_send(self.provider.name, "sent")
        self._down_in_a_row = 0
        return Sent(True, expires_in=self.settings.verify_code_ttl_s, resend_in=self.settings.verify_resend_s)

    def _log_now(self, what: str, message: str) -> None:
        """Log `message` unless the same `what` was logged less than LOG_EVERY_S ago."""
        now = time.monotonic()
        if now - self._logged_at.get(what, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged_at[what] = now
            log.warning(message)

    def _budgets(self, phone: str, clients: ClientBudgets) -> tuple[list[str], list[str], list[int]]:
        """Every budget of one send: names (for a refusal), keys, and limit and window pairs."""
        (hour_n, hour_s), (day_n, day_s) = PER_PHONE
        total = self.settings.sms_budget
        names = [*BUDGET_NAMES, *(name for name, _, _ in clients), "global"]
        budget_keys = [
            *keys.sms_phone_budgets(phone),
            *(keys.sms_rate("ip", bucket) for _, bucket, _ in clients),
            keys.SMS_ALL,
        ]
        limits = [hour_n, hour_s, day_n, day_s]
        for _, _, limit in clients:
            limits += [limit.limit, limit.window_s]
        limits += [total.limit, total.window_s]
        return names, budget_keys, limits

    async def _spend(self, member: str, phone: str, clients: ClientBudgets) -> str | None:
        """Take one send from every budget; the name of the spent one, if any. Redis away: spent."""
        names, budget_keys, limits = self._budgets(phone, clients)
        args: list[Any] = [member]
        for i in range(0, len(limits), 2):
            args += [limits[i], limits[i + 1] * 1000]
        try:
            ok, which = await self.store.spend_sms(budget_keys, args)
        except StoreError as exc:
            log.warning("sms budgets unreadable: %s", exc.reason)
            return "unavailable"
        if ok:
            return None
        return names[which - 1]

    async def _refund(self, member: str, phone: str, clients: ClientBudgets) -> None:
        """A send that did not happen costs no budget."""
        _, budget_keys, _ = self._budgets(phone, clients)
        with contextlib.suppress(StoreError):  # else the window forgets it within the hour anyway
            await self.store.refund_sms(budget_keys, member)

    async def _forget(self, code_key: str, sid: str) -> None:
        with contextlib.suppress(StoreError):
            await self.store.forget(code_key, keys.verification_wait(sid))

    # -- the 202 of a duplicate --------------------------------------------------------------

    async def state(self, submission_id: str) -> Sent:
        """What the first answer's verification looks like now (for a duplicate): nothing is sent."""
        try:
            code_ms, dead, wait_ms = await self.store.code_state(
                keys.verification_code(submission_id), keys.verification_wait(submission_id)
            )
        except StoreError:
            return NOT_SENT
        if code_ms <= 0 or dead:
            return NOT_SENT
        return Sent(True, expires_in=-(-code_ms // 1000), resend_in=max(0, -(-wait_ms // 1000)))

    # -- checking ----------------------------------------------------------------------------

    async def verify(self, submission_id: str, typed: object, token: str | None) -> Verified:
        """Check a typed code for the holder of the lead's token; on success the lead is
        `verified` in PostgreSQL.

        Raises NotFound (no such verification, or not its token: no try is spent), InvalidCode
        (with attempts_left), CodeExpired (expired or used), TooManyAttempts (the fifth wrong
        code killed it), StoreError.
        """
        sent = codes.read_token(token)
        if sent is None:  # cannot be a token of ours: no need to ask Redis
            raise NotFound(NOT_PENDING)
        code_key = keys.verification_code(submission_id)
        verdict, stored, tries = await self.store.take_code(
            code_key, keys.verification(submission_id), codes.token_digest(sent), codes.MAX_TRIES
        )
        if verdict == "stranger":
            raise NotFound(NOT_PENDING)
        if verdict == "dead":
            raise TooManyAttempts("Too many wrong codes. Ask for a new code.")
        if verdict == "gone":
            raise CodeExpired("This code has expired or was already used. Ask for a new code.")
        code = codes.read(typed)
        if code is not None and codes.matches(self.key, submission_id, code, stored):
            held = await self._held(submission_id)
            if held is None:  # the hold outlives every code; only a flushed Redis gets here
                raise CodeExpired("This code has expired or was already used. Ask for a new code.")
            # PostgreSQL first: if it fails, the code is still there to be typed again (503). A
            # write still retrying after the answer lands later, and a second try is idempotent.
            try:
                async with asyncio.timeout(WRITE_TIMEOUT_S):
                    await self._verified.submit(Submission.from_message(held["submission"]))
            except TimeoutError:
                raise StoreError("postgres", "verifying a lead timed out") from None
            await self.store.close_verification(  # a used code is gone, and so is the phone
                keys.verification(submission_id),
                HELD_FOR_RESEND,
                code_key,
                keys.verification_wait(submission_id),
            )
            return Verified(submission_id, held["phone"])
        left = codes.MAX_TRIES - tries
        if left <= 0:
            await self.store.kill_code(code_key)
            raise TooManyAttempts("Too many wrong codes. Ask for a new code.")
        raise InvalidCode(f"That code is not right. {left} tries left.", attempts_left=left)

    async def _held(self, submission_id: str) -> dict[str, Any] | None:
        """The pending verification (phone, region, submission, token hash), or None when there is
        none (never made, expired, or already verified)."""
        held = await self.store.held_verification(keys.verification(submission_id))
        if not all(field in held for field in HELD_FOR_RESEND):
            return None
        return {
            "phone": held["phone"],
            "region": held["region"],
            "submission": orjson.loads(held["submission"]),
            "token": held.get("t", ""),
        }


def _same_token(digest: str, token: str | None) -> bool:
    """Whether `token` is the one whose hash the verification holds."""
    sent = codes.read_token(token)
    return sent is not None and bool(digest) and hmac.compare_digest(codes.token_digest(sent), digest)


def _hold(submission: Submission) -> dict[str, str]:
    return {
        "phone": submission.phone,
        "region": submission.region,
        "submission": orjson.dumps(submission.to_message()).decode(),
    }
